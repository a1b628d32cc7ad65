#include "server/signature/standard_webhooks_verifier.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/signature/codec.h"

namespace hookguard {
namespace {

using v1::SIGNATURE_RESULT_MALFORMED;
using v1::SIGNATURE_RESULT_MISMATCH;
using v1::SIGNATURE_RESULT_MISSING;
using v1::SIGNATURE_RESULT_STALE;
using v1::SIGNATURE_RESULT_VALID;

// The published Standard Webhooks test vector (the reference libraries'
// tests, e.g. svix-webhooks' php/tests/WebhookTest.php testSignFunctionWorks),
// also recomputed with `openssl dgst -sha256 -mac HMAC -macopt hexkey:...`.
constexpr char kSecretBase64[] = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kMsgId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr char kTimestamp[] = "1614265330";
constexpr char kPayload[] = R"({"test": 2432232314})";
constexpr char kSignature[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const absl::Time kSignedAt = absl::FromUnixSeconds(1614265330);

std::string Key() { return *DecodeBase64(kSecretBase64); }

v1::HttpRequest Request(std::string signature, std::string id = kMsgId,
                        std::string timestamp = kTimestamp, std::string body = kPayload) {
  v1::HttpRequest r;
  r.set_body(std::move(body));
  auto& h = *r.mutable_headers();
  if (!signature.empty()) h["webhook-signature"] = signature;
  if (!id.empty()) h["webhook-id"] = id;
  if (!timestamp.empty()) h["webhook-timestamp"] = timestamp;
  return r;
}

std::unique_ptr<const StandardWebhooksVerifier> Make(std::vector<SecretKey> keys) {
  auto v = StandardWebhooksVerifier::Create(StandardWebhooksScheme{}, std::move(keys));
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *std::move(v) : nullptr;
}

TEST(StandardWebhooksVerifier, VerifiesThePublishedTestVector) {
  auto v = Make({{"main", Key()}});
  const VerifyOutcome out = v->Verify(Request(kSignature), kSignedAt).value();
  EXPECT_EQ(out.result, SIGNATURE_RESULT_VALID) << out.detail;
  EXPECT_EQ(out.key_id, "main");
  EXPECT_EQ(out.message_id, kMsgId);
  EXPECT_EQ(out.timestamp_unix, 1614265330);
}

TEST(StandardWebhooksVerifier, FindsEachResult) {
  auto v = Make({{"main", Key()}});
  const std::string good = kSignature;
  struct Case {
    const char* name;
    v1::HttpRequest request;
    v1::SignatureResult result;
  };
  const Case cases[] = {
      {"one of several entries", Request("v1,bm9wZQ== " + good), SIGNATURE_RESULT_VALID},
      {"other versions skipped", Request("v1a,c2lnbmVk " + good), SIGNATURE_RESULT_VALID},
      {"unpadded base64", Request(good.substr(0, good.size() - 1)), SIGNATURE_RESULT_VALID},
      {"header names in upper case",
       [] {
         v1::HttpRequest r;
         r.set_body(kPayload);
         (*r.mutable_headers())["Webhook-Signature"] = kSignature;
         (*r.mutable_headers())["Webhook-Id"] = kMsgId;
         (*r.mutable_headers())["Webhook-Timestamp"] = kTimestamp;
         return r;
       }(),
       SIGNATURE_RESULT_VALID},
      {"no signature", Request(""), SIGNATURE_RESULT_MISSING},
      {"no id", Request(good, ""), SIGNATURE_RESULT_MALFORMED},
      {"no timestamp", Request(good, kMsgId, ""), SIGNATURE_RESULT_MALFORMED},
      {"timestamp not digits", Request(good, kMsgId, "1614265330.5"), SIGNATURE_RESULT_MALFORMED},
      {"no v1 entry", Request("v2,abcd"), SIGNATURE_RESULT_MALFORMED},
      {"v1 entry not base64", Request("v1,***"), SIGNATURE_RESULT_MALFORMED},
      {"id not ASCII", Request(good, "msg_\xc3\xa9"), SIGNATURE_RESULT_MALFORMED},
      {"huge header", Request(std::string(kMaxHeaderValueBytes + 1, 'v')),
       SIGNATURE_RESULT_MALFORMED},
      {"tampered body", Request(good, kMsgId, kTimestamp, R"({"test": 2432232315})"),
       SIGNATURE_RESULT_MISMATCH},
      {"other id", Request(good, "msg_other"), SIGNATURE_RESULT_MISMATCH},
      {"other timestamp", Request(good, kMsgId, "1614265331"), SIGNATURE_RESULT_MISMATCH},
      {"wrong MAC", Request("v1,bm9wZQ=="), SIGNATURE_RESULT_MISMATCH},
  };
  for (const Case& c : cases) {
    const VerifyOutcome out = v->Verify(c.request, kSignedAt).value();
    EXPECT_EQ(out.result, c.result) << c.name << ": " << out.detail;
  }
}

TEST(StandardWebhooksVerifier, IsStaleOnlyWhenAuthentic) {
  auto v = Make({{"main", Key()}});
  const v1::HttpRequest ok = Request(kSignature);
  EXPECT_EQ(v->Verify(ok, kSignedAt + absl::Seconds(300))->result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ(v->Verify(ok, kSignedAt + absl::Seconds(301))->result, SIGNATURE_RESULT_STALE);
  EXPECT_EQ(v->Verify(ok, kSignedAt - absl::Seconds(301))->result, SIGNATURE_RESULT_STALE);
  // Now: years after the vector was signed.
  EXPECT_EQ(v->Verify(ok, absl::FromUnixSeconds(1700000000))->result, SIGNATURE_RESULT_STALE);
  EXPECT_EQ(v->Verify(Request("v1,bm9wZQ=="), absl::FromUnixSeconds(1700000000))->result,
            SIGNATURE_RESULT_MISMATCH);
}

TEST(StandardWebhooksVerifier, RotatesSecrets) {
  auto v = Make({{"new", "another key entirely"}, {"old", Key()}});
  const VerifyOutcome out = v->Verify(Request(kSignature), kSignedAt).value();
  EXPECT_EQ(out.result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ(out.key_id, "old");
}

TEST(StandardWebhooksVerifier, RefusesAnEmptyKey) {
  EXPECT_FALSE(StandardWebhooksVerifier::Create(StandardWebhooksScheme{}, {{"a", ""}}).ok());
}

}  // namespace
}  // namespace hookguard

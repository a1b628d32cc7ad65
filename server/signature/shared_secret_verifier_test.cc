#include "server/signature/shared_secret_verifier.h"

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
using v1::SIGNATURE_RESULT_VALID;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

v1::HttpRequest Request(std::vector<std::pair<std::string, std::string>> headers) {
  v1::HttpRequest r;
  r.set_body("{}");
  for (auto& [name, value] : headers) (*r.mutable_headers())[name] = value;
  return r;
}

std::unique_ptr<const SharedSecretVerifier> Make(SharedSecretScheme scheme) {
  auto v = SharedSecretVerifier::Create(std::move(scheme),
                                        {{"new", "s3cret-new"}, {"old", "s3cret-old"}});
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *std::move(v) : nullptr;
}

struct Case {
  const char* name;
  v1::HttpRequest request;
  v1::SignatureResult result;
  const char* key_id;
};

TEST(SharedSecretVerifier, ComparesTheVapiSecretHeader) {
  auto v = Make(SharedSecretScheme{});
  const Case cases[] = {
      {"new secret", Request({{"x-vapi-secret", "s3cret-new"}}), SIGNATURE_RESULT_VALID, "new"},
      {"old secret", Request({{"X-Vapi-Secret", "s3cret-old"}}), SIGNATURE_RESULT_VALID, "old"},
      {"no header", Request({}), SIGNATURE_RESULT_MISSING, ""},
      {"empty", Request({{"x-vapi-secret", ""}}), SIGNATURE_RESULT_MISSING, ""},
      {"wrong", Request({{"x-vapi-secret", "s3cret-neW"}}), SIGNATURE_RESULT_MISMATCH, ""},
      {"prefix of the secret", Request({{"x-vapi-secret", "s3cret"}}), SIGNATURE_RESULT_MISMATCH,
       ""},
      {"secret plus more", Request({{"x-vapi-secret", "s3cret-new-and-more"}}),
       SIGNATURE_RESULT_MISMATCH, ""},
      {"both secrets", Request({{"x-vapi-secret", "s3cret-news3cret-old"}}),
       SIGNATURE_RESULT_MISMATCH, ""},
      {"duplicate in other case",
       Request({{"x-vapi-secret", "s3cret-new"}, {"X-VAPI-SECRET", "s3cret-new"}}),
       SIGNATURE_RESULT_MALFORMED, ""},
      {"huge", Request({{"x-vapi-secret", std::string(kMaxHeaderValueBytes + 1, 's')}}),
       SIGNATURE_RESULT_MALFORMED, ""},
      {"non-ASCII", Request({{"x-vapi-secret", "s3cret-n\xc3\xa9w"}}), SIGNATURE_RESULT_MISMATCH,
       ""},
      {"bearer form on a plain header", Request({{"x-vapi-secret", "Bearer s3cret-new"}}),
       SIGNATURE_RESULT_MISMATCH, ""},
  };
  for (const Case& c : cases) {
    const VerifyOutcome out = v->Verify(c.request, kNow).value();
    EXPECT_EQ(out.result, c.result) << c.name << ": " << out.detail;
    EXPECT_EQ(out.key_id, c.key_id) << c.name;
    EXPECT_EQ(out.detail.find("s3cret"), std::string::npos) << c.name;
    EXPECT_EQ(out.timestamp_unix, 0) << c.name;
    EXPECT_EQ(out.message_id, "") << c.name;
  }
}

TEST(SharedSecretVerifier, ReadsBearerTokens) {
  auto v = Make(SharedSecretScheme{"authorization", true});
  const Case cases[] = {
      {"bearer", Request({{"Authorization", "Bearer s3cret-new"}}), SIGNATURE_RESULT_VALID, "new"},
      {"scheme word in any case", Request({{"authorization", "bearer s3cret-old"}}),
       SIGNATURE_RESULT_VALID, "old"},
      {"no scheme word", Request({{"authorization", "s3cret-new"}}), SIGNATURE_RESULT_MALFORMED,
       ""},
      {"basic auth", Request({{"authorization", "Basic czNjcmV0"}}), SIGNATURE_RESULT_MALFORMED,
       ""},
      {"bearer without token", Request({{"authorization", "Bearer "}}), SIGNATURE_RESULT_MALFORMED,
       ""},
      {"wrong token", Request({{"authorization", "Bearer nope"}}), SIGNATURE_RESULT_MISMATCH, ""},
      {"no header", Request({}), SIGNATURE_RESULT_MISSING, ""},
  };
  for (const Case& c : cases) {
    const VerifyOutcome out = v->Verify(c.request, kNow).value();
    EXPECT_EQ(out.result, c.result) << c.name << ": " << out.detail;
    EXPECT_EQ(out.key_id, c.key_id) << c.name;
  }
}

}  // namespace
}  // namespace hookguard

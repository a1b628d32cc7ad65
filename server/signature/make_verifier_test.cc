#include "server/signature/make_verifier.h"

#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

using v1::SIGNATURE_RESULT_MALFORMED;
using v1::SIGNATURE_RESULT_MISMATCH;
using v1::SIGNATURE_RESULT_STALE;
using v1::SIGNATURE_RESULT_VALID;

// Expected MACs computed with the openssl command line, e.g.
// printf %s "v0:1700000000:$BODY" | openssl dgst -sha256 -hmac slack-secret
constexpr char kBody[] = R"({"message":{"type":"status-update","call":{"id":"call-1"}}})";
constexpr char kVapiHex[] = "eccea06870b7458e545dd91dfed7c7b5c8aa88ac8aeda608fe7a2437cdf4d4cc";
constexpr char kStripeHex[] = "3e20a77e930720b3559de0a699e45990db10a2624482178e1fd3a2331b6919f1";
constexpr char kGithubHex[] = "969999488bc56dd17c36681fa86855f8cd185912d2a73c62921ba6dd65e6d1e4";
constexpr char kSlackHex[] = "fb0065d4463ff65bdedb1f3b80595a3e2ed2f1460a35df590c318b01440ff14f";
// Key "raw-key-bytes", configured as base64 "cmF3LWtleS1ieXRlcw==".
constexpr char kBase64KeyHex[] = "e59bd04b0a112c2cf742fdd911d8ea4dcb425c764b770b07b591e792b5835957";
// Standard Webhooks: the published test vector's key, id msg_1, 1700000000.
constexpr char kStandardSignature[] = "v1,tckJwa+wEubMqlY9FE7X3c9c0UenwXewdqJq0I63niI=";

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

config::v1::Profile ProfileFromJson(const std::string& json) {
  config::v1::Profile p;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &p);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in " << json;
  return p;
}

v1::HttpRequest Request(std::vector<std::pair<std::string, std::string>> headers) {
  v1::HttpRequest r;
  r.set_body(kBody);
  for (auto& [name, value] : headers) (*r.mutable_headers())[name] = value;
  return r;
}

struct PresetCase {
  const char* name;
  const char* profile_json;
  const char* secret;
  v1::HttpRequest request;
  const char* message_id;
  int64_t timestamp_unix;
};

TEST(MakeVerifier, PresetsVerifyTheirPlatformsSignatures) {
  const PresetCase cases[] = {
      {"vapi", R"({"name":"p","preset":"vapi"})", "test-secret",
       Request({{"X-Vapi-Signature", kVapiHex}}), "", 0},
      {"stripe", R"({"name":"p","preset":"stripe"})", "whsec_stripetest",
       Request({{"Stripe-Signature", std::string("t=1700000000,v1=") + kStripeHex}}), "",
       1700000000},
      {"github", R"({"name":"p","preset":"github"})", "gh-secret",
       Request({{"X-Hub-Signature-256", std::string("sha256=") + kGithubHex},
                {"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"}}),
       "72d3162e-cc78-11e3-81ab-4c9367dc0958", 0},
      {"slack", R"({"name":"p","preset":"slack"})", "slack-secret",
       Request({{"X-Slack-Signature", std::string("v0=") + kSlackHex},
                {"X-Slack-Request-Timestamp", "1700000000"}}),
       "", 1700000000},
      {"hmac kind beside a preset", R"({"name":"p","preset":"vapi","kind":"hmac"})", "test-secret",
       Request({{"x-vapi-signature", kVapiHex}}), "", 0},
      {"no config: hmac defaults", R"({"name":"p","kind":"hmac"})", "test-secret",
       Request({{"x-vapi-signature", kVapiHex}}), "", 0},
      {"secret_is_base64 with whsec_", R"({"name":"p","kind":"hmac","secret_is_base64":true})",
       "whsec_cmF3LWtleS1ieXRlcw==", Request({{"x-vapi-signature", kBase64KeyHex}}), "", 0},
      {"secret_is_base64 without whsec_", R"({"name":"p","kind":"hmac","secret_is_base64":true})",
       "cmF3LWtleS1ieXRlcw", Request({{"x-vapi-signature", kBase64KeyHex}}), "", 0},
      {"standard_webhooks", R"({"name":"p","kind":"standard_webhooks"})",
       "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
       Request({{"webhook-signature", kStandardSignature},
                {"webhook-id", "msg_1"},
                {"webhook-timestamp", "1700000000"}}),
       "msg_1", 1700000000},
      {"shared_secret", R"({"name":"p","kind":"shared_secret"})", "s3cret",
       Request({{"x-vapi-secret", "s3cret"}}), "", 0},
      {"shared_secret bearer",
       R"({"name":"p","kind":"shared_secret","header":"authorization","bearer_prefix":true})",
       "s3cret", Request({{"Authorization", "Bearer s3cret"}}), "", 0},
  };
  for (const PresetCase& c : cases) {
    auto v = MakeVerifier(ProfileFromJson(c.profile_json), {{"k", c.secret}});
    ASSERT_TRUE(v.ok()) << c.name << ": " << v.status();
    const VerifyOutcome out = (*v)->Verify(c.request, kNow);
    EXPECT_EQ(out.result, SIGNATURE_RESULT_VALID) << c.name << ": " << out.detail;
    EXPECT_EQ(out.key_id, "k") << c.name;
    EXPECT_EQ(out.message_id, c.message_id) << c.name;
    EXPECT_EQ(out.timestamp_unix, c.timestamp_unix) << c.name;
    // The same request with another secret configured does not verify.
    auto other =
        MakeVerifier(ProfileFromJson(c.profile_json), {{"k", std::string("whsec_b3RoZXIta2V5")}});
    ASSERT_TRUE(other.ok()) << c.name << ": " << other.status();
    EXPECT_EQ((*other)->Verify(c.request, kNow).result, SIGNATURE_RESULT_MISMATCH) << c.name;
  }
}

TEST(MakeVerifier, TimestampedPresetsGoStale) {
  auto slack =
      MakeVerifier(ProfileFromJson(R"({"name":"p","preset":"slack"})"), {{"k", "slack-secret"}});
  ASSERT_TRUE(slack.ok());
  const v1::HttpRequest r = Request({{"X-Slack-Signature", std::string("v0=") + kSlackHex},
                                     {"X-Slack-Request-Timestamp", "1700000000"}});
  EXPECT_EQ((*slack)->Verify(r, kNow + absl::Seconds(301)).result, SIGNATURE_RESULT_STALE);
  auto lenient =
      MakeVerifier(ProfileFromJson(R"({"name":"p","preset":"slack","tolerance_seconds":600})"),
                   {{"k", "slack-secret"}});
  ASSERT_TRUE(lenient.ok());
  EXPECT_EQ((*lenient)->Verify(r, kNow + absl::Seconds(301)).result, SIGNATURE_RESULT_VALID);
}

TEST(MakeVerifier, FieldsBesideAPresetOverrideIt) {
  // github's scheme, but the signature in another header.
  auto v =
      MakeVerifier(ProfileFromJson(R"({"name":"p","preset":"github","signature_header":"x-sig"})"),
                   {{"k", "gh-secret"}});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)->Verify(Request({{"x-sig", std::string("sha256=") + kGithubHex}}), kNow).result,
            SIGNATURE_RESULT_VALID);
  EXPECT_EQ(
      (*v)->Verify(Request({{"X-Hub-Signature-256", std::string("sha256=") + kGithubHex}}), kNow)
          .result,
      v1::SIGNATURE_RESULT_MISSING);
  // stripe's scheme with base64: the hex MAC no longer decodes to the MAC.
  auto b64 = MakeVerifier(
      ProfileFromJson(R"({"name":"p","preset":"stripe","signature_encoding":"base64"})"),
      {{"k", "whsec_stripetest"}});
  ASSERT_TRUE(b64.ok()) << b64.status();
  EXPECT_NE(
      (*b64)
          ->Verify(Request({{"Stripe-Signature", std::string("t=1700000000,v1=") + kStripeHex}}),
                   kNow)
          .result,
      SIGNATURE_RESULT_VALID);
}

TEST(ResolveProfile, FillsTheContractDefaults) {
  auto hmac = ResolveProfile(ProfileFromJson(R"({"name":"p","kind":"hmac"})"));
  ASSERT_TRUE(hmac.ok());
  EXPECT_EQ(hmac->algorithm(), "sha256");
  EXPECT_EQ(hmac->signature_header(), "x-vapi-signature");
  EXPECT_EQ(hmac->signature_encoding(), "hex");
  EXPECT_EQ(hmac->payload_format(), "{body}");
  EXPECT_EQ(hmac->tolerance_seconds(), 300);
  EXPECT_EQ(hmac->signature_prefix(), "");
  EXPECT_EQ(hmac->timestamp_header(), "");
  auto shared = ResolveProfile(ProfileFromJson(R"({"name":"p","kind":"shared_secret"})"));
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(shared->header(), "x-vapi-secret");
  auto standard = ResolveProfile(ProfileFromJson(R"({"name":"p","kind":"standard_webhooks"})"));
  ASSERT_TRUE(standard.ok());
  EXPECT_EQ(standard->tolerance_seconds(), 300);
  auto stripe = ResolveProfile(ProfileFromJson(R"({"name":"p","preset":"stripe"})"));
  ASSERT_TRUE(stripe.ok());
  EXPECT_EQ(stripe->kind(), "hmac");
  EXPECT_EQ(stripe->preset(), "");
  EXPECT_EQ(stripe->payload_format(), "{timestamp}.{body}");
}

struct BadProfile {
  const char* name;
  const char* profile_json;
  std::vector<SecretKey> secrets;
  const char* field;  // the message must name it
};

TEST(MakeVerifier, RejectsBadProfilesNamingProfileAndField) {
  const std::vector<SecretKey> one = {{"k", "Zq9-secret-value"}};
  const BadProfile cases[] = {
      {"no kind", R"({"name":"bad"})", one, "kind"},
      {"unknown kind", R"({"name":"bad","kind":"hmac256"})", one, "kind"},
      {"unknown preset", R"({"name":"bad","preset":"twilio"})", one, "preset"},
      {"kind contradicts preset", R"({"name":"bad","preset":"stripe","kind":"shared_secret"})", one,
       "kind"},
      {"unknown algorithm", R"({"name":"bad","kind":"hmac","algorithm":"md5"})", one, "algorithm"},
      {"unknown encoding", R"({"name":"bad","kind":"hmac","signature_encoding":"base32"})", one,
       "signature_encoding"},
      {"unknown placeholder", R"({"name":"bad","kind":"hmac","payload_format":"{ts}.{body}"})", one,
       "payload_format"},
      {"timestamp without header",
       R"({"name":"bad","kind":"hmac","payload_format":"{timestamp}.{body}"})", one,
       "payload_format"},
      {"zero tolerance", R"({"name":"bad","kind":"hmac","tolerance_seconds":0})", one,
       "tolerance_seconds"},
      {"negative tolerance", R"({"name":"bad","kind":"standard_webhooks","tolerance_seconds":-5})",
       one, "tolerance_seconds"},
      {"hmac with header", R"({"name":"bad","kind":"hmac","header":"x"})", one, "header"},
      {"hmac with bearer", R"({"name":"bad","preset":"github","bearer_prefix":true})", one,
       "bearer_prefix"},
      {"shared_secret with algorithm",
       R"({"name":"bad","kind":"shared_secret","algorithm":"sha1"})", one, "algorithm"},
      {"shared_secret with tolerance",
       R"({"name":"bad","kind":"shared_secret","tolerance_seconds":5})", one, "tolerance_seconds"},
      {"standard_webhooks with header",
       R"({"name":"bad","kind":"standard_webhooks","signature_header":"x"})", one,
       "signature_header"},
      {"standard_webhooks with bearer",
       R"({"name":"bad","kind":"standard_webhooks","bearer_prefix":true})", one, "bearer_prefix"},
      {"no secrets", R"({"name":"bad","kind":"hmac"})", {}, "secrets"},
      {"duplicate key_id",
       R"({"name":"bad","kind":"hmac"})",
       {{"k", "Zq9-a"}, {"k", "Zq9-b"}},
       "key_id"},
      {"empty key_id", R"({"name":"bad","kind":"hmac"})", {{"", "Zq9-a"}}, "key_id"},
      {"secret not base64",
       R"({"name":"bad","kind":"hmac","secret_is_base64":true})",
       {{"k", "not base64!"}},
       "secret \"k\""},
      {"standard secret not base64",
       R"({"name":"bad","kind":"standard_webhooks"})",
       {{"k", "whsec_***"}},
       "secret \"k\""},
  };
  for (const BadProfile& c : cases) {
    auto v = MakeVerifier(ProfileFromJson(c.profile_json), c.secrets);
    ASSERT_FALSE(v.ok()) << c.name;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    const absl::string_view message = v.status().message();
    EXPECT_NE(message.find("profile \"bad\""), absl::string_view::npos)
        << c.name << ": " << message;
    EXPECT_NE(message.find(c.field), absl::string_view::npos) << c.name << ": " << message;
    for (const SecretKey& s : c.secrets) {
      if (s.key.size() > 1) {
        EXPECT_EQ(message.find(s.key), absl::string_view::npos) << c.name << ": " << message;
      }
    }
  }
}

TEST(ValidateProfile, ChecksOptionsAndSecretListWithoutValues) {
  EXPECT_TRUE(
      ValidateProfile(
          ProfileFromJson(R"({"name":"p","preset":"slack","secrets":[{"key_id":"a","env":"X"}]})"))
          .ok());
  const absl::Status no_secret = ValidateProfile(ProfileFromJson(R"({"name":"p","kind":"hmac"})"));
  EXPECT_FALSE(no_secret.ok());
  EXPECT_NE(no_secret.message().find("secrets"), absl::string_view::npos);
  const absl::Status dup = ValidateProfile(ProfileFromJson(
      R"({"name":"p","kind":"hmac","secrets":[{"key_id":"a","env":"X"},{"key_id":"a","env":"Y"}]})"));
  EXPECT_FALSE(dup.ok());
  EXPECT_NE(dup.message().find("duplicate key_id \"a\""), absl::string_view::npos);
  EXPECT_FALSE(
      ValidateProfile(
          ProfileFromJson(
              R"({"name":"p","kind":"hmac","payload_format":"{x}","secrets":[{"key_id":"a","env":"X"}]})"))
          .ok());
}

TEST(ProfileWarnings, NameWhatAValidProfileLeavesUnprotected) {
  struct Case {
    const char* profile_json;
    std::vector<std::string> says;  // one entry a warning, in order
  };
  const Case cases[] = {
      {R"({"name":"p","preset":"vapi"})", {"profile \"p\": no signed timestamp"}},
      {R"({"name":"p","kind":"hmac"})", {"profile \"p\": no signed timestamp"}},
      {R"({"name":"p","preset":"github"})",
       {"no signed timestamp", "message id header x-github-delivery is not signed"}},
      {R"({"name":"p","kind":"hmac","algorithm":"sha1","timestamp_header":"x-ts","payload_format":"{timestamp}.{body}"})",
       {"algorithm sha1"}},
      {R"({"name":"p","kind":"shared_secret"})", {"shared_secret signs neither the body"}},
      {R"({"name":"p","preset":"stripe"})", {}},
      {R"({"name":"p","preset":"slack"})", {}},
      {R"({"name":"p","kind":"standard_webhooks"})", {}},
      {R"({"name":"p","kind":"hmac","message_id_header":"x-id","timestamp_header":"x-ts","payload_format":"{id}.{timestamp}.{body}"})",
       {}},
  };
  for (const Case& c : cases) {
    const std::vector<std::string> warnings = ProfileWarnings(ProfileFromJson(c.profile_json));
    ASSERT_EQ(warnings.size(), c.says.size()) << c.profile_json;
    for (size_t i = 0; i < warnings.size(); ++i) {
      EXPECT_NE(warnings[i].find(c.says[i]), std::string::npos)
          << c.profile_json << ": " << warnings[i];
    }
  }
}

}  // namespace
}  // namespace hookguard

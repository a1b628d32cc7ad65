#include "server/signature/signature_scheme.h"

#include <string>
#include <utility>
#include <variant>
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
// printf %s "${BODY}1700000000123" | openssl dgst -sha256 -hmac retell-api-key
constexpr char kRetellHex[] = "c5374a17c956c7e024e246da9ecde88ad0b877b78e6029c10670c607224b67af";
// printf %s "1700000000.$BODY" | openssl dgst -sha256 -hmac wsec_elevenlabstest
constexpr char kElevenLabsHex[] =
    "0526ad97130799afd07299c66e9f559e691fd3e037bc6b19584bd9fa1da55603";
// vapi-hmac: secret "vapi-hmac-secret", timestamp 1700000000000 (ms, as VAPI
// sends it): printf %s "1700000000000.$BODY" | openssl dgst -sha256 -hmac ...
constexpr char kVapiHmacHex[] = "f486f9b63cce406b6937f4b8873e4b101d51647a96319deec9134fcc1c02af34";
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

// The verifier of a profile with one secret "k" as read from its source:
// ParseSignatureScheme, DecodeSecretKey, MakeVerifier, as the server does.
absl::StatusOr<std::unique_ptr<const Verifier>> Make(const std::string& profile_json,
                                                     const std::string& secret) {
  absl::StatusOr<SignatureScheme> scheme = ParseSignatureScheme(ProfileFromJson(profile_json));
  if (!scheme.ok()) return scheme.status();
  absl::StatusOr<std::string> key = DecodeSecretKey(*scheme, secret);
  if (!key.ok()) return key.status();
  return MakeVerifier(*scheme, {{"k", *std::move(key)}});
}

// The scheme of `profile_json`, which must parse.
SignatureScheme Parsed(const char* profile_json) {
  absl::StatusOr<SignatureScheme> scheme = ParseSignatureScheme(ProfileFromJson(profile_json));
  EXPECT_TRUE(scheme.ok()) << profile_json << ": " << scheme.status();
  return scheme.ok() ? *std::move(scheme) : SignatureScheme();
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

TEST(SignatureScheme, PresetsVerifyTheirPlatformsSignatures) {
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
      {"retell", R"({"name":"p","preset":"retell"})", "retell-api-key",
       Request({{"X-Retell-Signature", std::string("v=1700000000123,d=") + kRetellHex}}), "",
       1700000000},
      {"elevenlabs", R"({"name":"p","preset":"elevenlabs"})", "wsec_elevenlabstest",
       Request({{"ElevenLabs-Signature", std::string("t=1700000000,v0=") + kElevenLabsHex}}), "",
       1700000000},
      {"twilio", R"({"name":"p","kind":"twilio"})", "12345",
       [] {
         v1::HttpRequest r;
         r.set_url("https://mycompany.com/myapp.php?foo=1&bar=2");
         r.set_body(
             "CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212"
             "&Caller=%2B14158675309");
         (*r.mutable_headers())["X-Twilio-Signature"] = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
         return r;
       }(),
       "", 0},
      {"vapi-hmac (a VAPI HMAC credential's defaults)", R"({"name":"p","preset":"vapi-hmac"})",
       "vapi-hmac-secret",
       Request({{"X-Signature", kVapiHmacHex}, {"X-Timestamp", "1700000000000"}}), "", 1700000000},
      {"vapi-secret", R"({"name":"p","preset":"vapi-secret"})", "s3cret",
       Request({{"X-Vapi-Secret", "s3cret"}}), "", 0},
      {"vapi-bearer", R"({"name":"p","preset":"vapi-bearer"})", "s3cret",
       Request({{"Authorization", "Bearer s3cret"}}), "", 0},
      {"shared_secret kind beside a vapi-bearer preset",
       R"({"name":"p","preset":"vapi-bearer","kind":"shared_secret"})", "s3cret",
       Request({{"authorization", "Bearer s3cret"}}), "", 0},
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
    auto v = Make(c.profile_json, c.secret);
    ASSERT_TRUE(v.ok()) << c.name << ": " << v.status();
    const VerifyOutcome out = (*v)->Verify(c.request, kNow).value();
    EXPECT_EQ(out.result, SIGNATURE_RESULT_VALID) << c.name << ": " << out.detail;
    EXPECT_EQ(out.key_id, "k") << c.name;
    EXPECT_EQ(out.message_id, c.message_id) << c.name;
    EXPECT_EQ(out.timestamp_unix, c.timestamp_unix) << c.name;
    // The same request with another secret configured does not verify.
    auto other = Make(c.profile_json, "whsec_b3RoZXIta2V5");
    ASSERT_TRUE(other.ok()) << c.name << ": " << other.status();
    EXPECT_EQ((*other)->Verify(c.request, kNow)->result, SIGNATURE_RESULT_MISMATCH) << c.name;
  }
}

TEST(SignatureScheme, TimestampedPresetsGoStale) {
  auto slack = Make(R"({"name":"p","preset":"slack"})", "slack-secret");
  ASSERT_TRUE(slack.ok());
  const v1::HttpRequest r = Request({{"X-Slack-Signature", std::string("v0=") + kSlackHex},
                                     {"X-Slack-Request-Timestamp", "1700000000"}});
  EXPECT_EQ((*slack)->Verify(r, kNow + absl::Seconds(301))->result, SIGNATURE_RESULT_STALE);
  auto lenient = Make(R"({"name":"p","preset":"slack","tolerance_seconds":600})", "slack-secret");
  ASSERT_TRUE(lenient.ok());
  EXPECT_EQ((*lenient)->Verify(r, kNow + absl::Seconds(301))->result, SIGNATURE_RESULT_VALID);
}

// Each platform's window, as its SDK applies it: Retell 5 minutes either way
// (milliseconds in the header), ElevenLabs 30 minutes.
TEST(SignatureScheme, RetellAndElevenLabsGoStaleOutsideTheirWindows) {
  auto retell = Make(R"({"name":"p","preset":"retell"})", "retell-api-key");
  ASSERT_TRUE(retell.ok()) << retell.status();
  const v1::HttpRequest r =
      Request({{"X-Retell-Signature", std::string("v=1700000000123,d=") + kRetellHex}});
  EXPECT_EQ((*retell)->Verify(r, kNow + absl::Seconds(300))->result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ((*retell)->Verify(r, kNow + absl::Seconds(301))->result, SIGNATURE_RESULT_STALE);
  EXPECT_EQ((*retell)->Verify(r, kNow - absl::Seconds(301))->result, SIGNATURE_RESULT_STALE);
  // The digits of the timestamp are signed: another timestamp does not verify.
  EXPECT_EQ(
      (*retell)
          ->Verify(
              Request({{"X-Retell-Signature", std::string("v=1700000000124,d=") + kRetellHex}}),
              kNow)
          ->result,
      SIGNATURE_RESULT_MISMATCH);
  // A leading zero would let a body's trailing '0' move into the timestamp.
  EXPECT_EQ(
      (*retell)
          ->Verify(
              Request({{"X-Retell-Signature", std::string("v=01700000000123,d=") + kRetellHex}}),
              kNow)
          ->result,
      SIGNATURE_RESULT_MALFORMED);
  // A timestamp in seconds: signed right after the body, only milliseconds
  // are taken.
  EXPECT_EQ(
      (*retell)
          ->Verify(Request({{"X-Retell-Signature", std::string("v=1700000000,d=") + kRetellHex}}),
                   kNow)
          ->result,
      SIGNATURE_RESULT_MALFORMED);
  // The split that seconds would allow: Retell signed body + "1771771771771"
  // (ms; printf %s "${BODY}1771771771771" | openssl dgst -sha256 -hmac
  // retell-api-key); "177" moved into the body leaves "1771771771", a time in
  // seconds inside the window. Refused, never VALID.
  v1::HttpRequest moved = Request(
      {{"X-Retell-Signature",
        "v=1771771771,d=2ec64942a682087221c6a2289dfb07b51de79d7014a69e15444eedfc7c696f41"}});
  moved.set_body(std::string(kBody) + "177");
  EXPECT_EQ((*retell)->Verify(moved, absl::FromUnixSeconds(1771771771))->result,
            SIGNATURE_RESULT_MALFORMED);
  // A changed body.
  v1::HttpRequest changed = r;
  changed.set_body(R"({"message":{"type":"status-update","call":{"id":"call-2"}}})");
  EXPECT_EQ((*retell)->Verify(changed, kNow)->result, SIGNATURE_RESULT_MISMATCH);

  auto eleven = Make(R"({"name":"p","preset":"elevenlabs"})", "wsec_elevenlabstest");
  ASSERT_TRUE(eleven.ok()) << eleven.status();
  const v1::HttpRequest e =
      Request({{"ElevenLabs-Signature", std::string("t=1700000000,v0=") + kElevenLabsHex}});
  EXPECT_EQ((*eleven)->Verify(e, kNow + absl::Minutes(30))->result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ((*eleven)->Verify(e, kNow + absl::Minutes(30) + absl::Seconds(1))->result,
            SIGNATURE_RESULT_STALE);
  EXPECT_EQ((*eleven)->Verify(e, kNow - absl::Minutes(31))->result, SIGNATURE_RESULT_STALE);
  EXPECT_EQ(
      (*eleven)
          ->Verify(Request({{"ElevenLabs-Signature", std::string("v0=") + kElevenLabsHex}}), kNow)
          ->result,
      SIGNATURE_RESULT_MALFORMED);
}

// vapi-hmac has VAPI's replay window: 300 s either way from now, with the
// millisecond timestamp VAPI sends.
TEST(SignatureScheme, VapiHmacGoesStaleAfterFiveMinutes) {
  auto vapi = Make(R"({"name":"p","preset":"vapi-hmac"})", "vapi-hmac-secret");
  ASSERT_TRUE(vapi.ok()) << vapi.status();
  const v1::HttpRequest r =
      Request({{"x-signature", kVapiHmacHex}, {"x-timestamp", "1700000000000"}});
  EXPECT_EQ((*vapi)->Verify(r, kNow + absl::Seconds(300))->result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ((*vapi)->Verify(r, kNow + absl::Seconds(301))->result, SIGNATURE_RESULT_STALE);
  EXPECT_EQ((*vapi)->Verify(r, kNow - absl::Seconds(301))->result, SIGNATURE_RESULT_STALE);
  // A signature without its timestamp is malformed, never valid.
  EXPECT_EQ((*vapi)->Verify(Request({{"x-signature", kVapiHmacHex}}), kNow)->result,
            SIGNATURE_RESULT_MALFORMED);
  // The legacy preset's header is not what vapi-hmac reads.
  EXPECT_EQ((*vapi)->Verify(Request({{"x-vapi-signature", kVapiHex}}), kNow)->result,
            v1::SIGNATURE_RESULT_MISSING);
}

TEST(SignatureScheme, FieldsBesideAPresetOverrideIt) {
  // github's scheme, but the signature in another header.
  auto v = Make(R"({"name":"p","preset":"github","signature_header":"x-sig"})", "gh-secret");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)->Verify(Request({{"x-sig", std::string("sha256=") + kGithubHex}}), kNow)->result,
            SIGNATURE_RESULT_VALID);
  EXPECT_EQ(
      (*v)->Verify(Request({{"X-Hub-Signature-256", std::string("sha256=") + kGithubHex}}), kNow)
          ->result,
      v1::SIGNATURE_RESULT_MISSING);
  // stripe's scheme with base64: the hex MAC no longer decodes to the MAC.
  auto b64 =
      Make(R"({"name":"p","preset":"stripe","signature_encoding":"base64"})", "whsec_stripetest");
  ASSERT_TRUE(b64.ok()) << b64.status();
  EXPECT_NE(
      (*b64)
          ->Verify(Request({{"Stripe-Signature", std::string("t=1700000000,v1=") + kStripeHex}}),
                   kNow)
          ->result,
      SIGNATURE_RESULT_VALID);
}

TEST(ParseSignatureScheme, FillsTheContractDefaults) {
  const SignatureScheme plain = Parsed(R"({"name":"p","kind":"hmac"})");
  ASSERT_TRUE(std::holds_alternative<HmacScheme>(plain));
  const HmacScheme& hmac = std::get<HmacScheme>(plain);
  EXPECT_EQ(hmac.algorithm, HashAlgorithm::kSha256);
  EXPECT_EQ(hmac.signature_header, "x-vapi-signature");
  EXPECT_EQ(hmac.encoding, SignatureEncoding::kHex);
  EXPECT_EQ(hmac.payload_format, "{body}");
  EXPECT_EQ(hmac.tolerance, absl::Seconds(300));
  EXPECT_EQ(hmac.signature_prefix, "");
  EXPECT_EQ(hmac.timestamp_header, "");
  EXPECT_FALSE(hmac.secret_is_base64);
  const SignatureScheme shared = Parsed(R"({"name":"p","kind":"shared_secret"})");
  ASSERT_TRUE(std::holds_alternative<SharedSecretScheme>(shared));
  EXPECT_EQ(std::get<SharedSecretScheme>(shared).header, "x-vapi-secret");
  EXPECT_FALSE(std::get<SharedSecretScheme>(shared).bearer_prefix);
  const SignatureScheme standard = Parsed(R"({"name":"p","kind":"standard_webhooks"})");
  ASSERT_TRUE(std::holds_alternative<StandardWebhooksScheme>(standard));
  EXPECT_EQ(std::get<StandardWebhooksScheme>(standard).tolerance, absl::Seconds(300));
  const SignatureScheme stripe = Parsed(R"({"name":"p","preset":"stripe"})");
  ASSERT_TRUE(std::holds_alternative<HmacScheme>(stripe));
  EXPECT_EQ(std::get<HmacScheme>(stripe).payload_format, "{timestamp}.{body}");
  EXPECT_EQ(std::get<HmacScheme>(stripe).signature_timestamp_key, "t");
  // Options beside a preset override it; the others keep the preset's.
  const SignatureScheme tuned =
      Parsed(R"({"name":"p","preset":"github","tolerance_seconds":60,"secret_is_base64":true})");
  ASSERT_TRUE(std::holds_alternative<HmacScheme>(tuned));
  EXPECT_EQ(std::get<HmacScheme>(tuned).tolerance, absl::Seconds(60));
  EXPECT_TRUE(std::get<HmacScheme>(tuned).secret_is_base64);
  EXPECT_EQ(std::get<HmacScheme>(tuned).signature_prefix, "sha256=");
}

struct BadProfile {
  const char* name;
  const char* profile_json;
  const char* field;  // the message must name it
};

TEST(ParseSignatureScheme, RejectsBadProfilesNamingProfileAndField) {
  const BadProfile cases[] = {
      {"no kind", R"({"name":"bad"})", "kind"},
      {"unknown kind", R"({"name":"bad","kind":"hmac256"})", "kind"},
      {"unknown preset", R"({"name":"bad","preset":"twilio"})", "preset"},
      {"twilio with algorithm", R"({"name":"bad","kind":"twilio","algorithm":"sha256"})",
       "algorithm: not an option of kind \"twilio\""},
      {"twilio with signature_header",
       R"({"name":"bad","kind":"twilio","signature_header":"x-sig"})", "signature_header"},
      {"twilio with tolerance", R"({"name":"bad","kind":"twilio","tolerance_seconds":300})",
       "tolerance_seconds"},
      {"twilio beside a preset", R"({"name":"bad","preset":"retell","kind":"twilio"})", "kind"},
      {"kind contradicts preset", R"({"name":"bad","preset":"stripe","kind":"shared_secret"})",
       "kind"},
      {"kind contradicts a shared_secret preset",
       R"({"name":"bad","preset":"vapi-secret","kind":"hmac"})", "kind"},
      {"an hmac option beside vapi-bearer",
       R"({"name":"bad","preset":"vapi-bearer","signature_header":"x"})", "signature_header"},
      {"unknown algorithm", R"({"name":"bad","kind":"hmac","algorithm":"md5"})", "algorithm"},
      {"unknown encoding", R"({"name":"bad","kind":"hmac","signature_encoding":"base32"})",
       "signature_encoding"},
      {"unknown placeholder", R"({"name":"bad","kind":"hmac","payload_format":"{ts}.{body}"})",
       "payload_format"},
      {"zero tolerance", R"({"name":"bad","kind":"hmac","tolerance_seconds":0})",
       "tolerance_seconds"},
      {"negative tolerance", R"({"name":"bad","kind":"standard_webhooks","tolerance_seconds":-5})",
       "tolerance_seconds"},
      {"hmac with header", R"({"name":"bad","kind":"hmac","header":"x"})", "header"},
      {"hmac with bearer", R"({"name":"bad","preset":"github","bearer_prefix":true})",
       "bearer_prefix"},
      {"shared_secret with algorithm",
       R"({"name":"bad","kind":"shared_secret","algorithm":"sha1"})", "algorithm"},
      {"shared_secret with tolerance",
       R"({"name":"bad","kind":"shared_secret","tolerance_seconds":5})", "tolerance_seconds"},
      {"shared_secret with secret_is_base64",
       R"({"name":"bad","kind":"shared_secret","secret_is_base64":true})", "secret_is_base64"},
      {"standard_webhooks with header",
       R"({"name":"bad","kind":"standard_webhooks","signature_header":"x"})", "signature_header"},
      {"standard_webhooks with bearer",
       R"({"name":"bad","kind":"standard_webhooks","bearer_prefix":true})", "bearer_prefix"},
      // How the hmac options fit together.
      {"timestamp without source",
       R"({"name":"bad","kind":"hmac","payload_format":"{timestamp}.{body}"})", "payload_format"},
      {"id without header", R"({"name":"bad","kind":"hmac","payload_format":"{id}.{body}"})",
       "payload_format"},
      {"t without v1", R"({"name":"bad","kind":"hmac","signature_timestamp_key":"t"})",
       "signature_key"},
      {"v1 without t", R"({"name":"bad","kind":"hmac","signature_key":"v1"})",
       "signature_timestamp_key"},
      {"two timestamp sources", R"({"name":"bad","preset":"stripe","timestamp_header":"x-ts"})",
       "timestamp_header"},
      // Signing too little (any body VALID, or a timestamp read but not signed).
      {"body not signed",
       R"({"name":"bad","kind":"hmac","timestamp_header":"x-ts","payload_format":"{timestamp}"})",
       "does not sign the body"},
      {"only the id signed",
       R"({"name":"bad","kind":"hmac","message_id_header":"x-id","payload_format":"{id}"})",
       "add {body}"},
      {"timestamp header read but not signed",
       R"({"name":"bad","kind":"hmac","timestamp_header":"x-ts","payload_format":"{body}"})",
       "timestamp_header \"x-ts\""},
      {"t= part read but not signed",
       R"({"name":"bad","preset":"stripe","payload_format":"{body}"})",
       "signature_timestamp_key \"t\""},
  };
  for (const BadProfile& c : cases) {
    auto scheme = ParseSignatureScheme(ProfileFromJson(c.profile_json));
    ASSERT_FALSE(scheme.ok()) << c.name;
    EXPECT_EQ(scheme.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    const absl::string_view message = scheme.status().message();
    EXPECT_NE(message.find("profile \"bad\""), absl::string_view::npos)
        << c.name << ": " << message;
    EXPECT_NE(message.find(c.field), absl::string_view::npos) << c.name << ": " << message;
  }
}

TEST(DecodeSecretKey, DecodesBase64SecretsAndNeverEchoesThem) {
  EXPECT_EQ(*DecodeSecretKey(Parsed(R"({"name":"p","kind":"hmac"})"), "whsec_plain"),
            "whsec_plain");
  EXPECT_EQ(*DecodeSecretKey(Parsed(R"({"name":"p","kind":"hmac","secret_is_base64":true})"),
                             "whsec_cmF3LWtleS1ieXRlcw=="),
            "raw-key-bytes");
  EXPECT_EQ(
      *DecodeSecretKey(Parsed(R"({"name":"p","kind":"standard_webhooks"})"), "cmF3LWtleS1ieXRlcw"),
      "raw-key-bytes");
  const struct {
    const char* profile_json;
    const char* secret;
    const char* says;
  } bad[] = {
      {R"({"name":"p","kind":"hmac","secret_is_base64":true})", "not base64!",
       "secret_is_base64 is set"},
      {R"({"name":"p","kind":"standard_webhooks"})", "whsec_***", "whsec_<base64>"},
      {R"({"name":"p","kind":"standard_webhooks"})", "whsec_!!", "whsec_<base64>"},
  };
  for (const auto& c : bad) {
    absl::StatusOr<std::string> key = DecodeSecretKey(Parsed(c.profile_json), c.secret);
    ASSERT_FALSE(key.ok()) << c.secret;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(key.status().message().find(c.says), absl::string_view::npos) << key.status();
    EXPECT_EQ(key.status().message().find(c.secret), absl::string_view::npos) << key.status();
  }
}

TEST(SchemeWarnings, NameWhatAValidProfileLeavesUnprotected) {
  struct Case {
    const char* profile_json;
    std::vector<std::string> says;  // one entry a warning, in order
  };
  const Case cases[] = {
      {R"({"name":"p","preset":"vapi"})", {"no signed timestamp"}},
      {R"({"name":"p","kind":"hmac"})", {"no signed timestamp"}},
      {R"({"name":"p","preset":"github"})",
       {"no signed timestamp", "message id header x-github-delivery is not signed"}},
      {R"({"name":"p","kind":"hmac","algorithm":"sha1","timestamp_header":"x-ts","payload_format":"{timestamp}.{body}"})",
       {"algorithm sha1"}},
      {R"({"name":"p","kind":"shared_secret"})", {"shared_secret signs neither the body"}},
      {R"({"name":"p","preset":"stripe"})", {}},
      {R"({"name":"p","preset":"retell"})", {}},
      {R"({"name":"p","preset":"elevenlabs"})", {}},
      {R"({"name":"p","kind":"twilio"})", {"twilio signs with sha1 and signs no timestamp"}},
      {R"({"name":"p","preset":"slack"})", {}},
      {R"({"name":"p","preset":"vapi-hmac"})", {}},
      {R"({"name":"p","preset":"vapi-secret"})", {"shared_secret signs neither the body"}},
      {R"({"name":"p","preset":"vapi-bearer"})", {"shared_secret signs neither the body"}},
      {R"({"name":"p","kind":"standard_webhooks"})", {}},
      {R"({"name":"p","kind":"hmac","message_id_header":"x-id","timestamp_header":"x-ts","payload_format":"{id}.{timestamp}.{body}"})",
       {}},
  };
  for (const Case& c : cases) {
    const std::vector<std::string> warnings = SchemeWarnings(Parsed(c.profile_json));
    ASSERT_EQ(warnings.size(), c.says.size()) << c.profile_json;
    for (size_t i = 0; i < warnings.size(); ++i) {
      EXPECT_NE(warnings[i].find(c.says[i]), std::string::npos)
          << c.profile_json << ": " << warnings[i];
    }
  }
}

}  // namespace
}  // namespace hookguard

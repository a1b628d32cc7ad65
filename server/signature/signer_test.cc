#include "server/signature/signer.h"

#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Expected values computed outside hookguard, with Python's hmac module, e.g.
// hmac.new(b"vapi-hmac-secret", b"1700000000000." + BODY, hashlib.sha256).hexdigest()
// (the same as `printf %s "1700000000000.$BODY" | openssl dgst -sha256 -hmac ...`).
constexpr char kBody[] = R"({"message":{"type":"status-update","call":{"id":"call-1"}}})";

SignatureScheme Scheme(const std::string& profile_json) {
  config::v1::Profile p;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(profile_json, &p).ok()) << profile_json;
  absl::StatusOr<SignatureScheme> scheme = ParseSignatureScheme(p);
  EXPECT_TRUE(scheme.ok()) << profile_json << ": " << scheme.status();
  return scheme.ok() ? *std::move(scheme) : SignatureScheme();
}

struct SignCase {
  const char* name;
  const char* profile_json;
  const char* secret;  // as configured (DecodeSecretKey decodes it)
  SignInput input;
  Headers want;
};

TEST(SignDelivery, SendsWhatEachPlatformSendsForIndependentVectors) {
  const SignInput plain{kBody};
  SignInput ms{kBody};
  ms.timestamp = "1700000000000";
  SignInput seconds{kBody};
  seconds.timestamp = "1700000000";
  SignInput github{kBody};
  github.message_id = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
  SignInput standard{kBody};
  standard.timestamp = "1700000000";
  standard.message_id = "msg_1";
  SignInput method_url{kBody};
  method_url.method = "POST";
  method_url.url = "https://app.example/hook";
  SignInput retell{kBody};
  retell.timestamp = "1700000000123";
  // Twilio's worked example (its request validators' tests): auth token
  // "12345", this URL and these parameters sign to RSOYDt4T1cUTdK1PDd93/VVr8B8=;
  // and a JSON body whose SHA-256 the URL carries, to a9nBmqA0ju/hNViExpshrM61xv4=.
  SignInput twilio{
      "CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212"
      "&Caller=%2B14158675309"};
  twilio.method = "POST";
  twilio.url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  SignInput twilio_json{R"({"property": "value", "boolean": true})"};
  twilio_json.url =
      "https://mycompany.com/myapp.php?foo=1&bar=2"
      "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
  const SignCase cases[] = {
      {"vapi-hmac: a VAPI HMAC credential's defaults, millisecond timestamp",
       R"({"name":"p","preset":"vapi-hmac"})",
       "vapi-hmac-secret",
       ms,
       {{"x-signature", "f486f9b63cce406b6937f4b8873e4b101d51647a96319deec9134fcc1c02af34"},
        {"x-timestamp", "1700000000000"}}},
      {"vapi: the body alone",
       R"({"name":"p","preset":"vapi"})",
       "test-secret",
       plain,
       {{"x-vapi-signature", "eccea06870b7458e545dd91dfed7c7b5c8aa88ac8aeda608fe7a2437cdf4d4cc"}}},
      {"vapi-secret",
       R"({"name":"p","preset":"vapi-secret"})",
       "s3cret",
       plain,
       {{"x-vapi-secret", "s3cret"}}},
      {"vapi-bearer",
       R"({"name":"p","preset":"vapi-bearer"})",
       "s3cret",
       plain,
       {{"authorization", "Bearer s3cret"}}},
      {"stripe: key=value header",
       R"({"name":"p","preset":"stripe"})",
       "whsec_stripetest",
       seconds,
       {{"stripe-signature",
         "t=1700000000,v1=3e20a77e930720b3559de0a699e45990db10a2624482178e1fd3a2331b6919f1"}}},
      {"github: prefix and delivery id",
       R"({"name":"p","preset":"github"})",
       "gh-secret",
       github,
       {{"x-hub-signature-256",
         "sha256=969999488bc56dd17c36681fa86855f8cd185912d2a73c62921ba6dd65e6d1e4"},
        {"x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"}}},
      {"slack",
       R"({"name":"p","preset":"slack"})",
       "slack-secret",
       seconds,
       {{"x-slack-signature",
         "v0=fb0065d4463ff65bdedb1f3b80595a3e2ed2f1460a35df590c318b01440ff14f"},
        {"x-slack-request-timestamp", "1700000000"}}},
      {"standard_webhooks",
       R"({"name":"p","kind":"standard_webhooks"})",
       "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
       standard,
       {{"webhook-id", "msg_1"},
        {"webhook-timestamp", "1700000000"},
        {"webhook-signature", "v1,tckJwa+wEubMqlY9FE7X3c9c0UenwXewdqJq0I63niI="}}},
      {"hmac sha512, base64, method and url signed",
       R"({"name":"p","kind":"hmac","algorithm":"sha512","signature_encoding":"base64",
           "signature_header":"x-sig","payload_format":"{method} {url} {body}"})",
       "k2",
       method_url,
       {{"x-sig",
         "bjN6t9NJt98Cg/C/2DgbK/yJ0S8PhDTnY9ntXch640tPse05tbC17Ux/D1ArbUbl9KuMm/"
         "vsWAC4dfekdX2MHg=="}}},
      {"retell: v=<ms>,d=<hex of body + ms>",
       R"({"name":"p","preset":"retell"})",
       "retell-api-key",
       retell,
       {{"x-retell-signature",
         "v=1700000000123,d=c5374a17c956c7e024e246da9ecde88ad0b877b78e6029c10670c607224b67af"}}},
      {"elevenlabs: t=<s>,v0=<hex of t.body>",
       R"({"name":"p","preset":"elevenlabs"})",
       "wsec_elevenlabstest",
       seconds,
       {{"elevenlabs-signature",
         "t=1700000000,v0=0526ad97130799afd07299c66e9f559e691fd3e037bc6b19584bd9fa1da55603"}}},
      {"twilio: the URL and the sorted form parameters",
       R"({"name":"p","kind":"twilio"})",
       "12345",
       twilio,
       {{"x-twilio-signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8="}}},
      {"twilio: a JSON body, the URL carrying its bodySHA256",
       R"({"name":"p","kind":"twilio"})",
       "12345",
       twilio_json,
       {{"x-twilio-signature", "a9nBmqA0ju/hNViExpshrM61xv4="}}},
  };
  for (const SignCase& c : cases) {
    SCOPED_TRACE(c.name);
    const SignatureScheme scheme = Scheme(c.profile_json);
    absl::StatusOr<std::string> key = DecodeSecretKey(scheme, c.secret);
    ASSERT_TRUE(key.ok()) << key.status();
    absl::StatusOr<Headers> got = SignDelivery(scheme, *key, c.input);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, c.want);

    // And the server's verifier of the same profile takes what was signed.
    absl::StatusOr<std::unique_ptr<const Verifier>> verifier = MakeVerifier(scheme, {{"k", *key}});
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    v1::HttpRequest request;
    request.set_body(std::string(c.input.body));
    request.set_method(std::string(c.input.method));
    request.set_url(std::string(c.input.url));
    for (const auto& [name, value] : *got) (*request.mutable_headers())[name] = value;
    absl::StatusOr<VerifyOutcome> out =
        (*verifier)->Verify(request, absl::FromUnixSeconds(1700000000));
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->result, v1::SIGNATURE_RESULT_VALID) << out->detail;
  }
}

TEST(SignDelivery, RefusesWhatTheSchemeCannotSignWithoutNamingASecret) {
  const struct {
    const char* name;
    const char* profile_json;
    SignInput input;
    const char* says;
  } cases[] = {
      {"no timestamp for vapi-hmac", R"({"name":"p","preset":"vapi-hmac"})", {kBody}, "timestamp"},
      {"a timestamp that is not digits",
       R"({"name":"p","preset":"vapi-hmac"})",
       {kBody, "", "", "yesterday"},
       "Unix time"},
      {"no message id for standard_webhooks",
       R"({"name":"p","kind":"standard_webhooks"})",
       {kBody, "", "", "1700000000"},
       "message id"},
      {"no url when {url} is signed",
       R"({"name":"p","kind":"hmac","payload_format":"{url}.{body}"})",
       {kBody},
       "URL"},
      {"no url for twilio", R"({"name":"p","kind":"twilio"})", {"CallSid=CA1"}, "URL"},
      {"twilio: a body that is not a form",
       R"({"name":"p","kind":"twilio"})",
       {kBody, "POST", "https://h.example/t"},
       "form body"},
      {"twilio: a bodySHA256 of another body",
       R"({"name":"p","kind":"twilio"})",
       {kBody, "POST",
        "https://h.example/t?bodySHA256="
        "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"},
       "bodySHA256"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Headers> got = SignDelivery(Scheme(c.profile_json), "the-secret", c.input);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(c.says), absl::string_view::npos) << got.status();
    EXPECT_EQ(got.status().message().find("the-secret"), absl::string_view::npos);
  }
}

TEST(NeedsOf, SaysWhatEachSchemeSignsBesidesTheBody) {
  EXPECT_TRUE(NeedsOf(Scheme(R"({"name":"p","preset":"vapi-hmac"})")).timestamp);
  EXPECT_FALSE(NeedsOf(Scheme(R"({"name":"p","preset":"vapi"})")).timestamp);
  EXPECT_TRUE(NeedsOf(Scheme(R"({"name":"p","preset":"stripe"})")).timestamp);
  EXPECT_TRUE(NeedsOf(Scheme(R"({"name":"p","preset":"github"})")).message_id);
  const SignNeeds standard = NeedsOf(Scheme(R"({"name":"p","kind":"standard_webhooks"})"));
  EXPECT_TRUE(standard.timestamp && standard.message_id);
  const SignNeeds twilio = NeedsOf(Scheme(R"({"name":"p","kind":"twilio"})"));
  EXPECT_TRUE(twilio.url && !twilio.timestamp && !twilio.message_id);
  const SignNeeds shared = NeedsOf(Scheme(R"({"name":"p","preset":"vapi-bearer"})"));
  EXPECT_FALSE(shared.timestamp || shared.message_id || shared.method || shared.url);
}

}  // namespace
}  // namespace hookguard

#include "server/signature/twilio_verifier.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using v1::SIGNATURE_RESULT_MALFORMED;
using v1::SIGNATURE_RESULT_MISMATCH;
using v1::SIGNATURE_RESULT_MISSING;
using v1::SIGNATURE_RESULT_VALID;

// Twilio's worked example, as its request validator's tests carry it
// (twilio/twilio-python tests/unit/test_request_validator.py): auth token
// "12345", this URL and these POST parameters sign to kExample. The other
// signatures are that file's too: the URL with :443, http with :80, http
// with :1234, repeated Digits, and a JSON body with bodySHA256. None was
// computed by this code.
constexpr char kToken[] = "12345";
constexpr char kUrl[] = "https://mycompany.com/myapp.php?foo=1&bar=2";
constexpr char kBody[] =
    "CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212"
    "&Caller=%2B14158675309";
constexpr char kExample[] = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
constexpr char kWith443[] = "kvajT1Ptam85bY51eRf/AJRuM3w=";
constexpr char kHttpWith80[] = "0ZXoZLH/DfblKGATFgpif+LLRf4=";
constexpr char kHttpWith1234[] = "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=";
constexpr char kRepeatedBody[] = "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234";
constexpr char kRepeated[] = "IK+Dwps556ElfBT0I3Rgjkr1wJU=";
constexpr char kJsonBody[] = R"({"property": "value", "boolean": true})";
constexpr char kJsonUrl[] =
    "https://mycompany.com/myapp.php?foo=1&bar=2"
    "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
constexpr char kJson[] = "a9nBmqA0ju/hNViExpshrM61xv4=";

struct Request {
  std::string url = kUrl;
  std::string body = kBody;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-Twilio-Signature", kExample}, {"Content-Type", "application/x-www-form-urlencoded"}};
};

v1::HttpRequest Http(const Request& r) {
  v1::HttpRequest http;
  http.set_url(r.url);
  http.set_body(r.body);
  http.set_method("POST");
  for (const auto& [name, value] : r.headers) (*http.mutable_headers())[name] = value;
  return http;
}

Request Signed(std::string url, std::string body, std::string signature) {
  Request r;
  r.url = std::move(url);
  r.body = std::move(body);
  r.headers[0].second = std::move(signature);
  return r;
}

std::unique_ptr<const TwilioVerifier> Make(std::vector<SecretKey> keys = {{"primary", kToken}}) {
  auto v = TwilioVerifier::Create(TwilioScheme{}, std::move(keys));
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *std::move(v) : nullptr;
}

struct Case {
  const char* name;
  Request request;
  v1::SignatureResult result;
  const char* detail = "";  // a fragment of the detail, for failures
};

void RunCases(const Verifier& verifier, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const VerifyOutcome out = verifier.Verify(Http(c.request), absl::Now()).value();
    EXPECT_EQ(out.result, c.result) << c.name << ": " << out.detail;
    if (c.result == SIGNATURE_RESULT_VALID) {
      EXPECT_EQ(out.key_id, "primary") << c.name;
      continue;
    }
    EXPECT_TRUE(out.key_id.empty()) << c.name;
    EXPECT_THAT(out.detail, HasSubstr(c.detail)) << c.name;
    // Never the signature, the token or the body's values.
    for (const char* secret : {kExample, kToken, "14158675309", "CA1234567890ABCDE"}) {
      EXPECT_THAT(out.detail, Not(HasSubstr(secret))) << c.name;
    }
  }
}

Request With(void (*change)(Request&)) {
  Request r;
  change(r);
  return r;
}

TEST(TwilioVerifier, VerifiesTwilioWorkedExamples) {
  RunCases(*Make(), {
                        {"documented example", Request{}, SIGNATURE_RESULT_VALID},
                        {"parameters in another body order",
                         Signed(kUrl,
                                "To=%2B18005551212&From=%2B14158675309&Caller=%2B14158675309"
                                "&Digits=1234&CallSid=CA1234567890ABCDE",
                                kExample),
                         SIGNATURE_RESULT_VALID},
                        {"repeated parameter, values sorted, identical pair once",
                         Signed(kUrl, kRepeatedBody, kRepeated), SIGNATURE_RESULT_VALID},
                        {"JSON body with bodySHA256", Signed(kJsonUrl, kJsonBody, kJson),
                         SIGNATURE_RESULT_VALID},
                        {"content type with charset", With([](Request& r) {
                           r.headers[1].second = "application/x-www-form-urlencoded; charset=UTF-8";
                         }),
                         SIGNATURE_RESULT_VALID},
                        {"no content type", With([](Request& r) { r.headers.pop_back(); }),
                         SIGNATURE_RESULT_VALID},
                        {"header name in lower case",
                         With([](Request& r) { r.headers[0].first = "x-twilio-signature"; }),
                         SIGNATURE_RESULT_VALID},
                    });
}

// Twilio signs the URL with or without its scheme's default port; the SDKs
// try both spellings. A non-default port is never dropped.
TEST(TwilioVerifier, AcceptsTheDefaultPortEitherWay) {
  RunCases(
      *Make(),
      {
          {"signed without port, sent with :443",
           Signed("https://mycompany.com:443/myapp.php?foo=1&bar=2", kBody, kExample),
           SIGNATURE_RESULT_VALID},
          {"signed with :443, sent without", Signed(kUrl, kBody, kWith443), SIGNATURE_RESULT_VALID},
          {"signed with :443, sent with :443",
           Signed("https://mycompany.com:443/myapp.php?foo=1&bar=2", kBody, kWith443),
           SIGNATURE_RESULT_VALID},
          {"http signed with :80, sent without",
           Signed("http://mycompany.com/myapp.php?foo=1&bar=2", kBody, kHttpWith80),
           SIGNATURE_RESULT_VALID},
          {"http with :1234 signed as sent",
           Signed("http://mycompany.com:1234/myapp.php?foo=1&bar=2", kBody, kHttpWith1234),
           SIGNATURE_RESULT_VALID},
          {"signed without port, sent with :1234 (the SDKs accept this; we do not)",
           Signed("https://mycompany.com:1234/myapp.php?foo=1&bar=2", kBody, kExample),
           SIGNATURE_RESULT_MISMATCH, "no auth token"},
          {"signed with :443, sent with :80",
           Signed("https://mycompany.com:80/myapp.php?foo=1&bar=2", kBody, kWith443),
           SIGNATURE_RESULT_MISMATCH, "no auth token"},
          {"http :443 is not https's default port",
           Signed("http://mycompany.com:443/myapp.php?foo=1&bar=2", kBody, kHttpWith80),
           SIGNATURE_RESULT_MISMATCH, "no auth token"},
      });
}

TEST(TwilioVerifier, RefusesAnotherUrl) {
  auto url = [](const char* u) { return Signed(u, kBody, kExample); };
  RunCases(*Make(), {
                        {"scheme", url("http://mycompany.com/myapp.php?foo=1&bar=2"),
                         SIGNATURE_RESULT_MISMATCH, "no auth token"},
                        {"host", url("https://othercompany.com/myapp.php?foo=1&bar=2"),
                         SIGNATURE_RESULT_MISMATCH, "no auth token"},
                        {"port", url("https://mycompany.com:8443/myapp.php?foo=1&bar=2"),
                         SIGNATURE_RESULT_MISMATCH, "no auth token"},
                        {"path", url("https://mycompany.com/other.php?foo=1&bar=2"),
                         SIGNATURE_RESULT_MISMATCH, "no auth token"},
                        {"query value", url("https://mycompany.com/myapp.php?foo=2&bar=2"),
                         SIGNATURE_RESULT_MISMATCH, "no auth token"},
                        {"query order", url("https://mycompany.com/myapp.php?bar=2&foo=1"),
                         SIGNATURE_RESULT_MISMATCH, "no auth token"},
                        {"query dropped", url("https://mycompany.com/myapp.php"),
                         SIGNATURE_RESULT_MISMATCH, "no auth token"},
                        {"trailing slash", url("https://mycompany.com/myapp.php/?foo=1&bar=2"),
                         SIGNATURE_RESULT_MISMATCH, "no auth token"},
                    });
}

TEST(TwilioVerifier, RefusesAChangedBody) {
  auto body = [](const char* b) { return Signed(kUrl, b, kExample); };
  RunCases(*Make(),
           {
               {"value changed",
                body("CallSid=CA1234567890ABCDE&Digits=1235&From=%2B14158675309&To=%2B18005551212"
                     "&Caller=%2B14158675309"),
                SIGNATURE_RESULT_MISMATCH, "no auth token"},
               {"parameter added", body((std::string(kBody) + "&AccountSid=ACother").c_str()),
                SIGNATURE_RESULT_MISMATCH, "no auth token"},
               {"parameter removed",
                body("CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212"),
                SIGNATURE_RESULT_MISMATCH, "no auth token"},
               {"empty value added", body((std::string(kBody) + "&Extra=").c_str()),
                SIGNATURE_RESULT_MISMATCH, "no auth token"},
               {"parameter repeated with another value",
                body((std::string(kBody) + "&Digits=9999").c_str()), SIGNATURE_RESULT_MISMATCH,
                "no auth token"},
               {"empty body", body(""), SIGNATURE_RESULT_MISMATCH, "no auth token"},
               {"JSON body changed",
                Signed(kJsonUrl, R"({"property": "value", "boolean": false})", kJson),
                SIGNATURE_RESULT_MISMATCH, "bodySHA256"},
               {"JSON body's hash dropped from the url",
                [] {
                  Request r = Signed(kUrl, kJsonBody, kJson);
                  r.headers[1].second = "application/json";
                  return r;
                }(),
                SIGNATURE_RESULT_MALFORMED, "no bodySHA256"},
               {"JSON body's hash dropped, sent as a form", Signed(kUrl, kJsonBody, kJson),
                SIGNATURE_RESULT_MALFORMED, "form body"},
           });
}

TEST(TwilioVerifier, RefusesWhatItCannotRead) {
  RunCases(
      *Make(),
      {
          {"no signature", With([](Request& r) { r.headers.erase(r.headers.begin()); }),
           SIGNATURE_RESULT_MISSING, "x-twilio-signature"},
          {"signature not base64",
           With([](Request& r) { r.headers[0].second = "RSOYDt4T1cUTdK1PDd93/VVr8B8=!"; }),
           SIGNATURE_RESULT_MALFORMED, "base64"},
          {"signature of the wrong length",
           With([](Request& r) { r.headers[0].second = "c2hvcnQ="; }), SIGNATURE_RESULT_MALFORMED,
           "HMAC-SHA1"},
          {"two signature headers", With([](Request& r) {
             r.headers.push_back({"x-twilio-signature", kExample});
           }),
           SIGNATURE_RESULT_MALFORMED, "x-twilio-signature"},
          {"no url", With([](Request& r) { r.url.clear(); }), SIGNATURE_RESULT_MALFORMED,
           "request has no url"},
          {"relative url", With([](Request& r) { r.url = "/myapp.php?foo=1&bar=2"; }),
           SIGNATURE_RESULT_MALFORMED, "absolute"},
          {"another scheme", With([](Request& r) { r.url = "ftp://mycompany.com/myapp.php"; }),
           SIGNATURE_RESULT_MALFORMED, "absolute"},
          {"no host", With([](Request& r) { r.url = "https:///myapp.php"; }),
           SIGNATURE_RESULT_MALFORMED, "absolute"},
          {"port not digits", With([](Request& r) { r.url = "https://mycompany.com:x/a"; }),
           SIGNATURE_RESULT_MALFORMED, "absolute"},
          {"bad percent-encoding in the body",
           With([](Request& r) { r.body = std::string(kBody) + "&Extra=%zz"; }),
           SIGNATURE_RESULT_MALFORMED, "percent-encoding"},
          {"bad percent-encoding in the query",
           With([](Request& r) { r.url = "https://mycompany.com/myapp.php?foo=%4"; }),
           SIGNATURE_RESULT_MALFORMED, "url query"},
          {"raw space in the body", With([](Request& r) { r.body = "CallSid=CA1 2"; }),
           SIGNATURE_RESULT_MALFORMED, "raw byte"},
          {"JSON body without bodySHA256", With([](Request& r) {
             r.body = kJsonBody;
             r.headers[1].second = "application/json";
           }),
           SIGNATURE_RESULT_MALFORMED, "no bodySHA256"},
          {"bodySHA256 not hex",
           Signed("https://mycompany.com/myapp.php?bodySHA256=xyz", kJsonBody, kJson),
           SIGNATURE_RESULT_MALFORMED, "64 hex digits"},
          {"bodySHA256 twice",
           Signed(
               std::string(kJsonUrl) +
                   "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620",
               kJsonBody, kJson),
           SIGNATURE_RESULT_MALFORMED, "more than once"},
      });
}

// During a rotation both auth tokens verify; key_id names the one that did.
TEST(TwilioVerifier, AcceptsEveryConfiguredTokenAndNamesIt) {
  auto v = Make({{"secondary", "another-token"}, {"primary", kToken}});
  const VerifyOutcome out = v->Verify(Http(Request{}), absl::Now()).value();
  EXPECT_EQ(out.result, SIGNATURE_RESULT_VALID) << out.detail;
  EXPECT_EQ(out.key_id, "primary");

  auto revoked = Make({{"secondary", "another-token"}});
  EXPECT_EQ(revoked->Verify(Http(Request{}), absl::Now()).value().result,
            SIGNATURE_RESULT_MISMATCH);
}

// A voice status callback as Twilio posts it (tests/fixtures/twilio/
// voice_status_callback.form, in Twilio's field order, not sorted), signed
// for https://hooks.example.com/twilio/voice/status?tenant=acme with the
// token f0e1d2c3b4a5968778695a4b3c2d1e0f by Python's hmac module.
TEST(TwilioVerifier, VerifiesAVoiceStatusCallback) {
  const std::string body =
      "Called=%2B14155550100&ToState=CA&CallerCountry=US&Direction=inbound"
      "&Timestamp=Sat%2C+05+Dec+2026+07%3A30%3A00+%2B0000&CallbackSource=call-progress-events"
      "&SequenceNumber=3&CallerState=CA&ToZip=94107&CallSid=CA5c5d5f2ab7f0a1c8e1e0c3b0a7f2d9e1"
      "&To=%2B14155550100&CallerZip=94612&ToCountry=US&CalledZip=94107&ApiVersion=2010-04-01"
      "&CalledCity=SAN+FRANCISCO&CallStatus=completed&Duration=1&From=%2B14155550199"
      "&CallDuration=42&AccountSid=AC25aa00521bfac6d667f13fec086072df&CalledCountry=US"
      "&CallerCity=OAKLAND&ToCity=SAN+FRANCISCO&FromCountry=US&Caller=%2B14155550199"
      "&FromCity=OAKLAND&CalledState=CA&FromZip=94612&FromState=CA&SipResponseCode=200";
  auto v = Make({{"primary", "f0e1d2c3b4a5968778695a4b3c2d1e0f"}});
  const std::string url = "https://hooks.example.com/twilio/voice/status?tenant=acme";
  const char kSignature[] = "btBLykMyvMEs8+0d1v8MkMqwwfs=";
  EXPECT_EQ(v->Verify(Http(Signed(url, body, kSignature)), absl::Now()).value().result,
            SIGNATURE_RESULT_VALID);
  // Another subaccount's AccountSid in the same signed delivery.
  std::string other = body;
  other.replace(other.find("AC25aa"), 6, "AC99bb");
  EXPECT_EQ(v->Verify(Http(Signed(url, other, kSignature)), absl::Now()).value().result,
            SIGNATURE_RESULT_MISMATCH);
  // Another tenant's URL.
  EXPECT_EQ(v->Verify(Http(Signed("https://hooks.example.com/twilio/voice/status?tenant=other",
                                  body, kSignature)),
                      absl::Now())
                .value()
                .result,
            SIGNATURE_RESULT_MISMATCH);
}

}  // namespace
}  // namespace hookguard

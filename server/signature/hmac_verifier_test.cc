#include "server/signature/hmac_verifier.h"

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

// The expected MACs below were computed with the openssl command line
// (`printf %s "$PAYLOAD" | openssl dgst -sha256 -hmac test-secret`), not by
// this code.
constexpr char kBody[] = R"({"message":{"type":"status-update","call":{"id":"call-1"}}})";
constexpr char kSha256Hex[] = "eccea06870b7458e545dd91dfed7c7b5c8aa88ac8aeda608fe7a2437cdf4d4cc";
constexpr char kSha256HexOldSecret[] =
    "ab5859cc6cc9a2f94bb8435270a429799be6abb2901682532fcfc5a1cc07d633";
constexpr char kSha1Hex[] = "a7553e54b9a6cf2f7486f8521fb92ca90ea6a5b2";
constexpr char kSha512Hex[] =
    "7f2c6bd2de71b0b495d3b4136d6db71899226fb3bfd13cf6a779bfdd555b58751614fc3b2f69b0fe49ffc686db4"
    "5770118eb1187620dd4c5de15e71ca01dae73";
constexpr char kSha256Base64[] = "7M6gaHC3RY5UXdkd/tfHtciqiKyK7aYI/nokN8301Mw=";
constexpr char kSha1Base64[] = "p1U+VLmmzy90hvhSH7ksqQ6mpbI=";
// "{timestamp}.{body}" with timestamp "1700000000" and "1700000000123".
constexpr char kTimestampedHex[] =
    "df87a62fb661b3795c61e8003b402bbc2de4d5fcf54b7034b04f0ffce3616ded";
constexpr char kTimestampedMsHex[] =
    "8f289f7852f9c0fbb7de6a32ff9ad83fa2cc77ab1a5a6bd66f38a011d3f48e4e";
// The same with timestamp "01700000000" (a leading zero).
constexpr char kLeadingZeroTimestampHex[] =
    "6364c0a3c482b72ea1f7388ad0be4f37f0073e11272f0ed43ba82e4599f98f52";
// "{id}.{method}.{url}.{body}" with evt_1, POST, https://app.example/hook.
constexpr char kTemplateHex[] = "1cd3ac0c345a3f990f912011b4d05a3d73f1b54c07c77773470c55b52df4cb48";
// Stripe style, secret "whsec_stripetest", "1700000000.{body}".
constexpr char kStripeHex[] = "3e20a77e930720b3559de0a699e45990db10a2624482178e1fd3a2331b6919f1";

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

v1::HttpRequest Request(std::vector<std::pair<std::string, std::string>> headers,
                        std::string body = kBody) {
  v1::HttpRequest r;
  r.set_body(std::move(body));
  for (auto& [name, value] : headers) (*r.mutable_headers())[name] = value;
  return r;
}

std::unique_ptr<const HmacVerifier> Make(HmacScheme scheme,
                                         std::vector<SecretKey> keys = {{"k1", "test-secret"}}) {
  auto v = HmacVerifier::Create(std::move(scheme), std::move(keys));
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *std::move(v) : nullptr;
}

struct Case {
  const char* name;
  v1::HttpRequest request;
  v1::SignatureResult result;
};

void RunCases(const Verifier& verifier, const std::vector<Case>& cases, absl::Time now = kNow) {
  for (const Case& c : cases) {
    const VerifyOutcome out = verifier.Verify(c.request, now).value();
    EXPECT_EQ(out.result, c.result) << c.name << ": " << out.detail;
    if (c.result == SIGNATURE_RESULT_VALID) {
      EXPECT_EQ(out.key_id, "k1") << c.name;
    } else {
      EXPECT_FALSE(out.detail.empty()) << c.name;
    }
  }
}

TEST(HmacVerifier, DefaultSchemeIsVapiSha256HexOfTheBody) {
  auto v = Make(HmacScheme{});
  RunCases(
      *v,
      {
          {"valid", Request({{"x-vapi-signature", kSha256Hex}}), SIGNATURE_RESULT_VALID},
          {"header name in another case", Request({{"X-Vapi-Signature", kSha256Hex}}),
           SIGNATURE_RESULT_VALID},
          {"upper-case hex",
           Request({{"x-vapi-signature",
                     "ECCEA06870B7458E545DD91DFED7C7B5C8AA88AC8AEDA608F"
                     "E7A2437CDF4D4CC"}}),
           SIGNATURE_RESULT_VALID},
          {"surrounding spaces",
           Request({{"x-vapi-signature", std::string(" ") + kSha256Hex + " "}}),
           SIGNATURE_RESULT_VALID},
          {"no header", Request({}), SIGNATURE_RESULT_MISSING},
          {"empty header", Request({{"x-vapi-signature", ""}}), SIGNATURE_RESULT_MISSING},
          {"not hex", Request({{"x-vapi-signature", "zz"}}), SIGNATURE_RESULT_MALFORMED},
          {"odd hex", Request({{"x-vapi-signature", "abc"}}), SIGNATURE_RESULT_MALFORMED},
          {"tampered body", Request({{"x-vapi-signature", kSha256Hex}}, std::string(kBody) + " "),
           SIGNATURE_RESULT_MISMATCH},
          {"other secret", Request({{"x-vapi-signature", kSha256HexOldSecret}}),
           SIGNATURE_RESULT_MISMATCH},
          {"truncated MAC", Request({{"x-vapi-signature", std::string(kSha256Hex).substr(0, 32)}}),
           SIGNATURE_RESULT_MISMATCH},
          {"MAC of another algorithm", Request({{"x-vapi-signature", kSha1Hex}}),
           SIGNATURE_RESULT_MISMATCH},
      });
}

TEST(HmacVerifier, SupportsEveryAlgorithmAndEncoding) {
  struct AlgoCase {
    HashAlgorithm algorithm;
    SignatureEncoding encoding;
    std::string signature;
  };
  const std::string unpadded = std::string(kSha256Base64).substr(0, 43);
  const AlgoCase cases[] = {
      {HashAlgorithm::kSha1, SignatureEncoding::kHex, kSha1Hex},
      {HashAlgorithm::kSha256, SignatureEncoding::kHex, kSha256Hex},
      {HashAlgorithm::kSha512, SignatureEncoding::kHex, kSha512Hex},
      {HashAlgorithm::kSha256, SignatureEncoding::kBase64, kSha256Base64},
      {HashAlgorithm::kSha256, SignatureEncoding::kBase64, unpadded},
      {HashAlgorithm::kSha1, SignatureEncoding::kBase64, kSha1Base64},
  };
  for (const AlgoCase& c : cases) {
    HmacScheme scheme;
    scheme.algorithm = c.algorithm;
    scheme.encoding = c.encoding;
    auto v = Make(scheme);
    EXPECT_EQ(v->Verify(Request({{"x-vapi-signature", c.signature}}), kNow)->result,
              SIGNATURE_RESULT_VALID)
        << c.signature;
    EXPECT_EQ(v->Verify(Request({{"x-vapi-signature", c.signature}}, "other"), kNow)->result,
              SIGNATURE_RESULT_MISMATCH)
        << c.signature;
  }
  HmacScheme base64;
  base64.encoding = SignatureEncoding::kBase64;
  auto v = Make(base64);
  EXPECT_EQ(v->Verify(Request({{"x-vapi-signature", kSha256Hex}}), kNow)->result,
            SIGNATURE_RESULT_MISMATCH);  // hex digits are base64 too, of other bytes
  EXPECT_EQ(v->Verify(Request({{"x-vapi-signature", "not base64!"}}), kNow)->result,
            SIGNATURE_RESULT_MALFORMED);
}

TEST(HmacVerifier, RequiresTheSignaturePrefix) {
  HmacScheme scheme;
  scheme.signature_header = "x-hub-signature-256";
  scheme.signature_prefix = "sha256=";
  auto v = Make(scheme);
  RunCases(
      *v,
      {
          {"with prefix", Request({{"x-hub-signature-256", std::string("sha256=") + kSha256Hex}}),
           SIGNATURE_RESULT_VALID},
          {"without prefix", Request({{"x-hub-signature-256", kSha256Hex}}),
           SIGNATURE_RESULT_MALFORMED},
          {"other prefix", Request({{"x-hub-signature-256", std::string("sha1=") + kSha256Hex}}),
           SIGNATURE_RESULT_MALFORMED},
          {"prefix only", Request({{"x-hub-signature-256", "sha256="}}),
           SIGNATURE_RESULT_MALFORMED},
      });
}

TEST(HmacVerifier, ChecksTheTimestampAfterTheMac) {
  HmacScheme scheme;
  scheme.timestamp_header = "x-timestamp";
  scheme.payload_format = "{timestamp}.{body}";
  auto v = Make(scheme);
  const auto signed_at = [](const char* ts, const char* mac) {
    return Request({{"x-vapi-signature", mac}, {"x-timestamp", ts}});
  };
  RunCases(
      *v,
      {
          {"seconds", signed_at("1700000000", kTimestampedHex), SIGNATURE_RESULT_VALID},
          {"milliseconds", signed_at("1700000000123", kTimestampedMsHex), SIGNATURE_RESULT_VALID},
          {"no timestamp", Request({{"x-vapi-signature", kTimestampedHex}}),
           SIGNATURE_RESULT_MALFORMED},
          {"non-numeric timestamp", signed_at("17e8", kTimestampedHex), SIGNATURE_RESULT_MALFORMED},
          {"negative timestamp", signed_at("-1700000000", kTimestampedHex),
           SIGNATURE_RESULT_MALFORMED},
          // Signed over that very text, still refused: one time, one text.
          {"leading zero", signed_at("01700000000", kLeadingZeroTimestampHex),
           SIGNATURE_RESULT_MALFORMED},
          {"timestamp changed", signed_at("1700000001", kTimestampedHex),
           SIGNATURE_RESULT_MISMATCH},
          {"body MAC without timestamp", signed_at("1700000000", kSha256Hex),
           SIGNATURE_RESULT_MISMATCH},
      });
  // The same authentic request, seen later or earlier than the window.
  const v1::HttpRequest ok = signed_at("1700000000", kTimestampedHex);
  EXPECT_EQ(v->Verify(ok, kNow + absl::Seconds(300))->result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ(v->Verify(ok, kNow - absl::Seconds(300))->result, SIGNATURE_RESULT_VALID);
  const VerifyOutcome old = v->Verify(ok, kNow + absl::Seconds(301)).value();
  EXPECT_EQ(old.result, SIGNATURE_RESULT_STALE);
  EXPECT_EQ(old.key_id, "k1");  // authentic, but old
  EXPECT_EQ(old.timestamp_unix, 1700000000);
  EXPECT_EQ(v->Verify(ok, kNow - absl::Seconds(301))->result, SIGNATURE_RESULT_STALE);
  const v1::HttpRequest ms = signed_at("1700000000123", kTimestampedMsHex);
  EXPECT_EQ(v->Verify(ms, kNow)->timestamp_unix, 1700000000);
  EXPECT_EQ(v->Verify(ms, kNow + absl::Hours(1))->result, SIGNATURE_RESULT_STALE);
  // A forged old request is MISMATCH, never STALE.
  EXPECT_EQ(v->Verify(signed_at("1600000000", kTimestampedHex), kNow)->result,
            SIGNATURE_RESULT_MISMATCH);
}

TEST(HmacVerifier, HonoursTheTolerance) {
  HmacScheme scheme;
  scheme.timestamp_header = "x-timestamp";
  scheme.payload_format = "{timestamp}.{body}";
  scheme.tolerance = absl::Seconds(10);
  auto v = Make(scheme);
  const v1::HttpRequest ok =
      Request({{"x-vapi-signature", kTimestampedHex}, {"x-timestamp", "1700000000"}});
  EXPECT_EQ(v->Verify(ok, kNow + absl::Seconds(10))->result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ(v->Verify(ok, kNow + absl::Seconds(11))->result, SIGNATURE_RESULT_STALE);
}

TEST(HmacVerifier, SignsMethodUrlAndMessageId) {
  HmacScheme scheme;
  scheme.message_id_header = "x-event-id";
  scheme.payload_format = "{id}.{method}.{url}.{body}";
  auto v = Make(scheme);
  v1::HttpRequest ok = Request({{"x-vapi-signature", kTemplateHex}, {"x-event-id", "evt_1"}});
  ok.set_method("POST");
  ok.set_url("https://app.example/hook");
  const VerifyOutcome out = v->Verify(ok, kNow).value();
  EXPECT_EQ(out.result, SIGNATURE_RESULT_VALID) << out.detail;
  EXPECT_EQ(out.message_id, "evt_1");

  v1::HttpRequest other_url = ok;
  other_url.set_url("https://evil.example/hook");
  EXPECT_EQ(v->Verify(other_url, kNow)->result, SIGNATURE_RESULT_MISMATCH);
  v1::HttpRequest no_method = ok;
  no_method.clear_method();
  EXPECT_EQ(v->Verify(no_method, kNow)->result, SIGNATURE_RESULT_MALFORMED);
  v1::HttpRequest no_url = ok;
  no_url.clear_url();
  EXPECT_EQ(v->Verify(no_url, kNow)->result, SIGNATURE_RESULT_MALFORMED);
  v1::HttpRequest no_id = ok;
  no_id.mutable_headers()->erase("x-event-id");
  EXPECT_EQ(v->Verify(no_id, kNow)->result, SIGNATURE_RESULT_MALFORMED);
  v1::HttpRequest non_ascii_id = ok;
  (*non_ascii_id.mutable_headers())["x-event-id"] = "evt\xc3\xa9";
  EXPECT_EQ(v->Verify(non_ascii_id, kNow)->result, SIGNATURE_RESULT_MALFORMED);
}

TEST(HmacVerifier, ReportsAnUnsignedMessageId) {
  HmacScheme scheme;
  scheme.message_id_header = "x-github-delivery";
  auto v = Make(scheme);
  const VerifyOutcome with =
      v->Verify(Request({{"x-vapi-signature", kSha256Hex}, {"x-github-delivery", "d-1"}}), kNow)
          .value();
  EXPECT_EQ(with.result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ(with.message_id, "d-1");
  const VerifyOutcome without =
      v->Verify(Request({{"x-vapi-signature", kSha256Hex}}), kNow).value();
  EXPECT_EQ(without.result, SIGNATURE_RESULT_VALID);  // not signed, so optional
  EXPECT_EQ(without.message_id, "");
}

TEST(HmacVerifier, ReadsKeyValueSignatureHeaders) {
  HmacScheme scheme;
  scheme.signature_header = "stripe-signature";
  scheme.signature_timestamp_key = "t";
  scheme.signature_key = "v1";
  scheme.payload_format = "{timestamp}.{body}";
  auto v = Make(scheme, {{"k1", "whsec_stripetest"}});
  const std::string good = std::string("v1=") + kStripeHex;
  const std::string bad = std::string("v1=") + kSha256Hex;
  const auto header = [](std::string value) { return Request({{"Stripe-Signature", value}}); };
  RunCases(
      *v,
      {
          {"t then v1", header("t=1700000000," + good), SIGNATURE_RESULT_VALID},
          {"v1 then t", header(good + ",t=1700000000"), SIGNATURE_RESULT_VALID},
          {"several v1, one good", header("t=1700000000," + bad + "," + good),
           SIGNATURE_RESULT_VALID},
          {"v0 ignored", header("t=1700000000," + good + ",v0=abcd"), SIGNATURE_RESULT_VALID},
          {"spaces after commas", header("t=1700000000, " + good), SIGNATURE_RESULT_VALID},
          {"no t", header(good), SIGNATURE_RESULT_MALFORMED},
          {"two t", header("t=1700000000,t=1700000000," + good), SIGNATURE_RESULT_MALFORMED},
          {"no v1", header("t=1700000000,v0=abcd"), SIGNATURE_RESULT_MALFORMED},
          {"part without =", header("t=1700000000," + good + ",junk"), SIGNATURE_RESULT_MALFORMED},
          {"bad hex", header("t=1700000000,v1=xyz"), SIGNATURE_RESULT_MALFORMED},
          {"t not a number", header("t=abc," + good), SIGNATURE_RESULT_MALFORMED},
          {"only wrong MACs", header("t=1700000000," + bad), SIGNATURE_RESULT_MISMATCH},
          {"other t", header("t=1700000001," + good), SIGNATURE_RESULT_MISMATCH},
      });
  const VerifyOutcome out = v->Verify(header("t=1700000000," + good), kNow).value();
  EXPECT_EQ(out.timestamp_unix, 1700000000);
  EXPECT_EQ(v->Verify(header("t=1700000000," + good), kNow + absl::Minutes(6))->result,
            SIGNATURE_RESULT_STALE);
}

TEST(HmacVerifier, AcceptsAnyOfSeveralSecretsAndNamesIt) {
  auto v = Make(HmacScheme{}, {{"2026-11", "test-secret"}, {"2026-10", "old-secret"}});
  const VerifyOutcome by_new = v->Verify(Request({{"x-vapi-signature", kSha256Hex}}), kNow).value();
  EXPECT_EQ(by_new.result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ(by_new.key_id, "2026-11");
  const VerifyOutcome by_old =
      v->Verify(Request({{"x-vapi-signature", kSha256HexOldSecret}}), kNow).value();
  EXPECT_EQ(by_old.result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ(by_old.key_id, "2026-10");
  const VerifyOutcome by_none = v->Verify(Request({{"x-vapi-signature", kSha1Hex}}), kNow).value();
  EXPECT_EQ(by_none.result, SIGNATURE_RESULT_MISMATCH);
  EXPECT_EQ(by_none.key_id, "");
}

TEST(HmacVerifier, FailsClosedOnHostileHeaders) {
  auto v = Make(HmacScheme{});
  RunCases(*v, {
                   {"huge value",
                    Request({{"x-vapi-signature", std::string(kMaxHeaderValueBytes + 2, 'a')}}),
                    SIGNATURE_RESULT_MALFORMED},
                   {"100 KB value", Request({{"x-vapi-signature", std::string(100000, '0')}}),
                    SIGNATURE_RESULT_MALFORMED},
                   {"duplicate in other case",
                    Request({{"x-vapi-signature", kSha256Hex}, {"X-VAPI-SIGNATURE", kSha256Hex}}),
                    SIGNATURE_RESULT_MALFORMED},
                   {"non-ASCII", Request({{"x-vapi-signature", "\xc3\xa9\xc3\xa9"}}),
                    SIGNATURE_RESULT_MALFORMED},
                   {"NUL byte", Request({{"x-vapi-signature", std::string("ab\0cd", 5)}}),
                    SIGNATURE_RESULT_MALFORMED},
                   {"whitespace only", Request({{"x-vapi-signature", " \t "}}),
                    SIGNATURE_RESULT_MISSING},
               });
}

TEST(HmacVerifier, NeverPutsSecretsOrSignaturesInTheDetail) {
  auto v = Make(HmacScheme{});
  for (const std::string& sig : {std::string(kSha256HexOldSecret), std::string("zz-secret-zz")}) {
    const VerifyOutcome out = v->Verify(Request({{"x-vapi-signature", sig}}), kNow).value();
    EXPECT_EQ(out.detail.find(sig), std::string::npos);
    EXPECT_EQ(out.detail.find("test-secret"), std::string::npos);
    EXPECT_EQ(out.detail.find("status-update"), std::string::npos);
  }
}

TEST(HmacVerifier, RefusesAnEmptyKey) {
  EXPECT_FALSE(HmacVerifier::Create(HmacScheme{}, {{"a", ""}}).ok());
}

}  // namespace
}  // namespace hookguard

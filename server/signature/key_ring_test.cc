#include "server/signature/key_ring.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "server/signature/hmac_verifier.h"
#include "server/signature/openssl_fault_for_test.h"
#include "server/signature/standard_webhooks_verifier.h"

namespace hookguard {
namespace {

// RFC 4231 test case 2: HMAC-SHA256 of "what do ya want for nothing?" with
// key "Jefe".
constexpr char kData[] = "what do ya want for nothing?";
constexpr char kJefeMacHex[] = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

std::string JefeMac() { return absl::HexStringToBytes(kJefeMacHex); }

KeyRing Ring(std::vector<SecretKey> keys) {
  absl::StatusOr<KeyRing> ring = KeyRing::Create(HashAlgorithm::kSha256, std::move(keys));
  EXPECT_TRUE(ring.ok()) << ring.status();
  return *std::move(ring);
}

TEST(KeyRing, NamesTheSecretThatMatchesAnyCandidate) {
  const KeyRing ring = Ring({{"new", "not jefe"}, {"old", "Jefe"}});
  const absl::string_view parts[] = {"what do ya ", "want for nothing?"};
  const std::string wrong(JefeMac().size(), 'x');
  absl::StatusOr<const std::string*> matched =
      ring.Match(parts, std::vector<std::string>{wrong, JefeMac()});
  ASSERT_TRUE(matched.ok()) << matched.status();
  ASSERT_NE(*matched, nullptr);
  EXPECT_EQ(**matched, "old");
}

TEST(KeyRing, NoMatchIsNullNotAnError) {
  const KeyRing ring = Ring({{"a", "not jefe"}});
  const absl::string_view parts[] = {kData};
  for (const std::vector<std::string>& candidates :
       {std::vector<std::string>{JefeMac()}, std::vector<std::string>{JefeMac().substr(1)},
        std::vector<std::string>{}}) {
    absl::StatusOr<const std::string*> matched = ring.Match(parts, candidates);
    ASSERT_TRUE(matched.ok()) << matched.status();
    EXPECT_EQ(*matched, nullptr);
  }
  EXPECT_EQ(*Ring({}).Match(parts, {JefeMac()}), nullptr);  // no secret: nothing verifies
}

TEST(KeyRing, TheFirstConfiguredSecretWinsWhenSeveralMatch) {
  const KeyRing ring = Ring({{"first", "Jefe"}, {"second", "Jefe"}});
  const absl::string_view parts[] = {kData};
  EXPECT_EQ(**ring.Match(parts, {JefeMac()}), "first");
}

TEST(KeyRing, RefusesAnEmptyKeyNamingItsId) {
  absl::StatusOr<KeyRing> ring = KeyRing::Create(HashAlgorithm::kSha256, {{"blank", ""}});
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.status().message().find("secret \"blank\""), absl::string_view::npos);
}

// An OpenSSL failure is an error that fails the request, never a MISMATCH
// (a 401 the platform would not retry) and never VALID.
TEST(KeyRing, AnOpenSslFailureIsAnInternalError) {
  const KeyRing ring = Ring({{"a", "Jefe"}});
  const absl::string_view parts[] = {kData};
  FailOpenSslMacs fail;
  absl::StatusOr<const std::string*> matched = ring.Match(parts, {JefeMac()});
  EXPECT_EQ(matched.status().code(), absl::StatusCode::kInternal);
}

TEST(KeyRing, VerifiersPassAnOpenSslFailureOnAsAnError) {
  auto hmac = HmacVerifier::Create(HmacScheme{}, {{"a", "Jefe"}});
  ASSERT_TRUE(hmac.ok()) << hmac.status();
  v1::HttpRequest request;
  request.set_body(kData);
  (*request.mutable_headers())["x-vapi-signature"] = kJefeMacHex;
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  EXPECT_EQ((*hmac)->Verify(request, now)->result, v1::SIGNATURE_RESULT_VALID);

  auto standard = StandardWebhooksVerifier::Create(StandardWebhooksScheme{}, {{"a", "Jefe"}});
  ASSERT_TRUE(standard.ok()) << standard.status();
  v1::HttpRequest standard_request;
  standard_request.set_body(kData);
  (*standard_request.mutable_headers())["webhook-id"] = "msg_1";
  (*standard_request.mutable_headers())["webhook-timestamp"] = "1700000000";
  (*standard_request.mutable_headers())["webhook-signature"] = "v1,bm9wZQ==";
  EXPECT_EQ((*standard)->Verify(standard_request, now)->result, v1::SIGNATURE_RESULT_MISMATCH);

  FailOpenSslMacs fail;
  EXPECT_EQ((*hmac)->Verify(request, now).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ((*standard)->Verify(standard_request, now).status().code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace hookguard

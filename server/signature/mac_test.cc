#include "server/signature/mac.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

std::string HexMac(const PrekeyedHmac& mac, absl::Span<const absl::string_view> parts) {
  unsigned char out[kMaxMacBytes];
  EXPECT_TRUE(mac.Compute(parts, out));
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(out), mac.mac_size()));
}

// RFC 4231 test case 2 and RFC 2202 test case 2: key "Jefe".
TEST(PrekeyedHmac, MatchesPublishedVectors) {
  struct Case {
    HashAlgorithm algorithm;
    const char* hex;
  };
  const Case cases[] = {
      {HashAlgorithm::kSha1, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
      {HashAlgorithm::kSha256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {HashAlgorithm::kSha512,
       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f"
       "0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<PrekeyedHmac> mac = PrekeyedHmac::Create(c.algorithm, "Jefe");
    ASSERT_TRUE(mac.ok()) << mac.status();
    const absl::string_view whole[] = {"what do ya want for nothing?"};
    EXPECT_EQ(HexMac(*mac, whole), c.hex);
  }
}

TEST(PrekeyedHmac, PartsGiveTheMacOfTheirConcatenation) {
  absl::StatusOr<PrekeyedHmac> mac = PrekeyedHmac::Create(HashAlgorithm::kSha256, "Jefe");
  ASSERT_TRUE(mac.ok());
  const absl::string_view parts[] = {"what do", "", " ya want", " for nothing?"};
  EXPECT_EQ(HexMac(*mac, parts),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(PrekeyedHmac, IsReusableAcrossCalls) {
  absl::StatusOr<PrekeyedHmac> mac = PrekeyedHmac::Create(HashAlgorithm::kSha256, "Jefe");
  ASSERT_TRUE(mac.ok());
  const absl::string_view a[] = {"what do ya want for nothing?"};
  const absl::string_view b[] = {"something else"};
  const std::string first = HexMac(*mac, a);
  EXPECT_NE(HexMac(*mac, b), first);
  EXPECT_EQ(HexMac(*mac, a), first);
}

TEST(PrekeyedHmac, RejectsAnEmptyKey) {
  EXPECT_FALSE(PrekeyedHmac::Create(HashAlgorithm::kSha256, "").ok());
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace hookguard

#include "server/signature/codec.h"

#include <string>

#include "gtest/gtest.h"

namespace hookguard {
namespace {

TEST(DecodeHex, AcceptsEitherCase) {
  EXPECT_EQ(DecodeHex("00ff7Fa0"), std::string("\x00\xff\x7f\xa0", 4));
  EXPECT_EQ(DecodeHex("ABCDEF"), std::string("\xab\xcd\xef"));
}

TEST(DecodeHex, RejectsWhatIsNotHex) {
  for (const char* bad : {"", "a", "abc", "zz", "0x00", "00 ff", "g0", "\xc3\xa9\xc3\xa9"}) {
    EXPECT_FALSE(DecodeHex(bad).has_value()) << bad;
  }
}

TEST(DecodeBase64, AcceptsWithAndWithoutPadding) {
  EXPECT_EQ(DecodeBase64("aGk="), "hi");
  EXPECT_EQ(DecodeBase64("aGk"), "hi");
  EXPECT_EQ(DecodeBase64("aA=="), "h");
  EXPECT_EQ(DecodeBase64("aA"), "h");
  EXPECT_EQ(DecodeBase64("aGVs"), "hel");
  EXPECT_EQ(DecodeBase64("+/8="), "\xfb\xff");
}

TEST(DecodeBase64, RejectsWhatIsNotStandardBase64) {
  for (const char* bad : {"", "=", "====", "a", "aGk==", "aA=", "aGk=aGk=", "aG k=", "-_8=",
                          "aGk\n", "aGk===", "\xff\xfe"}) {
    EXPECT_FALSE(DecodeBase64(bad).has_value()) << bad;
  }
}

TEST(ParseUnixTimestamp, ReadsSecondsAndMilliseconds) {
  EXPECT_EQ(ParseUnixTimestamp("1700000000"), 1700000000);
  EXPECT_EQ(ParseUnixTimestamp("1700000000123"), 1700000000);   // milliseconds
  EXPECT_EQ(ParseUnixTimestamp("100000000000"), 100000000000);  // 10^11: still seconds
  EXPECT_EQ(ParseUnixTimestamp("100000000001"), 100000000);     // above: milliseconds
  EXPECT_EQ(ParseUnixTimestamp("0"), 0);
}

// "01700000000" would let one MAC over "{id}.{timestamp}" verify under a
// second text of the same time (threat row 28).
TEST(ParseUnixTimestamp, RejectsLeadingZeros) {
  for (const char* bad : {"01700000000", "00", "0001700000000123", "01"}) {
    EXPECT_FALSE(ParseUnixTimestamp(bad).has_value()) << bad;
  }
}

TEST(ParseUnixTimestamp, RejectsWhatIsNotDigits) {
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1.5", "1e9", "abc", "9999999999999999999",
                          "1234567890123456789", "01700000000", "00"}) {
    EXPECT_FALSE(ParseUnixTimestamp(bad).has_value()) << bad;
  }
}

TEST(WithinTolerance, IsInclusiveBothWays) {
  const absl::Time now = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(WithinTolerance(700, now, absl::Seconds(300)));
  EXPECT_TRUE(WithinTolerance(1300, now, absl::Seconds(300)));
  EXPECT_FALSE(WithinTolerance(699, now, absl::Seconds(300)));
  EXPECT_FALSE(WithinTolerance(1301, now, absl::Seconds(300)));
}

TEST(ReadHeaderValue, TrimsAndLimits) {
  google::protobuf::Map<std::string, std::string> headers;
  headers["X-Sig"] = "  abc \t";
  headers["x-empty"] = "   ";
  headers["x-huge"] = std::string(kMaxHeaderValueBytes + 1, 'a');
  headers["x-max"] = std::string(kMaxHeaderValueBytes, 'a');
  headers["x-dup"] = "1";
  headers["X-DUP"] = "2";

  HeaderValue v = ReadHeaderValue(headers, "x-sig");
  EXPECT_EQ(v.state, HeaderValue::State::kFound);
  EXPECT_EQ(v.value, "abc");
  EXPECT_EQ(ReadHeaderValue(headers, "x-empty").state, HeaderValue::State::kAbsent);
  EXPECT_EQ(ReadHeaderValue(headers, "x-none").state, HeaderValue::State::kAbsent);
  EXPECT_EQ(ReadHeaderValue(headers, "x-huge").state, HeaderValue::State::kTooLong);
  EXPECT_EQ(ReadHeaderValue(headers, "x-max").state, HeaderValue::State::kFound);
  EXPECT_EQ(ReadHeaderValue(headers, "x-dup").state, HeaderValue::State::kAmbiguous);
}

TEST(IsVisibleAscii, RejectsSpacesControlsAndNonAscii) {
  EXPECT_TRUE(IsVisibleAscii("msg_p5jXN8AQM9LWM0D4loKWxJek"));
  EXPECT_FALSE(IsVisibleAscii("a b"));
  EXPECT_FALSE(IsVisibleAscii(std::string("a\0b", 3)));
  EXPECT_FALSE(IsVisibleAscii("caf\xc3\xa9"));
}

}  // namespace
}  // namespace hookguard

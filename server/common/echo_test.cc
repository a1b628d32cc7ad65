#include "server/common/echo.h"

#include <string>

#include "gtest/gtest.h"

namespace hookguard {
namespace {

TEST(CapEcho, KeepsWhatFits) {
  EXPECT_EQ(CapEcho(""), "");
  EXPECT_EQ(CapEcho("vapi"), "vapi");
  const std::string exact(kMaxEchoBytes, 'a');
  EXPECT_EQ(CapEcho(exact), exact);
}

TEST(CapEcho, CutsLongValuesAndSaysHowLongTheyWere) {
  const std::string long_name(100 * 1024, 'p');
  const std::string echoed = CapEcho(long_name);
  EXPECT_EQ(echoed, std::string(kMaxEchoBytes, 'p') + "...(102400 bytes)");
}

TEST(CapEcho, NeverSplitsAUtf8Character) {
  // "é" is two bytes: 255 ASCII bytes then "é" straddles the cut.
  const std::string value = std::string(kMaxEchoBytes - 1, 'a') + "\xc3\xa9" + "tail";
  const std::string echoed = CapEcho(value);
  EXPECT_EQ(echoed, std::string(kMaxEchoBytes - 1, 'a') + "...(" + std::to_string(value.size()) +
                        " bytes)");
  // A four-byte character across the cut goes whole, too.
  const std::string emoji = std::string(kMaxEchoBytes - 2, 'b') + "\xf0\x9f\x98\x80" + "x";
  EXPECT_EQ(CapEcho(emoji).substr(0, kMaxEchoBytes - 2), std::string(kMaxEchoBytes - 2, 'b'));
  EXPECT_EQ(CapEcho(emoji)[kMaxEchoBytes - 2], '.');
}

}  // namespace
}  // namespace hookguard

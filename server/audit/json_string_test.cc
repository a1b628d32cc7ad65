#include "server/audit/json_string.h"

#include "gtest/gtest.h"

namespace hookguard {
namespace {

TEST(JsonString, EscapesWhatCouldEndSplitOrDisguiseALine) {
  struct Case {
    const char* value;
    const char* written;
  };
  const Case cases[] = {
      {"plain id", R"("plain id")"},
      {"q\"b\\s", R"("q\"b\\s")"},
      {"a\nb\r\t\b\f", R"("a\nb\r\t\b\f")"},
      {"\x01\x1f\x7f<>", R"("\u0001\u001f\u007f\u003c\u003e")"},
      {"nel\xc2\x85", R"("nel\u0085")"},              // C1: U+0085 NEXT LINE
      {"c1\xc2\x80\xc2\x9f", R"("c1\u0080\u009f")"},  // first and last C1
      {"ls\xe2\x80\xa8ps\xe2\x80\xa9", R"("ls\u2028ps\u2029")"},
      {"rlo\xe2\x80\xae", R"("rlo\u202e")"},  // right-to-left override
      {"bom\xef\xbb\xbf", R"("bom\ufeff")"},
      {"tag\xf3\xa0\x80\x81", R"("tag\udb40\udc01")"},  // U+E0001: a surrogate pair
      {"\xc3\xa9\xc2\xa0\xe2\x82\xac", "\"\xc3\xa9\xc2\xa0\xe2\x82\xac\""},  // é, NBSP, €: kept
      {"cut\xc2", "\"cut\xc2\""},                                            // not UTF-8: copied
      {"cut\xe2\x80", "\"cut\xe2\x80\""},
      {"bad\xc2\x41", "\"bad\xc2\x41\""},
  };
  for (const Case& c : cases) EXPECT_EQ(JsonString(c.value), c.written) << c.written;
}

}  // namespace
}  // namespace hookguard

#include "tools/hookguard/json_edit.h"

#include <string>

#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "server/audit/json_string.h"

namespace hookguard::cli {
namespace {

constexpr char kDoc[] =
    "{\"message\": {\"type\": \"status-update\", \"n\": 1764430513345,\n"
    "  \"call\": {\"id\": \"call_alice_1\", \"assistantId\": null, \"tags\": [\"a\", {\"x\": "
    "\"}\"}]},\n  \"phoneNumber\": null, \"text\": \"Gr\\u00fc\\\"\xc3\xbc\xc3\x9f\\\\e\"}}";

TEST(SetJsonValue, ReplacesOnlyTheValueAtThePath) {
  const struct {
    const char* path;
    std::string value;
    std::string want;
  } cases[] = {
      {"message.call.id", JsonString("call_new"),
       absl::StrReplaceAll(kDoc, {{"\"call_alice_1\"", "\"call_new\""}})},
      {"message.call.assistantId", JsonString("asst_bob"),
       absl::StrReplaceAll(kDoc, {{"\"assistantId\": null", "\"assistantId\": \"asst_bob\""}})},
      {"message.phoneNumber", "{\"id\":\"phone_bob\"}",
       absl::StrReplaceAll(kDoc,
                           {{"\"phoneNumber\": null", "\"phoneNumber\": {\"id\":\"phone_bob\"}"}})},
      // A missing key is added at the end of its object.
      {"message.call.phoneNumberId", JsonString("p\"1"),
       absl::StrReplaceAll(kDoc, {{"\"}\"}]}", "\"}\"}],\"phoneNumberId\":\"p\\\"1\"}"}})},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::string> got = SetJsonValue(kDoc, c.path, c.value);
    ASSERT_TRUE(got.ok()) << c.path << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.path;
  }
  EXPECT_EQ(*SetJsonValue("{}", "a", "1"), "{\"a\":1}");
  EXPECT_EQ(*SetJsonValue("{\"a\": {}}", "a.b", "true"), "{\"a\": {\"b\":true}}");
}

TEST(SetJsonValue, RefusesWhatItCannotEditNamingThePath) {
  const struct {
    const char* doc;
    const char* path;
    const char* value;
    const char* says;
  } cases[] = {
      {kDoc, "message.phoneNumber.id", "\"x\"", "message.phoneNumber"},  // null, not an object
      {kDoc, "message.chat.assistantId", "\"x\"", "message.chat"},       // missing
      {kDoc, "message.call.id", "not json", "not JSON"},
      {"{\"a\": ", "a", "1", "not one JSON value"},
      {"{\"a\": 1} trailing", "a", "1", "not one JSON value"},
      {kDoc, "message..id", "1", "path"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::string> got = SetJsonValue(c.doc, c.path, c.value);
    ASSERT_FALSE(got.ok()) << c.path;
    EXPECT_NE(got.status().message().find(c.says), absl::string_view::npos) << got.status();
  }
}

TEST(IsJsonObjectAt, FindsObjectsOnly) {
  EXPECT_TRUE(IsJsonObjectAt(kDoc, "message.call"));
  EXPECT_TRUE(IsJsonObjectAt(kDoc, ""));
  EXPECT_FALSE(IsJsonObjectAt(kDoc, "message.phoneNumber"));
  EXPECT_FALSE(IsJsonObjectAt(kDoc, "message.call.id"));
  EXPECT_FALSE(IsJsonObjectAt(kDoc, "call"));
  EXPECT_FALSE(IsJsonObjectAt("not json", ""));
}

TEST(HasJsonKeyAt, FindsMembersOfAnyValue) {
  EXPECT_TRUE(HasJsonKeyAt(kDoc, "message.call.id"));
  EXPECT_TRUE(HasJsonKeyAt(kDoc, "message.call"));
  EXPECT_TRUE(HasJsonKeyAt(kDoc, "message.call.assistantId"));  // null counts
  EXPECT_FALSE(HasJsonKeyAt(kDoc, "message.call.phoneNumberId"));
  EXPECT_FALSE(HasJsonKeyAt(kDoc, "message.phoneNumber.id"));  // not an object
  EXPECT_FALSE(HasJsonKeyAt(kDoc, "call.id"));
  EXPECT_FALSE(HasJsonKeyAt(kDoc, ""));
  EXPECT_FALSE(HasJsonKeyAt("not json", "a"));
}

}  // namespace
}  // namespace hookguard::cli

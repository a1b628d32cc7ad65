#include "server/payload/form_body.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// A Twilio voice status callback, as Twilio sends it (abridged).
constexpr char kStatusCallback[] =
    "AccountSid=AC25aa00521bfac6d667f13fec086072df&ApiVersion=2010-04-01"
    "&CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=completed"
    "&Called=%2B14155550100&Direction=inbound&From=%2B14155550199"
    "&To=%2B14155550100&CallerName=Ana+Lima";

TEST(FormBody, ParsesEveryParameterInBodyOrder) {
  absl::StatusOr<std::vector<FormParameter>> parameters =
      ParseFormBody("b=2&a=1&Caller=%2B1+415&e=&x=y=z");
  ASSERT_TRUE(parameters.ok()) << parameters.status();
  EXPECT_THAT(*parameters, ElementsAre(FormParameter{"b", "2"}, FormParameter{"a", "1"},
                                       FormParameter{"Caller", "+1 415"}, FormParameter{"e", ""},
                                       FormParameter{"x", "y=z"}));
}

TEST(FormBody, EmptyBodyHasNoParameters) {
  absl::StatusOr<std::vector<FormParameter>> parameters = ParseFormBody("");
  ASSERT_TRUE(parameters.ok());
  EXPECT_TRUE(parameters->empty());
}

TEST(FormBody, DecodesUtf8) {
  absl::StatusOr<std::optional<std::string>> name =
      FormField("CallerName=Jos%C3%A9&CallSid=CA1", "CallerName");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->value(), "Jos\xC3\xA9");
}

TEST(FormBody, FormFieldReadsTwilioStatusCallback) {
  struct Case {
    const char* name;
    std::optional<std::string> want;
  };
  const std::vector<Case> cases = {
      {"AccountSid", "AC25aa00521bfac6d667f13fec086072df"},
      {"To", "+14155550100"},
      {"CallerName", "Ana Lima"},
      {"accountsid", std::nullopt},  // names are case-sensitive, as in every framework
      {"Missing", std::nullopt},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::optional<std::string>> got = FormField(kStatusCallback, c.name);
    ASSERT_TRUE(got.ok()) << c.name << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.name;
  }
}

// Every body another reader could read differently, or would repair, is
// refused; the message never quotes the body.
TEST(FormBody, RefusesMalformedBodies) {
  struct Case {
    std::string body;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"a=1&&b=2", "parameter 2 is empty"},
      {"a=1&", "parameter 2 is empty"},
      {"&a=1", "parameter 1 is empty"},
      {"a=1&SECRET", "parameter 2 has no '='"},
      {"=SECRET", "empty name"},
      {"a=SECRET%zz", "bad percent-encoding in its value"},
      {"a=SECRET%4", "bad percent-encoding in its value"},
      {"a=SECRET%", "bad percent-encoding in its value"},
      {"SECRET%g1=1", "bad percent-encoding in its name"},
      {"a=SECRET value", "raw byte"},
      {"a=SECRET\n", "raw byte"},
      {std::string("a=SECRET\0", 9), "raw byte"},
      {"a=SECRET\xC3\xA9", "raw byte"},
      {"a=SECRET%C3", "not UTF-8"},
      {"a=SECRET%FF%FE", "not UTF-8"},
      {"a=SECRET%ED%A0%80", "not UTF-8"},  // a UTF-16 surrogate
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<FormParameter>> parameters = ParseFormBody(c.body);
    ASSERT_FALSE(parameters.ok()) << "accepted: " << c.body;
    EXPECT_EQ(parameters.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parameters.status().message()), HasSubstr(c.why)) << c.body;
    EXPECT_THAT(std::string(parameters.status().message()), Not(HasSubstr("SECRET")));
    // FormField refuses the same bodies, whatever field it is asked for.
    EXPECT_FALSE(FormField(c.body, "a").ok()) << c.body;
  }
}

TEST(FormBody, RefusesTooManyParameters) {
  std::string body = "p0=0";
  for (size_t i = 1; i < kMaxFormParameters; ++i) absl::StrAppend(&body, "&p", i, "=", i);
  EXPECT_TRUE(ParseFormBody(body).ok());
  absl::StrAppend(&body, "&one=more");
  absl::StatusOr<std::vector<FormParameter>> parameters = ParseFormBody(body);
  ASSERT_FALSE(parameters.ok());
  EXPECT_THAT(std::string(parameters.status().message()), HasSubstr("more than 1000"));
}

// A field that readers may resolve to different occurrences is never read.
TEST(FormBody, FormFieldRefusesAmbiguousFields) {
  struct Case {
    const char* body;
    const char* why;
  };
  const std::vector<Case> cases = {
      {"AccountSid=AC1&AccountSid=AC2", "repeated"},
      {"AccountSid=AC1&AccountSid=AC1", "repeated"},
      {"AccountSid=AC1&Account%53id=AC2", "repeated"},  // equal once decoded
      {"AccountSid=AC1&AccountSid[]=AC2", "also occurs as AccountSid[...]"},
      {"AccountSid[x]=AC2", "also occurs as AccountSid[...]"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::optional<std::string>> got = FormField(c.body, "AccountSid");
    ASSERT_FALSE(got.ok()) << c.body;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(c.why)) << c.body;
  }
  // Another field's repetition does not stop this one being read.
  absl::StatusOr<std::optional<std::string>> other =
      FormField("AccountSid=AC1&Digits=1&Digits=2&AccountSidX=z", "AccountSid");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->value(), "AC1");
}

TEST(FormBody, SortsByNameThenValueBytewise) {
  absl::StatusOr<std::vector<FormParameter>> sorted =
      SortedFormParameters("b=1&a=2&Digits=5678&Digits=1234&Z=0&%C3%A9=x&Digits=1234");
  ASSERT_TRUE(sorted.ok()) << sorted.status();
  // Uppercase sorts before lowercase; UTF-8 after ASCII; repeats are kept.
  EXPECT_THAT(*sorted, ElementsAre(FormParameter{"Digits", "1234"}, FormParameter{"Digits", "1234"},
                                   FormParameter{"Digits", "5678"}, FormParameter{"Z", "0"},
                                   FormParameter{"a", "2"}, FormParameter{"b", "1"},
                                   FormParameter{"\xC3\xA9", "x"}));
  EXPECT_FALSE(SortedFormParameters("a=%zz").ok());
}

}  // namespace
}  // namespace hookguard

#include "server/ownership/resolve_policy.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<ResolvePolicy> Compile(const std::string& json) {
  config::v1::Ownership ownership;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &ownership);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  return ResolvePolicy::Compile(ownership.resolve());
}

TEST(ResolvePolicy, DefaultResolvesAssistantRequestByPhoneNumberOnly) {
  const ResolvePolicy policy;
  ASSERT_NE(policy.RuleFor("assistant-request"), nullptr);
  EXPECT_THAT(policy.RuleFor("assistant-request")->by,
              ElementsAre(v1::OWNER_SOURCE_CALL, v1::OWNER_SOURCE_PHONE_NUMBER));
  for (const char* type : {"status-update", "end-of-call-report", "chat.created", ""}) {
    SCOPED_TRACE(type);
    ASSERT_NE(policy.RuleFor(type), nullptr);
    EXPECT_THAT(policy.RuleFor(type)->by, ElementsAre(v1::OWNER_SOURCE_CALL));
  }
}

TEST(ResolvePolicy, EmptyListIsTheDefault) {
  absl::StatusOr<ResolvePolicy> policy = Compile("{}");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->rules().size(), ResolvePolicy().rules().size());
}

TEST(ResolvePolicy, FirstMatchingRuleWinsAndPrefixesMatch) {
  absl::StatusOr<ResolvePolicy> policy = Compile(R"({"resolve": [
      {"types": ["chat.*", "session.*"], "by": ["assistant"]},
      {"types": ["status-update"], "by": ["call", "assistant", "phone_number"]},
      {"types": ["*"], "by": ["call"]}]})");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->RuleFor("chat.deleted")->by, ElementsAre(v1::OWNER_SOURCE_ASSISTANT));
  EXPECT_THAT(policy->RuleFor("session.created")->by, ElementsAre(v1::OWNER_SOURCE_ASSISTANT));
  EXPECT_THAT(policy->RuleFor("status-update")->by,
              ElementsAre(v1::OWNER_SOURCE_CALL, v1::OWNER_SOURCE_ASSISTANT,
                          v1::OWNER_SOURCE_PHONE_NUMBER));
  EXPECT_THAT(policy->RuleFor("chat")->by, ElementsAre(v1::OWNER_SOURCE_CALL));
  EXPECT_THAT(policy->RuleFor("status-updates")->by, ElementsAre(v1::OWNER_SOURCE_CALL));
}

TEST(ResolvePolicy, NoMatchingRuleIsNull) {
  absl::StatusOr<ResolvePolicy> policy =
      Compile(R"({"resolve": [{"types": ["x"], "by": ["assistant"]}]})");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->RuleFor("y"), nullptr);
}

TEST(ResolvePolicy, RejectsBrokenRulesNamingThem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"resolve": [{"by": ["call"]}]})", "ownership.resolve[0].types"},
      {R"({"resolve": [{"types": ["x"]}]})", "ownership.resolve[0].by"},
      {R"({"resolve": [{"types": ["x"], "by": ["call"]}, {"types": [""], "by": ["call"]}]})",
       "ownership.resolve[1].types[0]"},
      {R"({"resolve": [{"types": ["a*b"], "by": ["call"]}]})", "ownership.resolve[0].types[0]"},
      {R"({"resolve": [{"types": ["x"], "by": ["phone"]}]})", "unknown source"},
      {R"({"resolve": [{"types": ["x"], "by": ["assistant", "assistant"]}]})", "listed twice"},
      {R"({"resolve": [{"types": ["x"], "by": ["assistant", "call"]}]})", "must come first"},
  };
  for (const auto& [json, fragment] : cases) {
    SCOPED_TRACE(json);
    absl::StatusOr<ResolvePolicy> policy = Compile(json);
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(policy.status().message()), HasSubstr(fragment));
  }
}

}  // namespace
}  // namespace hookguard

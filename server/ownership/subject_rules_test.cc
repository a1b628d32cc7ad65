#include "server/ownership/subject_rules.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ownership/mock_ownership_store.h"

namespace hookguard {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Return;

using Owner = std::optional<std::string>;  // a lookup's answer: nullopt = no row

SubjectValue Subject(std::string name, std::optional<std::string> id, bool required = true,
                     int query = 0) {
  return SubjectValue{name, "/" + name, std::move(id), required, query};
}

struct RuleCase {
  const char* name;
  std::vector<SubjectValue> subjects;
  // What each present subject's lookup finds, in order; missing entries are
  // never asked for.
  std::vector<std::optional<Owner>> owners;
  std::string expected_owner;
  v1::Decision decision;
  v1::DenyReason reason;
  std::string owner_id;
  std::string resolved_subject;
};

// Runs the pure rules, answering each lookup they ask for from `owners`.
OwnershipDecision Decide(const RuleCase& c, std::vector<OwnershipStep>* trace,
                         int* lookups = nullptr) {
  SubjectOwners answered(c.subjects.size());
  for (int round = 0; round < 10; ++round) {
    size_t need = 99;
    std::optional<OwnershipDecision> d =
        ApplySubjectRules(c.subjects, answered, c.expected_owner, &need, trace);
    if (d.has_value()) return *d;
    EXPECT_LT(need, c.owners.size()) << c.name << ": asked for an unplanned lookup";
    if (need >= c.owners.size() || !c.owners[need].has_value()) return OwnershipDecision();
    answered[need] = *c.owners[need];
    if (lookups != nullptr) ++*lookups;
  }
  ADD_FAILURE() << c.name << ": never decided";
  return OwnershipDecision();
}

TEST(SubjectRules, DecideAsTheContractSays) {
  const RuleCase cases[] = {
      {"one subject found",
       {Subject("account", "acct_a")},
       {Owner("1")},
       "",
       v1::DECISION_ALLOW,
       v1::DENY_REASON_UNSPECIFIED,
       "1",
       "account"},
      {"no row: another tenant's unknown id",
       {Subject("account", "acct_x")},
       {Owner()},
       "",
       v1::DECISION_DENY,
       v1::DENY_REASON_SUBJECT_NOT_FOUND,
       "",
       ""},
      {"required subject absent",
       {Subject("account", std::nullopt)},
       {},
       "",
       v1::DECISION_DENY,
       v1::DENY_REASON_MALFORMED_EVENT,
       "",
       ""},
      {"every subject optional and absent",
       {Subject("a", std::nullopt, false), Subject("b", std::nullopt, false)},
       {},
       "",
       v1::DECISION_DENY,
       v1::DENY_REASON_MALFORMED_EVENT,
       "",
       ""},
      {"optional absent, other present",
       {Subject("agent", std::nullopt, false), Subject("call", "c1", false)},
       {std::nullopt, Owner("2")},
       "",
       v1::DECISION_ALLOW,
       v1::DENY_REASON_UNSPECIFIED,
       "2",
       "call"},
      {"two subjects, same owner",
       {Subject("account", "AC1"), Subject("number", "+1")},
       {Owner("3"), Owner("3")},
       "",
       v1::DECISION_ALLOW,
       v1::DENY_REASON_UNSPECIFIED,
       "3",
       "account"},
      {"two subjects of different owners",
       {Subject("account", "AC1"), Subject("number", "+1")},
       {Owner("3"), Owner("4")},
       "",
       v1::DECISION_DENY,
       v1::DENY_REASON_OWNER_CONFLICT,
       "",
       ""},
      {"first not found decides before the second is asked",
       {Subject("account", "AC9"), Subject("number", "+1")},
       {Owner()},
       "",
       v1::DECISION_DENY,
       v1::DENY_REASON_SUBJECT_NOT_FOUND,
       "",
       ""},
      {"empty owner is not trusted",
       {Subject("account", "acct_a")},
       {Owner("")},
       "",
       v1::DECISION_DENY,
       v1::DENY_REASON_OWNER_MISMATCH,
       "",
       ""},
      {"expected owner matches",
       {Subject("account", "acct_a")},
       {Owner("1")},
       "1",
       v1::DECISION_ALLOW,
       v1::DENY_REASON_UNSPECIFIED,
       "1",
       "account"},
      {"expected owner differs: acting for the wrong tenant",
       {Subject("account", "acct_a")},
       {Owner("1")},
       "2",
       v1::DECISION_DENY,
       v1::DENY_REASON_OWNER_MISMATCH,
       "",
       ""},
  };
  for (const RuleCase& c : cases) {
    std::vector<OwnershipStep> trace;
    const OwnershipDecision d = Decide(c, &trace);
    EXPECT_EQ(d.decision, c.decision) << c.name;
    EXPECT_EQ(d.reason, c.reason) << c.name << ": " << d.detail;
    EXPECT_EQ(d.owner_id, c.owner_id) << c.name;
    EXPECT_EQ(d.resolved_subject, c.resolved_subject) << c.name;
    EXPECT_EQ(d.resolved_by, c.decision == v1::DECISION_ALLOW ? v1::OWNER_SOURCE_SUBJECT
                                                              : v1::OWNER_SOURCE_UNSPECIFIED)
        << c.name;
    // The trace: one step per subject, then the two checks; a deny fails
    // exactly one step.
    ASSERT_EQ(trace.size(), c.subjects.size() + 2) << c.name;
    int failed = 0;
    for (const OwnershipStep& step : trace) {
      if (step.outcome == OwnershipStep::Outcome::kFail) {
        ++failed;
        EXPECT_EQ(step.reason, c.reason) << c.name;
      }
    }
    const bool read_error = c.reason == v1::DENY_REASON_MALFORMED_EVENT;
    EXPECT_EQ(failed, c.decision == v1::DECISION_DENY && !read_error ? 1 : 0) << c.name;
  }
}

TEST(SubjectRules, TraceNamesEachSubjectAndItsId) {
  const RuleCase c{"",
                   {Subject("account", "acct_a")},
                   {Owner("1")},
                   "",
                   v1::DECISION_ALLOW,
                   v1::DENY_REASON_UNSPECIFIED,
                   "1",
                   "account"};
  std::vector<OwnershipStep> trace;
  Decide(c, &trace);
  ASSERT_EQ(trace.size(), 3u);
  EXPECT_EQ(trace[0].name, "subject:account");
  EXPECT_THAT(trace[0].detail, HasSubstr("acct_a"));
  EXPECT_EQ(trace[1].name, "owner_consistency");
  EXPECT_EQ(trace[2].name, "expected_owner");
}

TEST(SubjectAuthorizer, FailsClosedOnAStoreError) {
  MockOwnershipStore store;
  EXPECT_CALL(store, FindSubjectOwner(0, absl::string_view("acct_a"), _))
      .WillOnce(Return(absl::UnavailableError("down")));
  SubjectAuthorizer authorizer(store);
  absl::StatusOr<OwnershipDecision> d =
      authorizer.Authorize({Subject("account", "acct_a")}, "", absl::Now() + absl::Seconds(1));
  EXPECT_EQ(d.status().code(), absl::StatusCode::kUnavailable);
}

TEST(SubjectAuthorizer, LooksUpEachSubjectWithItsQueryAndStopsAtTheFirstMiss) {
  MockOwnershipStore store;
  EXPECT_CALL(store, FindSubjectOwner(2, absl::string_view("AC9"), _)).WillOnce(Return(Owner()));
  EXPECT_CALL(store, FindSubjectOwner(3, _, _)).Times(0);
  SubjectAuthorizer authorizer(store);
  absl::StatusOr<OwnershipDecision> d =
      authorizer.Authorize({Subject("account", "AC9", true, 2), Subject("number", "+1", true, 3)},
                           "", absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->reason, v1::DENY_REASON_SUBJECT_NOT_FOUND);
  EXPECT_THAT(d->detail, HasSubstr("AC9"));
}

TEST(SubjectAuthorizer, AllowsWithBothLookups) {
  MockOwnershipStore store;
  EXPECT_CALL(store, FindSubjectOwner(0, absl::string_view("AC1"), _)).WillOnce(Return(Owner("7")));
  EXPECT_CALL(store, FindSubjectOwner(1, absl::string_view("+1"), _)).WillOnce(Return(Owner("7")));
  SubjectAuthorizer authorizer(store);
  absl::StatusOr<OwnershipDecision> d =
      authorizer.Authorize({Subject("account", "AC1", true, 0), Subject("number", "+1", true, 1)},
                           "7", absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->decision, v1::DECISION_ALLOW);
  EXPECT_EQ(d->owner_id, "7");
  EXPECT_EQ(d->resolved_subject, "account");
}

}  // namespace
}  // namespace hookguard

#include "server/ownership/ownership_rules.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

using ::testing::_;
using ::testing::Return;

v1::CallEvent Event(std::string call_id, std::string assistant_id = "",
                    std::string phone_number_id = "") {
  v1::CallEvent event;
  event.set_call_id(std::move(call_id));
  event.set_assistant_id(std::move(assistant_id));
  event.set_phone_number_id(std::move(phone_number_id));
  return event;
}

// The rows of tests/fixtures/consistent.sql and inconsistent.sql, as the
// default query returns them.
CallOwnership AliceCall() { return {"1", "asst_alice", "1", "phone_alice", "1"}; }
CallOwnership AliceWebCall() { return {"1", "asst_alice", "1", std::nullopt, std::nullopt}; }
CallOwnership BobCall() { return {"2", "asst_bob", "2", "phone_bob", "2"}; }
CallOwnership AliceCallWithBobsAssistant() {
  return {"1", "asst_bob", "2", std::nullopt, std::nullopt};
}
CallOwnership AliceCallWithBobsPhone() { return {"1", "asst_alice", "1", "phone_bob", "2"}; }
CallOwnership AliceCallWithMissingAssistant() {
  return {"1", std::nullopt, std::nullopt, std::nullopt, std::nullopt};
}
CallOwnership AliceCallWithMissingPhone() { return {"1", "asst_alice", "1", "", std::nullopt}; }

struct RuleCase {
  std::string name;
  v1::CallEvent event;
  std::optional<CallOwnership> call;
  std::string expected_owner_id;
  v1::Decision decision;
  v1::DenyReason reason;
  std::string owner_id;
};

void CheckCases(const std::vector<RuleCase>& cases) {
  for (const RuleCase& c : cases) {
    SCOPED_TRACE(c.name);
    OwnershipDecision got = ApplyOwnershipRules(c.event, c.call, c.expected_owner_id);
    EXPECT_EQ(got.decision, c.decision);
    EXPECT_EQ(got.reason, c.reason);
    EXPECT_EQ(got.owner_id, c.owner_id);
    if (c.decision == v1::DECISION_DENY) {
      EXPECT_FALSE(got.detail.empty());
    }
  }
}

constexpr v1::Decision kAllow = v1::DECISION_ALLOW;
constexpr v1::Decision kDeny = v1::DECISION_DENY;

TEST(OwnershipRules, AllowsConsistentCallsAndNamesTheOwner) {
  CheckCases({
      {"call only", Event("call_alice_1"), AliceCall(), "", kAllow, v1::DENY_REASON_UNSPECIFIED,
       "1"},
      {"every id", Event("call_alice_1", "asst_alice", "phone_alice"), AliceCall(), "1", kAllow,
       v1::DENY_REASON_UNSPECIFIED, "1"},
      {"bob", Event("call_bob_1", "asst_bob", "phone_bob"), BobCall(), "2", kAllow,
       v1::DENY_REASON_UNSPECIFIED, "2"},
      {"web call without phone", Event("call_alice_web", "asst_alice"), AliceWebCall(), "", kAllow,
       v1::DENY_REASON_UNSPECIFIED, "1"},
  });
}

TEST(OwnershipRules, DeniesMissingCallIdAsMalformed) {
  CheckCases(
      {{"no call id", Event(""), AliceCall(), "", kDeny, v1::DENY_REASON_MALFORMED_EVENT, ""},
       {"no call id, no row", Event(""), std::nullopt, "", kDeny, v1::DENY_REASON_MALFORMED_EVENT,
        ""}});
}

TEST(OwnershipRules, DeniesUnknownCallAsNotFound) {
  CheckCases({{"unknown", Event("x' OR '1'='1"), std::nullopt, "1", kDeny,
               v1::DENY_REASON_CALL_NOT_FOUND, ""}});
}

// THREATS.md row 1.
TEST(OwnershipRules, DeniesCrossUserAssistant) {
  CheckCases({{"bob's call, alice's assistant", Event("call_bob_1", "asst_alice"), BobCall(), "",
               kDeny, v1::DENY_REASON_ASSISTANT_MISMATCH, ""}});
}

// THREATS.md row 2.
TEST(OwnershipRules, DeniesSpoofedAssistant) {
  CheckCases({
      {"nobody's assistant", Event("call_alice_1", "asst_nobody"), AliceCall(), "", kDeny,
       v1::DENY_REASON_ASSISTANT_MISMATCH, ""},
      {"call has no assistant row", Event("call_alice_missing_assistant", "asst_alice"),
       AliceCallWithMissingAssistant(), "", kDeny, v1::DENY_REASON_ASSISTANT_MISMATCH, ""},
  });
}

// THREATS.md row 3.
TEST(OwnershipRules, DeniesHijackedPhoneNumber) {
  CheckCases({
      {"bob's number on alice's call", Event("call_alice_1", "asst_alice", "phone_bob"),
       AliceCall(), "", kDeny, v1::DENY_REASON_PHONE_NUMBER_MISMATCH, ""},
      {"number on a call without one", Event("call_alice_web", "asst_alice", "phone_alice"),
       AliceWebCall(), "", kDeny, v1::DENY_REASON_PHONE_NUMBER_MISMATCH, ""},
      {"number on a call whose phone row is missing", Event("call_alice_missing_phone", "", "98"),
       AliceCallWithMissingPhone(), "", kDeny, v1::DENY_REASON_PHONE_NUMBER_MISMATCH, ""},
  });
}

// THREATS.md row 8: inconsistent rows, even when the event names nothing but
// the call.
TEST(OwnershipRules, DeniesInconsistentRowsAsOwnerMismatch) {
  CheckCases({
      {"assistant of another user", Event("call_alice_bobs_assistant"),
       AliceCallWithBobsAssistant(), "", kDeny, v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH, ""},
      {"assistant of another user, named", Event("call_alice_bobs_assistant", "asst_bob"),
       AliceCallWithBobsAssistant(), "1", kDeny, v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH, ""},
      {"dangling assistant", Event("call_alice_missing_assistant"), AliceCallWithMissingAssistant(),
       "", kDeny, v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH, ""},
      {"phone of another user", Event("call_alice_bobs_phone"), AliceCallWithBobsPhone(), "", kDeny,
       v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH, ""},
      {"phone of another user, named", Event("call_alice_bobs_phone", "asst_alice", "phone_bob"),
       AliceCallWithBobsPhone(), "", kDeny, v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH, ""},
      {"dangling phone", Event("call_alice_missing_phone"), AliceCallWithMissingPhone(), "", kDeny,
       v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH, ""},
      {"phone id with NULL owner", Event("c"),
       CallOwnership{"1", "asst_alice", "1", "phone_x", std::nullopt}, "", kDeny,
       v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH, ""},
  });
}

// THREATS.md row 9.
TEST(OwnershipRules, DeniesCallerActingForAnotherTenant) {
  CheckCases({
      {"alice's call for bob", Event("call_alice_1", "asst_alice", "phone_alice"), AliceCall(), "2",
       kDeny, v1::DENY_REASON_OWNER_MISMATCH, ""},
      {"ids compare exactly", Event("call_alice_1"), AliceCall(), "01", kDeny,
       v1::DENY_REASON_OWNER_MISMATCH, ""},
  });
}

TEST(OwnershipRules, DeniesRowWithoutOwner) {
  CheckCases({{"empty owner", Event("c"), CallOwnership{"", std::nullopt, std::nullopt, {}, {}}, "",
               kDeny, v1::DENY_REASON_OWNER_MISMATCH, ""}});
}

// A call that breaks every rule from 3 on: removing the first failing rule's
// cause, one at a time, moves the decision to the next rule.
TEST(OwnershipRules, FirstFailingRuleDecides) {
  const CallOwnership everything_wrong{"1", "asst_bob", "2", "phone_bob", "2"};
  CallOwnership assistant_fixed = everything_wrong;
  assistant_fixed.assistant_owner_id = "1";
  CallOwnership phone_owner_fixed = assistant_fixed;
  phone_owner_fixed.phone_number_owner_id = "1";
  CheckCases({
      {"rule 1 before 2", Event(""), std::nullopt, "9", kDeny, v1::DENY_REASON_MALFORMED_EVENT, ""},
      {"rule 2 before 3", Event("c", "asst_x", "phone_x"), std::nullopt, "9", kDeny,
       v1::DENY_REASON_CALL_NOT_FOUND, ""},
      {"rule 3 before 4", Event("c", "asst_x", "phone_x"), everything_wrong, "9", kDeny,
       v1::DENY_REASON_ASSISTANT_MISMATCH, ""},
      {"rule 4 before 5", Event("c", "asst_bob", "phone_x"), everything_wrong, "9", kDeny,
       v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH, ""},
      {"rule 5 before 6", Event("c", "asst_bob", "phone_x"), assistant_fixed, "9", kDeny,
       v1::DENY_REASON_PHONE_NUMBER_MISMATCH, ""},
      {"rule 6 before 7", Event("c", "asst_bob", "phone_bob"), assistant_fixed, "9", kDeny,
       v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH, ""},
      {"rule 7", Event("c", "asst_bob", "phone_bob"), phone_owner_fixed, "9", kDeny,
       v1::DENY_REASON_OWNER_MISMATCH, ""},
      {"rule 8", Event("c", "asst_bob", "phone_bob"), phone_owner_fixed, "1", kAllow,
       v1::DENY_REASON_UNSPECIFIED, "1"},
  });
}

class MockOwnershipStore : public OwnershipStore {
 public:
  MOCK_METHOD((absl::StatusOr<std::optional<CallOwnership>>), FindCall,
              (absl::string_view call_id, absl::Time deadline), (override));
  MOCK_METHOD(absl::Status, Ping, (absl::Time deadline), (override));
};

const absl::Time kDeadline = absl::FromUnixSeconds(2000000000);

TEST(CallEventAuthorizer, MalformedEventNeverTouchesTheStore) {
  MockOwnershipStore store;
  EXPECT_CALL(store, FindCall(_, _)).Times(0);
  CallEventAuthorizer authorizer(store);
  absl::StatusOr<OwnershipDecision> got =
      authorizer.Authorize(Event("", "asst_alice"), "1", kDeadline);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->decision, v1::DECISION_DENY);
  EXPECT_EQ(got->reason, v1::DENY_REASON_MALFORMED_EVENT);
}

TEST(CallEventAuthorizer, PassesCallIdAndDeadlineToTheStore) {
  MockOwnershipStore store;
  EXPECT_CALL(store, FindCall(absl::string_view("call_alice_1"), kDeadline))
      .WillOnce(Return(std::optional<CallOwnership>(AliceCall())));
  CallEventAuthorizer authorizer(store);
  absl::StatusOr<OwnershipDecision> got =
      authorizer.Authorize(Event("call_alice_1", "asst_alice"), "1", kDeadline);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->decision, v1::DECISION_ALLOW);
  EXPECT_EQ(got->owner_id, "1");
}

TEST(CallEventAuthorizer, UnknownCallIsNotFound) {
  MockOwnershipStore store;
  EXPECT_CALL(store, FindCall(_, _)).WillOnce(Return(std::optional<CallOwnership>()));
  CallEventAuthorizer authorizer(store);
  absl::StatusOr<OwnershipDecision> got = authorizer.Authorize(Event("nope"), "", kDeadline);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->decision, v1::DECISION_DENY);
  EXPECT_EQ(got->reason, v1::DENY_REASON_CALL_NOT_FOUND);
}

TEST(CallEventAuthorizer, StoreErrorsPropagateAndAreNeverAllow) {
  for (const absl::Status& error :
       {absl::UnavailableError("db down"), absl::DeadlineExceededError("slow"),
        absl::FailedPreconditionError("two rows")}) {
    SCOPED_TRACE(error.ToString());
    MockOwnershipStore store;
    EXPECT_CALL(store, FindCall(_, _)).WillOnce(Return(error));
    CallEventAuthorizer authorizer(store);
    absl::StatusOr<OwnershipDecision> got =
        authorizer.Authorize(Event("call_alice_1"), "", kDeadline);
    EXPECT_EQ(got.status(), error);
  }
}

// The optional trace of ApplyOwnershipRules (used by `hookguard explain`):
// "name:outcome" for each step.
std::vector<std::string> Steps(const std::vector<OwnershipStep>& trace) {
  std::vector<std::string> out;
  for (const OwnershipStep& step : trace) {
    out.push_back(absl::StrCat(step.name, ":", OutcomeName(step.outcome)));
  }
  return out;
}

TEST(OwnershipRulesTrace, RecordsEveryStepOfAnAllow) {
  std::vector<OwnershipStep> trace;
  OwnershipDecision got = ApplyOwnershipRules(Event("call_alice_1", "asst_alice", "phone_alice"),
                                              AliceCall(), "1", &trace);
  EXPECT_EQ(got.decision, v1::DECISION_ALLOW);
  EXPECT_THAT(Steps(trace),
              ::testing::ElementsAre("call_id:pass", "call_lookup:pass", "assistant:pass",
                                     "assistant_owner:pass", "phone_number:pass",
                                     "phone_number_owner:pass", "expected_owner:pass"));
}

TEST(OwnershipRulesTrace, SkipsWhatTheEventDoesNotName) {
  std::vector<OwnershipStep> trace;
  OwnershipDecision got = ApplyOwnershipRules(Event("call_alice_web"), AliceWebCall(), "", &trace);
  EXPECT_EQ(got.decision, v1::DECISION_ALLOW);
  EXPECT_THAT(Steps(trace),
              ::testing::ElementsAre("call_id:pass", "call_lookup:pass", "assistant:skipped",
                                     "assistant_owner:pass", "phone_number:skipped",
                                     "phone_number_owner:skipped", "expected_owner:skipped"));
}

// For each deny: the failing step carries the decision's reason, the steps
// after it are skipped, and the trace never changes the decision.
TEST(OwnershipRulesTrace, TheFailingStepIsTheDecidingRule) {
  struct Case {
    v1::CallEvent event;
    std::optional<CallOwnership> call;
    std::string expected_owner;
    std::string failing_step;
    v1::DenyReason reason;
  };
  const std::vector<Case> cases = {
      {Event(""), std::nullopt, "", "call_id", v1::DENY_REASON_MALFORMED_EVENT},
      {Event("nope"), std::nullopt, "", "call_lookup", v1::DENY_REASON_CALL_NOT_FOUND},
      {Event("call_bob_1", "asst_alice"), BobCall(), "", "assistant",
       v1::DENY_REASON_ASSISTANT_MISMATCH},
      {Event("call_alice_bobs_assistant"), AliceCallWithBobsAssistant(), "", "assistant_owner",
       v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH},
      {Event("call_alice_missing_assistant"), AliceCallWithMissingAssistant(), "",
       "assistant_owner", v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH},
      {Event("call_alice_1", "asst_alice", "phone_bob"), AliceCall(), "", "phone_number",
       v1::DENY_REASON_PHONE_NUMBER_MISMATCH},
      {Event("call_alice_bobs_phone"), AliceCallWithBobsPhone(), "", "phone_number_owner",
       v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH},
      {Event("call_alice_missing_phone"), AliceCallWithMissingPhone(), "", "phone_number_owner",
       v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH},
      {Event("call_alice_1"), AliceCall(), "2", "expected_owner", v1::DENY_REASON_OWNER_MISMATCH},
      {Event("call_alice_1"), CallOwnership{"", "asst_alice", "1", std::nullopt, std::nullopt}, "",
       "call_lookup", v1::DENY_REASON_OWNER_MISMATCH},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.failing_step + " " + c.event.call_id());
    std::vector<OwnershipStep> trace;
    OwnershipDecision traced = ApplyOwnershipRules(c.event, c.call, c.expected_owner, &trace);
    OwnershipDecision plain = ApplyOwnershipRules(c.event, c.call, c.expected_owner);
    EXPECT_EQ(traced.decision, v1::DECISION_DENY);
    EXPECT_EQ(traced.reason, c.reason);
    EXPECT_EQ(plain.reason, traced.reason);
    EXPECT_EQ(plain.detail, traced.detail);
    ASSERT_EQ(trace.size(), OwnershipStepNames().size());
    bool after_failure = false;
    int failures = 0;
    for (size_t i = 0; i < trace.size(); ++i) {
      EXPECT_EQ(trace[i].name, OwnershipStepNames()[i]);
      if (after_failure) {
        EXPECT_EQ(trace[i].outcome, OwnershipStep::Outcome::kSkipped) << trace[i].name;
      }
      if (trace[i].outcome == OwnershipStep::Outcome::kFail) {
        ++failures;
        after_failure = true;
        EXPECT_EQ(trace[i].name, c.failing_step);
        EXPECT_EQ(trace[i].reason, c.reason);
        EXPECT_EQ(trace[i].detail, traced.detail);
      } else if (!after_failure) {
        EXPECT_NE(trace[i].outcome, OwnershipStep::Outcome::kFail);
      }
    }
    EXPECT_EQ(failures, 1);
  }
}

}  // namespace
}  // namespace hookguard

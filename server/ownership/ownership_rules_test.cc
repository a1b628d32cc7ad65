#include "server/ownership/ownership_rules.h"

#include <atomic>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ownership/mock_ownership_store.h"

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

// threat-table row 1.
TEST(OwnershipRules, DeniesCrossUserAssistant) {
  CheckCases({{"bob's call, alice's assistant", Event("call_bob_1", "asst_alice"), BobCall(), "",
               kDeny, v1::DENY_REASON_ASSISTANT_MISMATCH, ""}});
}

// threat-table row 2.
TEST(OwnershipRules, DeniesSpoofedAssistant) {
  CheckCases({
      {"nobody's assistant", Event("call_alice_1", "asst_nobody"), AliceCall(), "", kDeny,
       v1::DENY_REASON_ASSISTANT_MISMATCH, ""},
      {"call has no assistant row", Event("call_alice_missing_assistant", "asst_alice"),
       AliceCallWithMissingAssistant(), "", kDeny, v1::DENY_REASON_ASSISTANT_MISMATCH, ""},
  });
}

// threat-table row 3.
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

// threat-table row 8: inconsistent rows, even when the event names nothing but
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

// threat-table row 9.
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

// ------------------------------------------------- the resolution chain

v1::CallEvent TypedEvent(std::string type, std::string call_id, std::string assistant_id,
                         std::string phone_number_id) {
  v1::CallEvent event =
      Event(std::move(call_id), std::move(assistant_id), std::move(phone_number_id));
  event.set_type(std::move(type));
  return event;
}

// A store holding the consistent fixture's rows: alice (1) owns asst_alice
// and phone_alice, bob (2) asst_bob and phone_bob; call_alice_1 exists.
class FixtureStore : public OwnershipStore {
 public:
  absl::StatusOr<std::optional<CallOwnership>> FindCall(absl::string_view call_id,
                                                        absl::Time) override {
    ++lookups;
    if (call_id == "call_alice_1") return std::optional<CallOwnership>(AliceCall());
    return std::optional<CallOwnership>();
  }
  absl::StatusOr<std::optional<std::string>> FindOwner(OwnerLookup what, absl::string_view id,
                                                       absl::Time) override {
    ++lookups;
    if (!error.ok()) return error;
    const bool phone = what == OwnerLookup::kPhoneNumber;
    if (id == (phone ? "phone_alice" : "asst_alice")) return std::optional<std::string>("1");
    if (id == (phone ? "phone_bob" : "asst_bob")) return std::optional<std::string>("2");
    if (id == (phone ? "phone_nobody" : "asst_nobody")) return std::optional<std::string>("");
    return std::optional<std::string>();
  }
  absl::StatusOr<std::optional<std::string>> FindSubjectOwner(int, absl::string_view,
                                                              absl::Time) override {
    return absl::UnimplementedError("the call model's tests have no subjects");
  }
  absl::Status Ping(absl::Time) override { return absl::OkStatus(); }

  int lookups = 0;
  absl::Status error = absl::OkStatus();
};

// The fixture's rows, answered asynchronously from another thread, as the
// coalescing store answers lookups that rode in another request's batch.
class ThreadedFixtureStore : public FixtureStore {
 public:
  ThreadedFixtureStore() : answerer_([this] { Run(); }) {}
  ~ThreadedFixtureStore() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    answerer_.join();
  }
  void FindCallAsync(absl::string_view call_id, absl::Time deadline,
                     std::function<void(CallAnswer)> done) override {
    Later([this, call_id, deadline, done = std::move(done)] { done(FindCall(call_id, deadline)); });
  }
  void FindOwnerAsync(OwnerLookup what, absl::string_view id, absl::Time deadline,
                      std::function<void(OwnerAnswer)> done) override {
    Later([this, what, id, deadline, done = std::move(done)] {
      done(FindOwner(what, id, deadline));
    });
  }
  // Answers given on the answering thread.
  std::atomic<int> answered_elsewhere{0};

 private:
  void Later(std::function<void()> answer) {
    absl::MutexLock lock(&mu_);
    pending_.push_back(std::move(answer));
  }
  void Run() {
    while (true) {
      std::function<void()> answer;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]()
                         ABSL_NO_THREAD_SAFETY_ANALYSIS { return stopping_ || !pending_.empty(); };
        mu_.Await(absl::Condition(&ready));
        if (pending_.empty()) return;
        answer = std::move(pending_.front());
        pending_.pop_front();
      }
      ++answered_elsewhere;
      answer();
    }
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> pending_;
  bool stopping_ = false;
  std::thread answerer_;  // last: starts once the rest is built
};

// Authorize's answer through AuthorizeAsync with answers from other threads.
absl::StatusOr<OwnershipDecision> AuthorizeThroughAsync(const CallEventAuthorizer& authorizer,
                                                        const v1::CallEvent& event,
                                                        const std::string& expected_owner_id) {
  absl::Notification done;
  absl::StatusOr<OwnershipDecision> got = absl::UnknownError("never answered");
  authorizer.AuthorizeAsync(event, expected_owner_id, kDeadline,
                            [&](absl::StatusOr<OwnershipDecision> decision) {
                              got = std::move(decision);
                              done.Notify();
                            });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  return got;
}

ResolvePolicy Policy(const std::string& json_rules) {
  config::v1::Ownership ownership;
  // {"types": [...], "by": [...]} rules as the config file writes them.
  for (absl::string_view rule : absl::StrSplit(json_rules, ';', absl::SkipEmpty())) {
    std::vector<absl::string_view> halves = absl::StrSplit(rule, '=');
    config::v1::ResolveRule* r = ownership.add_resolve();
    for (absl::string_view t : absl::StrSplit(halves[0], ',')) r->add_types(std::string(t));
    for (absl::string_view b : absl::StrSplit(halves[1], ',')) r->add_by(std::string(b));
  }
  absl::StatusOr<ResolvePolicy> policy = ResolvePolicy::Compile(ownership.resolve());
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *policy : ResolvePolicy();
}

struct ChainCase {
  std::string name;
  std::string policy;  // "types=by;..." or "" for the default
  v1::CallEvent event;
  std::string expected_owner_id;
  v1::DenyReason reason;  // UNSPECIFIED: ALLOW
  std::string owner_id;
  v1::OwnerSource resolved_by;
};

TEST(CallEventAuthorizer, ResolutionChainTable) {
  constexpr auto kNone = v1::DENY_REASON_UNSPECIFIED;
  const std::string kEarly =
      "assistant-request=call,phone_number;status-update=call,assistant;chat.*,session.*=assistant;"
      "*=call";
  const std::vector<ChainCase> cases = {
      // The default chain.
      {"default: inbound assistant-request by phone number", "",
       TypedEvent("assistant-request", "call_new", "", "phone_alice"), "", kNone, "1",
       v1::OWNER_SOURCE_PHONE_NUMBER},
      {"default: a known call is decided by its row", "",
       TypedEvent("assistant-request", "call_alice_1", "", "phone_alice"), "", kNone, "1",
       v1::OWNER_SOURCE_CALL},
      {"default: a known call's row wins over the phone number (hijack)", "",
       TypedEvent("assistant-request", "call_alice_1", "", "phone_bob"), "",
       v1::DENY_REASON_PHONE_NUMBER_MISMATCH, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"default: status-update without a row stays not found", "",
       TypedEvent("status-update", "call_new", "asst_alice", ""), "",
       v1::DENY_REASON_CALL_NOT_FOUND, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"default: chat event without call stays malformed", "",
       TypedEvent("chat.created", "", "asst_alice", ""), "", v1::DENY_REASON_MALFORMED_EVENT, "",
       v1::OWNER_SOURCE_UNSPECIFIED},
      {"default: unknown phone number", "",
       TypedEvent("assistant-request", "call_new", "", "phone_unknown"), "",
       v1::DENY_REASON_CALL_NOT_FOUND, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"default: assistant-request naming nothing", "", TypedEvent("assistant-request", "", "", ""),
       "", v1::DENY_REASON_MALFORMED_EVENT, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"default: conflicting assistant and phone number", "",
       TypedEvent("assistant-request", "call_new", "asst_bob", "phone_alice"), "",
       v1::DENY_REASON_OWNER_CONFLICT, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"default: unknown assistant beside a known number", "",
       TypedEvent("assistant-request", "call_new", "asst_spoofed", "phone_alice"), "",
       v1::DENY_REASON_ASSISTANT_MISMATCH, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"default: expected owner still applies", "",
       TypedEvent("assistant-request", "call_new", "", "phone_alice"), "2",
       v1::DENY_REASON_OWNER_MISMATCH, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"default: expected owner matches", "",
       TypedEvent("assistant-request", "call_new", "asst_alice", "phone_alice"), "1", kNone, "1",
       v1::OWNER_SOURCE_PHONE_NUMBER},
      {"a phone number row without owner fails closed", "",
       TypedEvent("assistant-request", "call_new", "", "phone_nobody"), "",
       v1::DENY_REASON_OWNER_MISMATCH, "", v1::OWNER_SOURCE_UNSPECIFIED},
      // Configured chains.
      {"outbound status-update by assistant", kEarly,
       TypedEvent("status-update", "call_new", "asst_bob", ""), "", kNone, "2",
       v1::OWNER_SOURCE_ASSISTANT},
      {"outbound status-update: assistant and number of different users", kEarly,
       TypedEvent("status-update", "call_new", "asst_bob", "phone_alice"), "",
       v1::DENY_REASON_OWNER_CONFLICT, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"outbound status-update: unknown phone number beside the assistant", kEarly,
       TypedEvent("status-update", "call_new", "asst_bob", "phone_unknown"), "",
       v1::DENY_REASON_PHONE_NUMBER_MISMATCH, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"outbound status-update: a known call still decides", kEarly,
       TypedEvent("status-update", "call_alice_1", "asst_bob", ""), "",
       v1::DENY_REASON_ASSISTANT_MISMATCH, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"chat event by assistant (prefix rule)", kEarly,
       TypedEvent("chat.created", "", "asst_alice", ""), "", kNone, "1",
       v1::OWNER_SOURCE_ASSISTANT},
      {"session event by assistant", kEarly, TypedEvent("session.deleted", "", "asst_bob", ""), "",
       kNone, "2", v1::OWNER_SOURCE_ASSISTANT},
      {"chat event with an unknown assistant", kEarly,
       TypedEvent("chat.created", "", "asst_unknown", ""), "", v1::DENY_REASON_CALL_NOT_FOUND, "",
       v1::OWNER_SOURCE_UNSPECIFIED},
      {"a type no early rule names stays call-only", kEarly,
       TypedEvent("end-of-call-report", "call_new", "asst_alice", "phone_alice"), "",
       v1::DENY_REASON_CALL_NOT_FOUND, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"fallback order: assistant first, then phone", "x=call,assistant,phone_number",
       TypedEvent("x", "call_new", "asst_unknown", "phone_bob"), "",
       v1::DENY_REASON_ASSISTANT_MISMATCH, "", v1::OWNER_SOURCE_UNSPECIFIED},
      {"no rule matches: call only", "x=call,assistant",
       TypedEvent("y", "call_new", "asst_alice", ""), "", v1::DENY_REASON_CALL_NOT_FOUND, "",
       v1::OWNER_SOURCE_UNSPECIFIED},
  };
  for (const ChainCase& c : cases) {
    SCOPED_TRACE(c.name);
    FixtureStore store;
    CallEventAuthorizer authorizer(store, c.policy.empty() ? ResolvePolicy() : Policy(c.policy));
    std::vector<OwnershipStep> trace;
    absl::StatusOr<OwnershipDecision> got =
        authorizer.Authorize(c.event, c.expected_owner_id, kDeadline, &trace);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->decision, c.reason == kNone ? kAllow : kDeny);
    EXPECT_EQ(got->reason, c.reason) << v1::DenyReason_Name(got->reason) << ": " << got->detail;
    EXPECT_EQ(got->owner_id, c.owner_id);
    EXPECT_EQ(got->resolved_by, c.resolved_by);
    // The trace decides as the run did: one failing step exactly on a deny.
    int failed = 0;
    for (const OwnershipStep& step : trace) {
      if (step.outcome == OwnershipStep::Outcome::kFail) {
        ++failed;
        EXPECT_EQ(step.reason, c.reason) << step.name;
      }
    }
    EXPECT_EQ(failed, c.reason == kNone ? 0 : 1);
    // The trace never changes the decision.
    FixtureStore again;
    CallEventAuthorizer untraced(again, c.policy.empty() ? ResolvePolicy() : Policy(c.policy));
    absl::StatusOr<OwnershipDecision> plain =
        untraced.Authorize(c.event, c.expected_owner_id, kDeadline);
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(plain->reason, got->reason);
    // The asynchronous form, answered from other threads, decides the same
    // with the same lookups.
    ThreadedFixtureStore threaded;
    CallEventAuthorizer async(threaded, c.policy.empty() ? ResolvePolicy() : Policy(c.policy));
    absl::StatusOr<OwnershipDecision> later =
        AuthorizeThroughAsync(async, c.event, c.expected_owner_id);
    ASSERT_TRUE(later.ok()) << later.status();
    EXPECT_EQ(later->decision, got->decision);
    EXPECT_EQ(later->reason, got->reason);
    EXPECT_EQ(later->owner_id, got->owner_id);
    EXPECT_EQ(later->resolved_by, got->resolved_by);
    EXPECT_EQ(later->detail, got->detail);
    EXPECT_EQ(threaded.lookups, store.lookups);
    EXPECT_EQ(threaded.answered_elsewhere.load(), store.lookups);
  }
}

TEST(CallEventAuthorizer, ResolutionLookupErrorsAreNeverAllow) {
  for (const absl::Status& error :
       {absl::UnavailableError("down"), absl::DeadlineExceededError("slow"),
        absl::FailedPreconditionError("two rows")}) {
    SCOPED_TRACE(error.ToString());
    FixtureStore store;
    store.error = error;
    CallEventAuthorizer authorizer(store);
    absl::StatusOr<OwnershipDecision> got = authorizer.Authorize(
        TypedEvent("assistant-request", "call_new", "", "phone_alice"), "", kDeadline);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), error.code());
    ThreadedFixtureStore threaded;
    threaded.error = error;
    CallEventAuthorizer async(threaded);
    absl::StatusOr<OwnershipDecision> later = AuthorizeThroughAsync(
        async, TypedEvent("assistant-request", "call_new", "", "phone_alice"), "");
    ASSERT_FALSE(later.ok());
    EXPECT_EQ(later.status().code(), error.code());
  }
}

// A configuration that maps its own schema and leaves phone_number_query or
// assistant_query unset turns that lookup off: an event whose chain reaches
// it (naming its id) is denied CALL_NOT_FOUND with a detail naming the
// unset query, without a lookup and without trying a later source; an off
// lookup is never used to compare the other id.
TEST(CallEventAuthorizer, ChainStepsWhoseLookupIsOffDenyNamingTheQuery) {
  constexpr auto kNone = v1::DENY_REASON_UNSPECIFIED;
  const auto phone = v1::OWNER_SOURCE_PHONE_NUMBER;
  const auto assistant = v1::OWNER_SOURCE_ASSISTANT;
  const struct {
    std::string name;
    std::string policy;  // "" for the default chain
    std::vector<v1::OwnerSource> off;
    v1::CallEvent event;
    v1::DenyReason reason;
    std::string owner_id;
    std::string detail;  // the decision's (a deny) or the owner_consistency step's
    int lookups;
  } cases[] = {
      {"default chain, phone off: inbound assistant-request denied",
       "",
       {phone},
       TypedEvent("assistant-request", "call_new", "", "phone_alice"),
       v1::DENY_REASON_CALL_NOT_FOUND,
       "",
       "no call row; phone_number lookup is off: ownership.phone_number_query is not set",
       1},
      {"default chain, phone off: a known call is decided by its row",
       "",
       {phone, assistant},
       TypedEvent("assistant-request", "call_alice_1", "", "phone_alice"),
       kNone,
       "1",
       "",
       1},
      {"default chain, phone off: an event naming no number is not found as before",
       "",
       {phone},
       TypedEvent("assistant-request", "call_new", "", ""),
       v1::DENY_REASON_CALL_NOT_FOUND,
       "",
       "no call row, and no owner through the sources of the event's resolution rule",
       1},
      {"an off step is never skipped for a later source that would allow",
       "x=call,phone_number,assistant",
       {phone},
       TypedEvent("x", "call_new", "asst_alice", "phone_bob"),
       v1::DENY_REASON_CALL_NOT_FOUND,
       "",
       "no call row; phone_number lookup is off: ownership.phone_number_query is not set",
       1},
      {"chat by assistant, assistant off: no call",
       "chat.*=assistant",
       {assistant},
       TypedEvent("chat.created", "", "asst_alice", ""),
       v1::DENY_REASON_CALL_NOT_FOUND,
       "",
       "the event names no call; assistant lookup is off: ownership.assistant_query is not set",
       0},
      {"by phone with assistant off: the assistant is not compared",
       "status-update=call,phone_number",
       {assistant},
       TypedEvent("status-update", "call_new", "asst_bob", "phone_alice"),
       kNone,
       "1",
       "the event's assistant is not compared: assistant lookup is off: "
       "ownership.assistant_query is not set",
       2},
      {"no call model (subject profiles only): a call is denied without a lookup",
       "",
       {v1::OWNER_SOURCE_CALL, phone, assistant},
       TypedEvent("status-update", "call_alice_1", "asst_alice", "phone_alice"),
       v1::DENY_REASON_CALL_NOT_FOUND,
       "",
       "no call row; call lookup is off: ownership.call_query is not set",
       0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    config::v1::Ownership ownership;
    if (!c.policy.empty()) {
      std::vector<absl::string_view> halves = absl::StrSplit(c.policy, '=');
      config::v1::ResolveRule* r = ownership.add_resolve();
      for (absl::string_view t : absl::StrSplit(halves[0], ',')) r->add_types(std::string(t));
      for (absl::string_view b : absl::StrSplit(halves[1], ',')) r->add_by(std::string(b));
    }
    absl::StatusOr<ResolvePolicy> policy = ResolvePolicy::Compile(ownership.resolve(), c.off);
    ASSERT_TRUE(policy.ok()) << policy.status();
    FixtureStore store;
    CallEventAuthorizer authorizer(store, *policy);
    std::vector<OwnershipStep> trace;
    absl::StatusOr<OwnershipDecision> got = authorizer.Authorize(c.event, "", kDeadline, &trace);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->decision, c.reason == kNone ? kAllow : kDeny);
    EXPECT_EQ(got->reason, c.reason) << got->detail;
    EXPECT_EQ(got->owner_id, c.owner_id);
    EXPECT_EQ(store.lookups, c.lookups);
    if (c.reason != kNone) {
      EXPECT_EQ(got->detail, c.detail);
    } else if (!c.detail.empty()) {
      bool found = false;
      for (const OwnershipStep& step : trace) {
        if (step.name != "owner_consistency") continue;
        found = true;
        EXPECT_EQ(step.outcome, OwnershipStep::Outcome::kSkipped);
        EXPECT_EQ(step.detail, c.detail);
      }
      EXPECT_TRUE(found);
    }
    ThreadedFixtureStore threaded;
    CallEventAuthorizer async(threaded, *policy);
    absl::StatusOr<OwnershipDecision> later = AuthorizeThroughAsync(async, c.event, "");
    ASSERT_TRUE(later.ok()) << later.status();
    EXPECT_EQ(later->reason, got->reason);
    EXPECT_EQ(later->detail, got->detail);
  }
}

// A run keeps the chain it started with when a reload lands while its
// lookup is out.
TEST(CallEventAuthorizer, AnAsynchronousRunKeepsTheChainItStartedWith) {
  const v1::CallEvent chat = TypedEvent("chat.created", "call_new", "asst_alice", "");
  // The first lookup (the call's) answers only after the reload.
  std::function<void(CallAnswer)> pending;
  class HeldStore : public FixtureStore {
   public:
    explicit HeldStore(std::function<void(CallAnswer)>* held) : held_(held) {}
    void FindCallAsync(absl::string_view, absl::Time,
                       std::function<void(CallAnswer)> done) override {
      *held_ = std::move(done);
    }

   private:
    std::function<void(CallAnswer)>* held_;
  } held(&pending);
  CallEventAuthorizer reloaded(held, Policy("chat.*=call"));
  absl::StatusOr<OwnershipDecision> got = absl::UnknownError("never answered");
  reloaded.AuthorizeAsync(chat, "", kDeadline,
                          [&](absl::StatusOr<OwnershipDecision> d) { got = std::move(d); });
  ASSERT_TRUE(pending != nullptr);
  reloaded.SetPolicy(Policy("chat.*=call,assistant"));
  pending(std::optional<CallOwnership>());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->reason, v1::DENY_REASON_CALL_NOT_FOUND);  // the old chain: call only
  EXPECT_EQ(held.lookups, 0);                              // and no owner lookup ran
}

// A reload puts a new resolution chain in force for the calls that follow.
TEST(CallEventAuthorizer, SetPolicyReplacesTheChainForLaterCalls) {
  FixtureStore store;
  CallEventAuthorizer authorizer(store);
  const v1::CallEvent chat = TypedEvent("chat.created", "", "asst_alice", "");
  absl::StatusOr<OwnershipDecision> before = authorizer.Authorize(chat, "", kDeadline);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->decision, v1::DECISION_DENY);  // the default chain asks for a call
  const std::shared_ptr<const ResolvePolicy> old_policy = authorizer.policy();
  authorizer.SetPolicy(Policy("chat.*=assistant"));
  absl::StatusOr<OwnershipDecision> after = authorizer.Authorize(chat, "", kDeadline);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->decision, v1::DECISION_ALLOW);
  EXPECT_EQ(after->resolved_by, v1::OWNER_SOURCE_ASSISTANT);
  // Whoever held the old chain keeps it, unchanged.
  EXPECT_EQ(old_policy->RuleFor("chat.created"), old_policy->RuleFor("*"));
  EXPECT_NE(authorizer.policy()->RuleFor("chat.created"), nullptr);
}

TEST(CallEventAuthorizer, LooksEachIdUpOnce) {
  FixtureStore store;
  CallEventAuthorizer authorizer(store, Policy("x=call,phone_number,assistant"));
  // phone unknown (1 lookup), assistant found (1), consistency reuses the
  // phone's answer: 1 call + 2 owner lookups.
  absl::StatusOr<OwnershipDecision> got = authorizer.Authorize(
      TypedEvent("x", "call_new", "asst_alice", "phone_unknown"), "", kDeadline);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->reason, v1::DENY_REASON_PHONE_NUMBER_MISMATCH);
  EXPECT_EQ(store.lookups, 3);
}

TEST(CallEventAuthorizer, ChainTraceNamesEachStep) {
  FixtureStore store;
  CallEventAuthorizer authorizer(store);
  std::vector<OwnershipStep> trace;
  ASSERT_TRUE(
      authorizer
          .Authorize(TypedEvent("assistant-request", "call_new", "asst_alice", "phone_alice"), "1",
                     kDeadline, &trace)
          .ok());
  std::vector<std::string> names, outcomes;
  for (const OwnershipStep& step : trace) {
    names.push_back(step.name);
    outcomes.push_back(OutcomeName(step.outcome));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"call_id", "call_lookup", "phone_number_lookup",
                                             "owner_consistency", "expected_owner"}));
  EXPECT_EQ(outcomes, (std::vector<std::string>{"pass", "miss", "pass", "pass", "pass"}));
  for (const std::string& name : names) {
    EXPECT_THAT(ResolutionStepNames(), ::testing::Contains(name));
  }
}

}  // namespace
}  // namespace hookguard

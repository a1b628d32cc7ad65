#include "server/ownership/ownership_rules.h"

#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace hookguard {
namespace {

bool SameOwner(const std::optional<std::string>& owner, const std::string& call_owner) {
  return owner.has_value() && *owner == call_owner;
}

std::string Show(const std::optional<std::string>& value) {
  return value.has_value() ? absl::StrCat("'", *value, "'") : "NULL";
}

// Records the steps of one run. Details are built (by the callables) only
// when a trace was asked for, so the service's path does no extra work.
class Tracer {
 public:
  // Appends to `trace` (nullptr: records nothing).
  explicit Tracer(std::vector<OwnershipStep>* trace) : trace_(trace) {}

  template <typename DetailFn>
  void Pass(const char* name, DetailFn detail) {
    Add(name, OwnershipStep::Outcome::kPass, v1::DENY_REASON_UNSPECIFIED, detail);
  }
  template <typename DetailFn>
  void Skip(const char* name, DetailFn detail) {
    Add(name, OwnershipStep::Outcome::kSkipped, v1::DENY_REASON_UNSPECIFIED, detail);
  }
  template <typename DetailFn>
  void Miss(const char* name, DetailFn detail) {
    Add(name, OwnershipStep::Outcome::kMiss, v1::DENY_REASON_UNSPECIFIED, detail);
  }
  // Records the deciding step `name` (its detail is the decision's) and the
  // steps `unreached` after it.
  OwnershipDecision Fail(const char* name, v1::DenyReason reason, std::string detail,
                         std::initializer_list<const char*> unreached) {
    if (trace_ != nullptr) {
      Add(name, OwnershipStep::Outcome::kFail, reason, [&] { return detail; });
      for (const char* later : unreached) {
        Skip(later, [] { return std::string("not reached: an earlier step decided"); });
      }
    }
    return DenyDecision(reason, std::move(detail));
  }

 private:
  template <typename DetailFn>
  void Add(const char* name, OwnershipStep::Outcome outcome, v1::DenyReason reason,
           DetailFn detail) {
    if (trace_ == nullptr) return;
    OwnershipStep step;
    step.name = name;
    step.outcome = outcome;
    step.reason = reason;
    step.detail = detail();
    trace_->push_back(std::move(step));
  }

  std::vector<OwnershipStep>* const trace_;
};

OwnershipDecision Allow(std::string owner_id, v1::OwnerSource source) {
  OwnershipDecision allow;
  allow.decision = v1::DECISION_ALLOW;
  allow.reason = v1::DENY_REASON_UNSPECIFIED;
  allow.owner_id = std::move(owner_id);
  allow.resolved_by = source;
  return allow;
}

}  // namespace

OwnershipDecision DenyDecision(v1::DenyReason reason, std::string detail) {
  OwnershipDecision decision;
  decision.decision = v1::DECISION_DENY;
  decision.reason = reason;
  decision.detail = std::move(detail);
  return decision;
}

const std::vector<std::string>& OwnershipStepNames() {
  static const auto* names = new std::vector<std::string>{
      "call_id",      "call_lookup",        "assistant",     "assistant_owner",
      "phone_number", "phone_number_owner", "expected_owner"};
  return *names;
}

const std::vector<std::string>& ResolutionStepNames() {
  static const auto* names =
      new std::vector<std::string>{"call_id",          "call_lookup",       "phone_number_lookup",
                                   "assistant_lookup", "owner_consistency", "expected_owner",
                                   "resolve"};
  return *names;
}

const char* OwnerLookupName(OwnerLookup what) {
  return what == OwnerLookup::kPhoneNumber ? "phone number" : "assistant";
}

const char* OutcomeName(OwnershipStep::Outcome outcome) {
  switch (outcome) {
    case OwnershipStep::Outcome::kMiss:
      return "miss";
    case OwnershipStep::Outcome::kPass:
      return "pass";
    case OwnershipStep::Outcome::kFail:
      return "fail";
    case OwnershipStep::Outcome::kSkipped:
      return "skipped";
  }
  return "skipped";
}

OwnershipDecision ApplyOwnershipRules(const v1::CallEvent& event,
                                      const std::optional<CallOwnership>& call,
                                      absl::string_view expected_owner_id,
                                      std::vector<OwnershipStep>* trace) {
  if (trace != nullptr) trace->clear();
  Tracer t(trace);
  // Rule 1.
  if (event.call_id().empty()) {
    return t.Fail("call_id", v1::DENY_REASON_MALFORMED_EVENT, "event has no call id",
                  {"call_lookup", "assistant", "assistant_owner", "phone_number",
                   "phone_number_owner", "expected_owner"});
  }
  t.Pass("call_id", [&] { return absl::StrCat("call id '", event.call_id(), "'"); });
  // Rule 2.
  if (!call.has_value()) {
    return t.Fail(
        "call_lookup", v1::DENY_REASON_CALL_NOT_FOUND,
        absl::StrCat("no call with id ", event.call_id()),
        {"assistant", "assistant_owner", "phone_number", "phone_number_owner", "expected_owner"});
  }
  // Not a contract rule: a row without an owner can be trusted by no rule.
  if (call->owner_id.empty()) {
    return t.Fail(
        "call_lookup", v1::DENY_REASON_OWNER_MISMATCH, "the call has no owner in the database",
        {"assistant", "assistant_owner", "phone_number", "phone_number_owner", "expected_owner"});
  }
  t.Pass("call_lookup", [&] { return absl::StrCat("found; call owner '", call->owner_id, "'"); });
  // Rule 3: only when the event names an assistant.
  if (event.assistant_id().empty()) {
    t.Skip("assistant", [] { return std::string("the event names no assistant"); });
  } else if (!call->assistant_id.has_value() || *call->assistant_id != event.assistant_id()) {
    return t.Fail("assistant", v1::DENY_REASON_ASSISTANT_MISMATCH,
                  absl::StrCat("assistant ", event.assistant_id(), " is not the assistant of call ",
                               event.call_id()),
                  {"assistant_owner", "phone_number", "phone_number_owner", "expected_owner"});
  } else {
    t.Pass("assistant", [&] {
      return absl::StrCat("the event's assistant '", event.assistant_id(),
                          "' is the call's assistant");
    });
  }
  // Rule 4: always; a NULL owner (dangling assistant) is a mismatch.
  if (!SameOwner(call->assistant_owner_id, call->owner_id)) {
    return t.Fail("assistant_owner", v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH,
                  absl::StrCat("the assistant of call ", event.call_id(),
                               " belongs to another user than the call, or to none"),
                  {"phone_number", "phone_number_owner", "expected_owner"});
  }
  t.Pass("assistant_owner", [&] {
    return absl::StrCat("the call's assistant ", Show(call->assistant_id), " is owned by '",
                        *call->assistant_owner_id, "', the call's owner");
  });
  // Rule 5: only when the event names a phone number.
  if (event.phone_number_id().empty()) {
    t.Skip("phone_number", [] { return std::string("the event names no phone number"); });
  } else if (!call->phone_number_id.has_value() ||
             *call->phone_number_id != event.phone_number_id()) {
    return t.Fail("phone_number", v1::DENY_REASON_PHONE_NUMBER_MISMATCH,
                  absl::StrCat("phone number ", event.phone_number_id(),
                               " is not the phone number of call ", event.call_id()),
                  {"phone_number_owner", "expected_owner"});
  } else {
    t.Pass("phone_number", [&] {
      return absl::StrCat("the event's phone number '", event.phone_number_id(),
                          "' is the call's phone number");
    });
  }
  // Rule 6: whenever the call has a phone number.
  if (!call->phone_number_id.has_value()) {
    t.Skip("phone_number_owner", [] { return std::string("the call has no phone number"); });
  } else if (!SameOwner(call->phone_number_owner_id, call->owner_id)) {
    return t.Fail("phone_number_owner", v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH,
                  absl::StrCat("the phone number of call ", event.call_id(),
                               " belongs to another user than the call, or to none"),
                  {"expected_owner"});
  } else {
    t.Pass("phone_number_owner", [&] {
      return absl::StrCat("the call's phone number ", Show(call->phone_number_id), " is owned by '",
                          *call->phone_number_owner_id, "', the call's owner");
    });
  }
  // Rule 7.
  if (expected_owner_id.empty()) {
    t.Skip("expected_owner", [] { return std::string("no expected owner given"); });
  } else if (expected_owner_id != call->owner_id) {
    return t.Fail("expected_owner", v1::DENY_REASON_OWNER_MISMATCH,
                  absl::StrCat("call ", event.call_id(), " is not owned by the expected user"), {});
  } else {
    t.Pass("expected_owner", [&] {
      return absl::StrCat("the expected owner '", expected_owner_id, "' owns the call");
    });
  }
  // Rule 8.
  return Allow(call->owner_id, v1::OWNER_SOURCE_CALL);
}

OwnershipDecision ApplyResolvedOwnerRules(
    const v1::CallEvent& event, v1::OwnerSource source, const std::string& owner,
    const std::optional<std::optional<std::string>>& other_owner, absl::string_view other_off,
    absl::string_view expected_owner_id, std::vector<OwnershipStep>* trace) {
  Tracer t(trace);
  const bool by_phone = source == v1::OWNER_SOURCE_PHONE_NUMBER;
  const char* found_kind = by_phone ? "phone number" : "assistant";
  const char* other_kind = by_phone ? "assistant" : "phone number";
  // Rule 1: fail closed on a row that names nobody.
  if (owner.empty()) {
    return t.Fail("owner_consistency", v1::DENY_REASON_OWNER_MISMATCH,
                  absl::StrCat("the ", found_kind, " has no owner in the database"),
                  {"expected_owner"});
  }
  // Rules 2 and 3: every other id the event names must be the same user's.
  if (!other_off.empty()) {
    t.Skip("owner_consistency", [&] {
      return absl::StrCat("the event's ", other_kind, " is not compared: ", other_off);
    });
  } else if (!other_owner.has_value()) {
    t.Skip("owner_consistency",
           [&] { return absl::StrCat("the event names no ", other_kind, " to compare"); });
  } else if (!other_owner->has_value()) {
    return t.Fail(
        "owner_consistency",
        by_phone ? v1::DENY_REASON_ASSISTANT_MISMATCH : v1::DENY_REASON_PHONE_NUMBER_MISMATCH,
        absl::StrCat("the event's ", other_kind, " is not known"), {"expected_owner"});
  } else if (**other_owner != owner) {
    return t.Fail(
        "owner_consistency", v1::DENY_REASON_OWNER_CONFLICT,
        absl::StrCat("the event's ", found_kind, " and ", other_kind, " belong to different users"),
        {"expected_owner"});
  } else {
    t.Pass("owner_consistency", [&] {
      return absl::StrCat("the event's ", other_kind, " is owned by '", owner, "' too");
    });
  }
  // Rule 4.
  if (expected_owner_id.empty()) {
    t.Skip("expected_owner", [] { return std::string("no expected owner given"); });
  } else if (expected_owner_id != owner) {
    return t.Fail("expected_owner", v1::DENY_REASON_OWNER_MISMATCH,
                  absl::StrCat("the event's ", found_kind, " is not owned by the expected user"),
                  {});
  } else {
    t.Pass("expected_owner", [&] {
      return absl::StrCat("the expected owner '", expected_owner_id, "' owns the ", found_kind);
    });
  }
  // Rule 5.
  return Allow(owner, source);
}

// The chain runs as a pure function of the lookups answered so far (Decide):
// when it needs one more, it stops, the lookup is made asynchronously with
// the rest of the run in its callback (Continue), and the chain runs again
// from the start with one more answer; the blocking Authorize waits for it.
// Runs are cheap (no I/O) and at most three lookups are ever needed, so
// replaying keeps one copy of the rules.
struct CallEventAuthorizer::Answers {
  std::optional<CallAnswer> call;
  std::optional<OwnerAnswer> phone_number;
  std::optional<OwnerAnswer> assistant;
};

absl::StatusOr<std::optional<OwnershipDecision>> CallEventAuthorizer::Decide(
    const v1::CallEvent& event, absl::string_view expected_owner_id, const ResolvePolicy& policy,
    const Answers& answers, Need* need, std::vector<OwnershipStep>* trace) {
  if (trace != nullptr) trace->clear();
  // The sources after the call, in the rule's order.
  std::vector<v1::OwnerSource> fallbacks;
  if (const ResolveRule* rule = policy.RuleFor(event.type()); rule != nullptr) {
    for (v1::OwnerSource source : rule->by) {
      if (source != v1::OWNER_SOURCE_CALL) fallbacks.push_back(source);
    }
  }
  // The call's row, whenever the event names a call: a known call is always
  // decided by its row.
  static const std::optional<CallOwnership>* const kNoRow = new std::optional<CallOwnership>();
  const std::optional<CallOwnership>* row = kNoRow;
  if (!event.call_id().empty() && policy.IsOff(v1::OWNER_SOURCE_CALL)) {
    // No call model is configured (an app of subject profiles only): the
    // call cannot be found, and no later source decides for it.
    Tracer t(trace);
    t.Pass("call_id", [&] { return absl::StrCat("call id '", event.call_id(), "'"); });
    return t.Fail("call_lookup", v1::DENY_REASON_CALL_NOT_FOUND,
                  absl::StrCat("no call row; ", LookupOffDetail(v1::OWNER_SOURCE_CALL)),
                  {"owner_consistency", "expected_owner"});
  }
  if (!event.call_id().empty()) {
    if (!answers.call.has_value()) {
      *need = Need::kCall;
      return std::nullopt;
    }
    if (!answers.call->ok()) return answers.call->status();
    row = &**answers.call;
  }
  if (row->has_value() || fallbacks.empty()) {
    return ApplyOwnershipRules(event, *row, expected_owner_id, trace);
  }

  Tracer t(trace);
  if (event.call_id().empty()) {
    t.Skip("call_id", [] { return std::string("the event names no call"); });
    t.Skip("call_lookup", [] { return std::string("the event names no call"); });
  } else {
    t.Pass("call_id", [&] { return absl::StrCat("call id '", event.call_id(), "'"); });
    t.Miss("call_lookup", [&] {
      return absl::StrCat("no row for call '", event.call_id(), "'; the rule for type '",
                          event.type(), "' goes on");
    });
  }
  // The answer for the owner of the event's phone number or assistant:
  // kNotNamed when the event names none, kPending (and `*need` set) when it
  // was not looked up yet. Each id is looked up at most once, for the owner
  // and for consistency.
  enum class Have { kNotNamed, kPending, kAnswer };
  auto owner_of = [&](OwnerLookup what, const OwnerAnswer** answer) {
    const bool phone = what == OwnerLookup::kPhoneNumber;
    const std::string& id = phone ? event.phone_number_id() : event.assistant_id();
    const std::optional<OwnerAnswer>& have = phone ? answers.phone_number : answers.assistant;
    if (id.empty()) return Have::kNotNamed;
    if (!have.has_value()) {
      *need = phone ? Need::kPhoneNumber : Need::kAssistant;
      return Have::kPending;
    }
    *answer = &*have;
    return Have::kAnswer;
  };

  bool named_any = !event.call_id().empty();
  for (v1::OwnerSource source : fallbacks) {
    const bool by_phone = source == v1::OWNER_SOURCE_PHONE_NUMBER;
    const OwnerLookup what = by_phone ? OwnerLookup::kPhoneNumber : OwnerLookup::kAssistant;
    const char* step = by_phone ? "phone_number_lookup" : "assistant_lookup";
    const std::string& id = by_phone ? event.phone_number_id() : event.assistant_id();
    if (!id.empty() && policy.IsOff(source)) {
      // The rule needs a lookup the configuration left off: never skipped
      // (a later source could allow what this one would have denied).
      return t.Fail(
          step, v1::DENY_REASON_CALL_NOT_FOUND,
          absl::StrCat(event.call_id().empty() ? "the event names no call" : "no call row", "; ",
                       LookupOffDetail(source)),
          {"owner_consistency", "expected_owner"});
    }
    const OwnerAnswer* owner = nullptr;
    const Have have = owner_of(what, &owner);
    if (have == Have::kPending) return std::nullopt;
    if (have == Have::kNotNamed) {
      t.Skip(step, [&] { return absl::StrCat("the event names no ", OwnerLookupName(what)); });
      continue;
    }
    if (!owner->ok()) return owner->status();
    named_any = true;
    if (!owner->value().has_value()) {
      t.Miss(step, [&] { return absl::StrCat("no row for the event's ", OwnerLookupName(what)); });
      continue;
    }
    t.Pass(step, [&] {
      return absl::StrCat("the event's ", OwnerLookupName(what), " is owned by '", *owner->value(),
                          "'");
    });
    // The other id the event names: nullopt when none, or when its lookup
    // is off (then not compared, and the trace says why).
    std::optional<std::optional<std::string>> other_owner;
    const v1::OwnerSource other_source =
        by_phone ? v1::OWNER_SOURCE_ASSISTANT : v1::OWNER_SOURCE_PHONE_NUMBER;
    std::string other_off;
    if (policy.IsOff(other_source)) {
      other_off = LookupOffDetail(other_source);
    } else {
      const OwnerAnswer* other = nullptr;
      const Have other_have =
          owner_of(by_phone ? OwnerLookup::kAssistant : OwnerLookup::kPhoneNumber, &other);
      if (other_have == Have::kPending) return std::nullopt;
      if (other_have == Have::kAnswer) {
        if (!other->ok()) return other->status();
        other_owner = **other;
      }
    }
    return ApplyResolvedOwnerRules(event, source, *owner->value(), other_owner, other_off,
                                   expected_owner_id, trace);
  }
  if (!named_any) {
    return t.Fail("resolve", v1::DENY_REASON_MALFORMED_EVENT,
                  "the event names no call, and no id its resolution rule may use", {});
  }
  return t.Fail("resolve", v1::DENY_REASON_CALL_NOT_FOUND,
                "no call row, and no owner through the sources of the event's resolution rule", {});
}

// One Authorize, from its start until `done` ran.
struct CallEventAuthorizer::AsyncRun {
  const CallEventAuthorizer& self;
  const v1::CallEvent& event;
  const absl::string_view expected_owner_id;
  const absl::Time deadline;
  const std::shared_ptr<const ResolvePolicy> policy;
  std::vector<OwnershipStep>* const trace;
  std::function<void(absl::StatusOr<OwnershipDecision>)> done;
  Answers answers;
};

absl::StatusOr<OwnershipDecision> CallEventAuthorizer::Authorize(
    const v1::CallEvent& event, absl::string_view expected_owner_id, absl::Time deadline,
    std::vector<OwnershipStep>* trace) const {
  return Authorize(event, expected_owner_id, deadline, policy(), trace);
}

absl::StatusOr<OwnershipDecision> CallEventAuthorizer::Authorize(
    const v1::CallEvent& event, absl::string_view expected_owner_id, absl::Time deadline,
    std::shared_ptr<const ResolvePolicy> policy, std::vector<OwnershipStep>* trace) const {
  absl::Notification answered;
  absl::StatusOr<OwnershipDecision> decision = absl::UnknownError("ownership chain did not run");
  Continue(std::unique_ptr<AsyncRun>(new AsyncRun{*this,
                                                  event,
                                                  expected_owner_id,
                                                  deadline,
                                                  std::move(policy),
                                                  trace,
                                                  [&](absl::StatusOr<OwnershipDecision> d) {
                                                    decision = std::move(d);
                                                    answered.Notify();
                                                  },
                                                  {}}));
  answered.WaitForNotification();
  return decision;
}

void CallEventAuthorizer::AuthorizeAsync(
    const v1::CallEvent& event, absl::string_view expected_owner_id, absl::Time deadline,
    std::function<void(absl::StatusOr<OwnershipDecision>)> done) const {
  AuthorizeAsync(event, expected_owner_id, deadline, policy(), std::move(done));
}

void CallEventAuthorizer::AuthorizeAsync(
    const v1::CallEvent& event, absl::string_view expected_owner_id, absl::Time deadline,
    std::shared_ptr<const ResolvePolicy> policy,
    std::function<void(absl::StatusOr<OwnershipDecision>)> done) const {
  Continue(std::unique_ptr<AsyncRun>(new AsyncRun{
      *this, event, expected_owner_id, deadline, std::move(policy), nullptr, std::move(done), {}}));
}

void CallEventAuthorizer::Continue(std::unique_ptr<AsyncRun> run) {
  Need need = Need::kCall;
  absl::StatusOr<std::optional<OwnershipDecision>> decided =
      Decide(run->event, run->expected_owner_id, *run->policy, run->answers, &need, run->trace);
  if (!decided.ok()) return run->done(decided.status());
  if (decided->has_value()) return run->done(**std::move(decided));
  // The store calls back exactly once; the run lives in the callback until
  // then, which stores the answer in `slot` and runs the chain again.
  AsyncRun* const r = run.release();
  auto resume = [r](auto Answers::*slot) {
    return [r, slot](auto found) {
      r->answers.*slot = std::move(found);
      Continue(std::unique_ptr<AsyncRun>(r));
    };
  };
  OwnershipStore& store = r->self.store_;
  const v1::CallEvent& event = r->event;
  switch (need) {
    case Need::kCall:
      return store.FindCallAsync(event.call_id(), r->deadline, resume(&Answers::call));
    case Need::kPhoneNumber:
      return store.FindOwnerAsync(OwnerLookup::kPhoneNumber, event.phone_number_id(), r->deadline,
                                  resume(&Answers::phone_number));
    case Need::kAssistant:
      return store.FindOwnerAsync(OwnerLookup::kAssistant, event.assistant_id(), r->deadline,
                                  resume(&Answers::assistant));
  }
}

}  // namespace hookguard

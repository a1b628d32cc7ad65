#include "server/ownership/ownership_rules.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace hookguard {
namespace {

bool SameOwner(const std::optional<std::string>& owner, const std::string& call_owner) {
  return owner.has_value() && *owner == call_owner;
}

std::string Show(const std::optional<std::string>& value) {
  return value.has_value() ? absl::StrCat("'", *value, "'") : "NULL";
}

// Records the steps of one ApplyOwnershipRules run, in the order of
// OwnershipStepNames(). Details are built (by the callables) only when a
// trace was asked for, so the service's path does no extra work.
class Tracer {
 public:
  explicit Tracer(std::vector<OwnershipStep>* trace) : trace_(trace) {
    if (trace_ != nullptr) trace_->clear();
  }

  template <typename DetailFn>
  void Pass(DetailFn detail) {
    Add(OwnershipStep::Outcome::kPass, v1::DENY_REASON_UNSPECIFIED, detail);
  }
  template <typename DetailFn>
  void Skip(DetailFn detail) {
    Add(OwnershipStep::Outcome::kSkipped, v1::DENY_REASON_UNSPECIFIED, detail);
  }
  // Records the deciding step (its detail is the decision's) and the ones
  // it leaves unreached.
  OwnershipDecision Fail(v1::DenyReason reason, std::string detail) {
    if (trace_ != nullptr) {
      Add(OwnershipStep::Outcome::kFail, reason, [&] { return detail; });
      while (trace_->size() < OwnershipStepNames().size()) {
        Skip([] { return std::string("not reached: an earlier step decided"); });
      }
    }
    return DenyDecision(reason, std::move(detail));
  }

 private:
  template <typename DetailFn>
  void Add(OwnershipStep::Outcome outcome, v1::DenyReason reason, DetailFn detail) {
    if (trace_ == nullptr) return;
    OwnershipStep step;
    step.name = OwnershipStepNames()[trace_->size()];
    step.outcome = outcome;
    step.reason = reason;
    step.detail = detail();
    trace_->push_back(std::move(step));
  }

  std::vector<OwnershipStep>* const trace_;
};

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

const char* OutcomeName(OwnershipStep::Outcome outcome) {
  switch (outcome) {
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
  Tracer t(trace);
  // Rule 1.
  if (event.call_id().empty()) {
    return t.Fail(v1::DENY_REASON_MALFORMED_EVENT, "event has no call id");
  }
  t.Pass([&] { return absl::StrCat("call id '", event.call_id(), "'"); });
  // Rule 2.
  if (!call.has_value()) {
    return t.Fail(v1::DENY_REASON_CALL_NOT_FOUND,
                  absl::StrCat("no call with id ", event.call_id()));
  }
  // Not a contract rule: a row without an owner can be trusted by no rule.
  if (call->owner_id.empty()) {
    return t.Fail(v1::DENY_REASON_OWNER_MISMATCH, "the call has no owner in the database");
  }
  t.Pass([&] { return absl::StrCat("found; call owner '", call->owner_id, "'"); });
  // Rule 3: only when the event names an assistant.
  if (event.assistant_id().empty()) {
    t.Skip([] { return std::string("the event names no assistant"); });
  } else if (!call->assistant_id.has_value() || *call->assistant_id != event.assistant_id()) {
    return t.Fail(v1::DENY_REASON_ASSISTANT_MISMATCH,
                  absl::StrCat("assistant ", event.assistant_id(), " is not the assistant of call ",
                               event.call_id()));
  } else {
    t.Pass([&] {
      return absl::StrCat("the event's assistant '", event.assistant_id(),
                          "' is the call's assistant");
    });
  }
  // Rule 4: always; a NULL owner (dangling assistant) is a mismatch.
  if (!SameOwner(call->assistant_owner_id, call->owner_id)) {
    return t.Fail(v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH,
                  absl::StrCat("the assistant of call ", event.call_id(),
                               " belongs to another user than the call, or to none"));
  }
  t.Pass([&] {
    return absl::StrCat("the call's assistant ", Show(call->assistant_id), " is owned by '",
                        *call->assistant_owner_id, "', the call's owner");
  });
  // Rule 5: only when the event names a phone number.
  if (event.phone_number_id().empty()) {
    t.Skip([] { return std::string("the event names no phone number"); });
  } else if (!call->phone_number_id.has_value() ||
             *call->phone_number_id != event.phone_number_id()) {
    return t.Fail(v1::DENY_REASON_PHONE_NUMBER_MISMATCH,
                  absl::StrCat("phone number ", event.phone_number_id(),
                               " is not the phone number of call ", event.call_id()));
  } else {
    t.Pass([&] {
      return absl::StrCat("the event's phone number '", event.phone_number_id(),
                          "' is the call's phone number");
    });
  }
  // Rule 6: whenever the call has a phone number.
  if (!call->phone_number_id.has_value()) {
    t.Skip([] { return std::string("the call has no phone number"); });
  } else if (!SameOwner(call->phone_number_owner_id, call->owner_id)) {
    return t.Fail(v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH,
                  absl::StrCat("the phone number of call ", event.call_id(),
                               " belongs to another user than the call, or to none"));
  } else {
    t.Pass([&] {
      return absl::StrCat("the call's phone number ", Show(call->phone_number_id), " is owned by '",
                          *call->phone_number_owner_id, "', the call's owner");
    });
  }
  // Rule 7.
  if (expected_owner_id.empty()) {
    t.Skip([] { return std::string("no expected owner given"); });
  } else if (expected_owner_id != call->owner_id) {
    return t.Fail(v1::DENY_REASON_OWNER_MISMATCH,
                  absl::StrCat("call ", event.call_id(), " is not owned by the expected user"));
  } else {
    t.Pass(
        [&] { return absl::StrCat("the expected owner '", expected_owner_id, "' owns the call"); });
  }
  // Rule 8.
  OwnershipDecision allow;
  allow.decision = v1::DECISION_ALLOW;
  allow.reason = v1::DENY_REASON_UNSPECIFIED;
  allow.owner_id = call->owner_id;
  return allow;
}

absl::StatusOr<OwnershipDecision> CallEventAuthorizer::Authorize(
    const v1::CallEvent& event, absl::string_view expected_owner_id, absl::Time deadline) const {
  if (event.call_id().empty()) {
    return ApplyOwnershipRules(event, std::nullopt, expected_owner_id);
  }
  absl::StatusOr<std::optional<CallOwnership>> call = store_.FindCall(event.call_id(), deadline);
  if (!call.ok()) return call.status();
  return ApplyOwnershipRules(event, *call, expected_owner_id);
}

}  // namespace hookguard

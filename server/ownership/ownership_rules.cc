#include "server/ownership/ownership_rules.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace hookguard {
namespace {

OwnershipDecision Deny(v1::DenyReason reason, std::string detail) {
  OwnershipDecision decision;
  decision.decision = v1::DECISION_DENY;
  decision.reason = reason;
  decision.detail = std::move(detail);
  return decision;
}

bool SameOwner(const std::optional<std::string>& owner, const std::string& call_owner) {
  return owner.has_value() && *owner == call_owner;
}

}  // namespace

OwnershipDecision ApplyOwnershipRules(const v1::CallEvent& event,
                                      const std::optional<CallOwnership>& call,
                                      absl::string_view expected_owner_id) {
  // Rule 1.
  if (event.call_id().empty()) {
    return Deny(v1::DENY_REASON_MALFORMED_EVENT, "event has no call id");
  }
  // Rule 2.
  if (!call.has_value()) {
    return Deny(v1::DENY_REASON_CALL_NOT_FOUND, absl::StrCat("no call with id ", event.call_id()));
  }
  // Not a contract rule: a row without an owner can be trusted by no rule.
  if (call->owner_id.empty()) {
    return Deny(v1::DENY_REASON_OWNER_MISMATCH, "the call has no owner in the database");
  }
  // Rule 3: only when the event names an assistant.
  if (!event.assistant_id().empty() &&
      (!call->assistant_id.has_value() || *call->assistant_id != event.assistant_id())) {
    return Deny(v1::DENY_REASON_ASSISTANT_MISMATCH,
                absl::StrCat("assistant ", event.assistant_id(), " is not the assistant of call ",
                             event.call_id()));
  }
  // Rule 4: always; a NULL owner (dangling assistant) is a mismatch.
  if (!SameOwner(call->assistant_owner_id, call->owner_id)) {
    return Deny(v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH,
                absl::StrCat("the assistant of call ", event.call_id(),
                             " belongs to another user than the call, or to none"));
  }
  // Rule 5: only when the event names a phone number.
  if (!event.phone_number_id().empty() &&
      (!call->phone_number_id.has_value() || *call->phone_number_id != event.phone_number_id())) {
    return Deny(v1::DENY_REASON_PHONE_NUMBER_MISMATCH,
                absl::StrCat("phone number ", event.phone_number_id(),
                             " is not the phone number of call ", event.call_id()));
  }
  // Rule 6: whenever the call has a phone number.
  if (call->phone_number_id.has_value() &&
      !SameOwner(call->phone_number_owner_id, call->owner_id)) {
    return Deny(v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH,
                absl::StrCat("the phone number of call ", event.call_id(),
                             " belongs to another user than the call, or to none"));
  }
  // Rule 7.
  if (!expected_owner_id.empty() && expected_owner_id != call->owner_id) {
    return Deny(v1::DENY_REASON_OWNER_MISMATCH,
                absl::StrCat("call ", event.call_id(), " is not owned by the expected user"));
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

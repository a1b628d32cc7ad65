// The ownership rules of CONTRACT.md section 3, as a pure function, and the
// authorizer that feeds them from an OwnershipStore.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_RULES_H_
#define HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_RULES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hookguard/v1/hookguard.pb.h"
#include "server/ownership/ownership_store.h"

namespace hookguard {

// What the rules decided. `owner_id` is set only with DECISION_ALLOW (a deny
// never tells the caller who owns someone else's call). `detail` is short,
// may name the event's ids, and never holds body content or a secret.
struct OwnershipDecision {
  v1::Decision decision = v1::DECISION_DENY;
  v1::DenyReason reason = v1::DENY_REASON_UNSPECIFIED;
  std::string owner_id;
  std::string detail;
};

// A deny for `reason` with `detail` and no owner: the one way a deny is made.
OwnershipDecision DenyDecision(v1::DenyReason reason, std::string detail);

// One step of the rules as ApplyOwnershipRules took it, for operators
// (`hookguard explain`). `detail` may name ids (event ids, owner ids), never
// body content or a secret.
struct OwnershipStep {
  enum class Outcome { kPass, kFail, kSkipped };
  std::string name;  // one of OwnershipStepNames()
  Outcome outcome = Outcome::kSkipped;
  v1::DenyReason reason = v1::DENY_REASON_UNSPECIFIED;  // set with kFail only
  std::string detail;
};

// Every step ApplyOwnershipRules records, in order: "call_id" (rule 1),
// "call_lookup" (rule 2, and the row has an owner), "assistant" (3),
// "assistant_owner" (4), "phone_number" (5), "phone_number_owner" (6),
// "expected_owner" (7).
const std::vector<std::string>& OwnershipStepNames();

// "pass", "fail" or "skipped".
const char* OutcomeName(OwnershipStep::Outcome outcome);

// Applies rules 1 to 8 in order; the first that fails decides:
//   1 no event call id                      -> MALFORMED_EVENT
//   2 `call` is nullopt                     -> CALL_NOT_FOUND
//   3 event names an assistant != the call's (or the call has none)
//                                           -> ASSISTANT_MISMATCH
//   4 the call's assistant owner != the call owner, NULL included
//                                           -> ASSISTANT_OWNER_MISMATCH
//   5 event names a phone number != the call's (or the call has none)
//                                           -> PHONE_NUMBER_MISMATCH
//   6 the call has a phone number whose owner != the call owner, NULL
//     included                              -> PHONE_NUMBER_OWNER_MISMATCH
//   7 expected_owner_id set and != the call owner -> OWNER_MISMATCH
//   8 ALLOW with owner_id = the call owner.
// A row with an empty owner id cannot be trusted and is denied
// OWNER_MISMATCH (fail closed). Pure; thread-safe.
//
// When `trace` is not null it is cleared and receives one OwnershipStep per
// name of OwnershipStepNames(), in that order: the steps before the deciding
// one pass (or are skipped when they do not apply, e.g. the event names no
// assistant), the deciding one fails with the decision's reason, and the
// ones after it are skipped. On ALLOW none fails. The trace never changes
// the decision.
OwnershipDecision ApplyOwnershipRules(const v1::CallEvent& event,
                                      const std::optional<CallOwnership>& call,
                                      absl::string_view expected_owner_id,
                                      std::vector<OwnershipStep>* trace = nullptr);

// Looks the event's call up and applies the rules. Thread-safe if the store
// is (SociOwnershipStore is).
class CallEventAuthorizer {
 public:
  // `store` is not owned and must outlive the authorizer.
  explicit CallEventAuthorizer(OwnershipStore& store) : store_(store) {}

  // Rule 1 is checked before the store is touched. A store error
  // (UNAVAILABLE, DEADLINE_EXCEEDED, FAILED_PRECONDITION, ...) is returned as
  // the status, never turned into a decision: the caller must fail closed.
  absl::StatusOr<OwnershipDecision> Authorize(const v1::CallEvent& event,
                                              absl::string_view expected_owner_id,
                                              absl::Time deadline) const;

 private:
  OwnershipStore& store_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_RULES_H_

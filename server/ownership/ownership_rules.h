// The ownership rules (docs/explanation/ownership.md), as pure functions, and the
// authorizer that feeds them from an OwnershipStore through the resolution
// chain.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_RULES_H_
#define HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_RULES_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "hookguard/v1/hookguard.pb.h"
#include "server/ownership/ownership_store.h"
#include "server/ownership/resolve_policy.h"

namespace hookguard {

// What the rules decided. `owner_id` and `resolved_by` are set only with
// DECISION_ALLOW (a deny never tells the caller who owns someone else's
// call). `detail` is short, may name the event's ids, and never holds body
// content or a secret.
struct OwnershipDecision {
  v1::Decision decision = v1::DECISION_DENY;
  v1::DenyReason reason = v1::DENY_REASON_UNSPECIFIED;
  std::string owner_id;
  v1::OwnerSource resolved_by = v1::OWNER_SOURCE_UNSPECIFIED;
  // With resolved_by OWNER_SOURCE_SUBJECT: the subject's name.
  std::string resolved_subject;
  std::string detail;
};

// A deny for `reason` with `detail` and no owner: the one way a deny is made.
OwnershipDecision DenyDecision(v1::DenyReason reason, std::string detail);

// One step of the rules as ApplyOwnershipRules took it, for operators
// (`hookguard explain`). `detail` may name ids (event ids, owner ids), never
// body content or a secret.
struct OwnershipStep {
  // kMiss: a lookup of the resolution chain found no row, and the chain
  // went on to its next source.
  enum class Outcome { kPass, kFail, kSkipped, kMiss };
  std::string name;  // one of OwnershipStepNames() or ResolutionStepNames()
  Outcome outcome = Outcome::kSkipped;
  v1::DenyReason reason = v1::DENY_REASON_UNSPECIFIED;  // set with kFail only
  std::string detail;
};

// Every step ApplyOwnershipRules records, in order: "call_id" (rule 1),
// "call_lookup" (rule 2, and the row has an owner), "assistant" (3),
// "assistant_owner" (4), "phone_number" (5), "phone_number_owner" (6),
// "expected_owner" (7).
const std::vector<std::string>& OwnershipStepNames();

// The steps of an event decided without a call row (the resolution chain
// went past the call): "call_id", "call_lookup", "phone_number_lookup",
// "assistant_lookup", "owner_consistency", "expected_owner", and "resolve"
// (the chain's end when no source found an owner).
const std::vector<std::string>& ResolutionStepNames();

// "pass", "fail", "skipped" or "miss".
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
//   8 ALLOW with owner_id = the call owner, resolved_by OWNER_SOURCE_CALL.
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

// Decides an event for which the app has no call row, once the resolution
// chain found `owner` through `source` (OWNER_SOURCE_PHONE_NUMBER or
// OWNER_SOURCE_ASSISTANT). `other_owner` is the lookup of the other id the
// event names (its assistant when found by phone number, and the reverse):
// nullopt when the event names none, an empty optional inside when no row
// has it. `other_off` is non-empty when the other id's lookup is off
// (LookupOffDetail): it is then not compared, and the trace says why. The
// first that fails decides:
//   1 `owner` is empty (no owner to trust)   -> OWNER_MISMATCH
//   2 the other id is unknown                -> ASSISTANT_MISMATCH or
//                                               PHONE_NUMBER_MISMATCH
//   3 the other id's owner is not `owner`    -> OWNER_CONFLICT
//   4 expected_owner_id set and != owner     -> OWNER_MISMATCH
//   5 ALLOW with owner_id = owner, resolved_by = source.
// Pure; thread-safe. `trace`, when not null, receives the steps
// "owner_consistency" and "expected_owner" (appended, not cleared).
OwnershipDecision ApplyResolvedOwnerRules(
    const v1::CallEvent& event, v1::OwnerSource source, const std::string& owner,
    const std::optional<std::optional<std::string>>& other_owner, absl::string_view other_off,
    absl::string_view expected_owner_id, std::vector<OwnershipStep>* trace = nullptr);

// Finds the event's owner through the resolution chain and applies the
// rules. Thread-safe if the store is (SociOwnershipStore is).
//
// The chain: when the event names a call id, its row is looked up first,
// whatever the rule says; a row that exists decides, by
// ApplyOwnershipRules, exactly as without a chain. Otherwise the sources of
// the rule for the event's type (ResolvePolicy::RuleFor) are tried in order:
// the phone number's owner, the assistant's owner, each only when the event
// names that id. The first that knows its id gives the owner, checked by
// ApplyResolvedOwnerRules. When none does: CALL_NOT_FOUND if the event
// named any id a source could look up, else MALFORMED_EVENT (no call id).
// A source whose lookup is off (ResolvePolicy::IsOff) denies the event that
// reaches it naming its id: CALL_NOT_FOUND, with a detail naming the unset
// query; the sources after it are not tried.
// A rule whose only source is the call gives exactly the answers (and the
// trace) of ApplyOwnershipRules.
//
// The chain comes with each call (the overloads taking a policy: the server
// passes the one of the configuration snapshot that verified the request),
// or is the one in force, which SetPolicy replaces while requests run: each
// Authorize call uses the one in force when it starts. Thread-safe.
class CallEventAuthorizer {
 public:
  // `store` is not owned and must outlive the authorizer.
  explicit CallEventAuthorizer(OwnershipStore& store, ResolvePolicy policy = ResolvePolicy())
      : store_(store), policy_(std::make_shared<const ResolvePolicy>(std::move(policy))) {}

  // A store error (UNAVAILABLE, DEADLINE_EXCEEDED, FAILED_PRECONDITION, ...)
  // is returned as the status, never turned into a decision: the caller
  // must fail closed. No lookup runs for an event with no id to look up.
  // `trace`, when not null, is cleared and receives the steps of this run
  // (OwnershipStepNames() when the call row decided, or when the rule
  // allows only the call; ResolutionStepNames() otherwise).
  // Blocks until the store's answers are in (OwnershipStore::FindCallAsync).
  absl::StatusOr<OwnershipDecision> Authorize(const v1::CallEvent& event,
                                              absl::string_view expected_owner_id,
                                              absl::Time deadline,
                                              std::vector<OwnershipStep>* trace = nullptr) const;

  // The same, asynchronously: `done` receives what Authorize would return,
  // exactly once, on this thread or on the thread where the store answered
  // the last lookup (OwnershipStore::FindCallAsync). `event` and
  // `expected_owner_id` must stay valid until `done` runs. No trace.
  void AuthorizeAsync(const v1::CallEvent& event, absl::string_view expected_owner_id,
                      absl::Time deadline,
                      std::function<void(absl::StatusOr<OwnershipDecision>)> done) const;

  // The same under the chain `policy` instead of the one in force: for a
  // caller that holds one snapshot of its configuration per request (the
  // profiles that verified the request and the chain that decides it come
  // from one reload). `policy` must not be null.
  void AuthorizeAsync(const v1::CallEvent& event, absl::string_view expected_owner_id,
                      absl::Time deadline, std::shared_ptr<const ResolvePolicy> policy,
                      std::function<void(absl::StatusOr<OwnershipDecision>)> done) const;
  absl::StatusOr<OwnershipDecision> Authorize(const v1::CallEvent& event,
                                              absl::string_view expected_owner_id,
                                              absl::Time deadline,
                                              std::shared_ptr<const ResolvePolicy> policy,
                                              std::vector<OwnershipStep>* trace = nullptr) const;

  // The resolution chain in force.
  std::shared_ptr<const ResolvePolicy> policy() const {
    absl::ReaderMutexLock lock(&mu_);
    return policy_;
  }

  // Puts `policy` in force for the Authorize calls that start from now on.
  void SetPolicy(ResolvePolicy policy) {
    auto next = std::make_shared<const ResolvePolicy>(std::move(policy));
    absl::MutexLock lock(&mu_);
    policy_.swap(next);
  }

 private:
  struct Answers;
  struct AsyncRun;
  // The lookup a run of the chain needs next.
  enum class Need { kCall, kPhoneNumber, kAssistant };

  // One run of the chain over the lookups answered so far: the decision, a
  // lookup's error, or nullopt with `*need` set to the lookup it needs next.
  // Pure.
  static absl::StatusOr<std::optional<OwnershipDecision>> Decide(
      const v1::CallEvent& event, absl::string_view expected_owner_id, const ResolvePolicy& policy,
      const Answers& answers, Need* need, std::vector<OwnershipStep>* trace);
  // Runs the chain again with the answers so far; makes the next lookup or
  // calls `done`.
  static void Continue(std::unique_ptr<AsyncRun> run);

  OwnershipStore& store_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const ResolvePolicy> policy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_RULES_H_

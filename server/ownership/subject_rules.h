// Ownership by subjects (config profiles[].ownership.subjects): the rules as
// a pure function, and the authorizer that feeds them from an
// OwnershipStore.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_SUBJECT_RULES_H_
#define HOOKGUARD_SERVER_OWNERSHIP_SUBJECT_RULES_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/ownership/ownership_rules.h"
#include "server/ownership/ownership_store.h"

namespace hookguard {

// One configured subject as read from a signed body.
struct SubjectValue {
  std::string name;               // the subject's configured name
  std::string source;             // where it was read ("/account"), for details
  std::optional<std::string> id;  // nullopt: absent (or an empty string)
  bool required = true;
  int query = 0;  // the store's subject query (OwnershipStore::FindSubjectOwner)
};

// A lookup's answer per subject, in the order of the subjects: nullopt when
// not looked up (absent, or not reached), else what the query found
// (nullopt inside: no row).
using SubjectOwners = std::vector<std::optional<std::optional<std::string>>>;

// The step names of a subject decision, for `hookguard explain`: one
// "subject:<name>" per subject (pass: found; fail; skipped: absent or not
// reached), then "owner_consistency" and "expected_owner".
const char* SubjectStepPrefix();

// Applies the subject rules; the first that fails decides:
//   1 a required subject is absent              -> MALFORMED_EVENT
//   2 no subject is present                     -> MALFORMED_EVENT
//   3 a present subject's query found no row    -> SUBJECT_NOT_FOUND
//   4 its owner is empty (no owner to trust)    -> OWNER_MISMATCH
//   5 two present subjects have different owners -> OWNER_CONFLICT
//   6 expected_owner_id set and != the owner    -> OWNER_MISMATCH
//   7 ALLOW with owner_id, resolved_by OWNER_SOURCE_SUBJECT, resolved_subject
//     the first present subject's name.
// Rules 3 to 5 go through the present subjects in order. Returns nullopt
// with `*need` set to a subject's index when that subject's lookup is needed
// to decide (`owners[*need]` is not looked up yet). Pure; thread-safe.
// `trace`, when not null and a decision is returned, is cleared and
// receives the steps (SubjectStepPrefix).
std::optional<OwnershipDecision> ApplySubjectRules(absl::Span<const SubjectValue> subjects,
                                                   const SubjectOwners& owners,
                                                   absl::string_view expected_owner_id,
                                                   size_t* need,
                                                   std::vector<OwnershipStep>* trace = nullptr);

// Looks the subjects up, one after the other, each only when the rules need
// it (a subject found nowhere decides at once), and applies
// ApplySubjectRules. A store error (UNAVAILABLE, DEADLINE_EXCEEDED,
// FAILED_PRECONDITION, ...) is returned as the status, never a decision: the
// caller fails closed. Thread-safe if the store is.
class SubjectAuthorizer {
 public:
  // `store` is not owned and must outlive the authorizer.
  explicit SubjectAuthorizer(OwnershipStore& store) : store_(store) {}

  // Blocks until the store's answers are in. `trace` as ApplySubjectRules'.
  absl::StatusOr<OwnershipDecision> Authorize(std::vector<SubjectValue> subjects,
                                              absl::string_view expected_owner_id,
                                              absl::Time deadline,
                                              std::vector<OwnershipStep>* trace = nullptr) const;

  // `done` receives what Authorize returns, exactly once, on this thread or
  // on the thread where the store answered. `expected_owner_id` must stay
  // valid until then.
  void AuthorizeAsync(std::vector<SubjectValue> subjects, absl::string_view expected_owner_id,
                      absl::Time deadline,
                      std::function<void(absl::StatusOr<OwnershipDecision>)> done) const;

 private:
  struct Run;
  static void Continue(std::unique_ptr<Run> run);

  OwnershipStore& store_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_SUBJECT_RULES_H_

// Where ownership comes from: the application's own database, read-only.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_STORE_H_
#define HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_STORE_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hookguard {

// The one row the lookup query returns for a call (docs/explanation/ownership.md).
// Ids are text; provider ids are the platform's ids, owner ids the
// application's user ids.
struct CallOwnership {
  std::string owner_id;                              // the call's user
  std::optional<std::string> assistant_id;           // the call's assistant's provider id
  std::optional<std::string> assistant_owner_id;     // that assistant's user
  std::optional<std::string> phone_number_id;        // nullopt when the call has none
  std::optional<std::string> phone_number_owner_id;  // nullopt when the call has none
};

// What FindCall answers, and FindOwner.
using CallAnswer = absl::StatusOr<std::optional<CallOwnership>>;
using OwnerAnswer = absl::StatusOr<std::optional<std::string>>;

// What FindOwner looks up: the owner of a phone number or of an assistant,
// by the platform's id. Used when the app has no row for a call yet.
enum class OwnerLookup { kPhoneNumber, kAssistant };

// "phone number" or "assistant", for messages.
const char* OwnerLookupName(OwnerLookup what);

class OwnershipStore {
 public:
  virtual ~OwnershipStore() = default;

  // Looks up the call with provider id `call_id` using bound parameters only.
  // Returns nullopt when no call has that id. Errors: UNAVAILABLE when the
  // database cannot be reached or fails; DEADLINE_EXCEEDED when it did not
  // answer (or no connection was free) before `deadline`; FAILED_PRECONDITION
  // when the data breaks the contract (several rows for one call id, a NULL
  // call owner). Never a partial row.
  // Thread-safe.
  virtual absl::StatusOr<std::optional<CallOwnership>> FindCall(absl::string_view call_id,
                                                                absl::Time deadline) = 0;

  // Looks up the owner of the phone number or assistant with provider id
  // `id` (ownership.phone_number_query / assistant_query), bound parameters
  // only. nullopt when no row has that id. Errors as FindCall's: UNAVAILABLE,
  // DEADLINE_EXCEEDED, and FAILED_PRECONDITION for several rows or a NULL
  // owner. Thread-safe.
  virtual absl::StatusOr<std::optional<std::string>> FindOwner(OwnerLookup what,
                                                               absl::string_view id,
                                                               absl::Time deadline) = 0;

  // The asynchronous forms, which the service uses: `done` receives exactly
  // what the blocking form would return, exactly once, either on this thread
  // before the call returns or later on another thread (a store that
  // coalesces lookups answers from the thread that ran the batch). The id
  // must stay valid until `done` runs. The defaults call the blocking form
  // (`done` is taken by value for the overrides, which keep it).
  virtual void FindCallAsync(absl::string_view call_id, absl::Time deadline,
                             std::function<void(CallAnswer)> done) {  // NOLINT
    done(FindCall(call_id, deadline));
  }
  virtual void FindOwnerAsync(OwnerLookup what, absl::string_view id, absl::Time deadline,
                              std::function<void(OwnerAnswer)> done) {  // NOLINT
    done(FindOwner(what, id, deadline));
  }

  // Looks up the owner of a subject (config profiles[].ownership.subjects):
  // `query` indexes the subject queries the store was opened with
  // (SociStoreOptions::subject_queries), which bind :id. nullopt when no row
  // has that id. Errors as FindOwner's (and INVALID_ARGUMENT for a `query`
  // the store does not have). Thread-safe. Pure, as FindOwner: a decorator
  // that forgot it would not build, rather than fail every subject lookup.
  virtual absl::StatusOr<std::optional<std::string>> FindSubjectOwner(int query,
                                                                      absl::string_view id,
                                                                      absl::Time deadline) = 0;
  // The asynchronous form, as FindOwnerAsync.
  virtual void FindSubjectOwnerAsync(int query, absl::string_view id, absl::Time deadline,
                                     std::function<void(OwnerAnswer)> done) {  // NOLINT
    done(FindSubjectOwner(query, id, deadline));
  }

  // Checks that the database answers (used by the health service). OK or
  // UNAVAILABLE / DEADLINE_EXCEEDED. Thread-safe.
  virtual absl::Status Ping(absl::Time deadline) = 0;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_STORE_H_

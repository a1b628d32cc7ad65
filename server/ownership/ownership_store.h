// Where ownership comes from: the application's own database, read-only.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_STORE_H_
#define HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_STORE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hookguard {

// The one row the lookup query returns for a call (CONTRACT.md section 3).
// Ids are text; provider ids are the platform's ids, owner ids the
// application's user ids.
struct CallOwnership {
  std::string owner_id;                              // the call's user
  std::optional<std::string> assistant_id;           // the call's assistant's provider id
  std::optional<std::string> assistant_owner_id;     // that assistant's user
  std::optional<std::string> phone_number_id;        // nullopt when the call has none
  std::optional<std::string> phone_number_owner_id;  // nullopt when the call has none
};

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

  // Checks that the database answers (used by the health service). OK or
  // UNAVAILABLE / DEADLINE_EXCEEDED. Thread-safe.
  virtual absl::Status Ping(absl::Time deadline) = 0;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_STORE_H_

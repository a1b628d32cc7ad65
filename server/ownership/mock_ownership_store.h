// A gMock OwnershipStore for unit tests (never for integration tests: those
// run a real PostgreSQL or SQLite).
#ifndef HOOKGUARD_SERVER_OWNERSHIP_MOCK_OWNERSHIP_STORE_H_
#define HOOKGUARD_SERVER_OWNERSHIP_MOCK_OWNERSHIP_STORE_H_

#include <optional>

#include "gmock/gmock.h"
#include "server/ownership/ownership_store.h"

namespace hookguard {

class MockOwnershipStore : public OwnershipStore {
 public:
  MOCK_METHOD(absl::StatusOr<std::optional<CallOwnership>>, FindCall,
              (absl::string_view call_id, absl::Time deadline), (override));
  MOCK_METHOD(absl::StatusOr<std::optional<std::string>>, FindOwner,
              (OwnerLookup what, absl::string_view id, absl::Time deadline), (override));
  MOCK_METHOD(absl::StatusOr<std::optional<std::string>>, FindSubjectOwner,
              (int query, absl::string_view id, absl::Time deadline), (override));
  MOCK_METHOD(absl::Status, Ping, (absl::Time deadline), (override));
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_MOCK_OWNERSHIP_STORE_H_

// OwnershipStore over SOCI (PostgreSQL or SQLite), with a pool of prepared
// statements. Read-only: the service never writes to the database.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_SOCI_OWNERSHIP_STORE_H_
#define HOOKGUARD_SERVER_OWNERSHIP_SOCI_OWNERSHIP_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/ownership/ownership_queries.h"  // kDefaultCallQuery and the others
#include "server/ownership/ownership_store.h"

namespace hookguard {

struct SociStoreOptions {
  // What soci::session takes: "sqlite3://db=PATH" (other keys of SOCI's
  // SQLite backend allowed; the file is always opened read-only and never
  // created) or "postgresql://host=.. port=.. dbname=.. user=.." (libpq
  // keyword form; connect_timeout is added when absent). May hold a password:
  // it never appears in a message.
  std::string connection_string;

  // Connections in the pool, each with its own prepared statement. >= 1.
  int pool_size = 4;

  // Empty: kDefaultCallQuery. Otherwise must bind :call_id and return at most
  // one row of the five columns of docs/ownership.md, as text.
  std::string call_query;

  // Empty: kDefaultPhoneNumberQuery / kDefaultAssistantQuery. Otherwise must
  // bind :phone_number_id / :assistant_id and return at most one row of one
  // column, the owner's id, as text.
  std::string phone_number_query;
  std::string assistant_query;

  // Upper bound for one query (PostgreSQL statement_timeout) and for
  // connecting (libpq connect_timeout, rounded up to whole seconds, >= 2 s).
  absl::Duration query_timeout = absl::Seconds(5);
};

// Thread-safe. Each call takes one pooled connection for the time of one
// query; a caller waits for a free connection until its deadline at most.
// A connection that fails is dropped and reopened on its next use, so the
// store recovers by itself when the database comes back.
class SociOwnershipStore final : public OwnershipStore {
 public:
  // Fails (InvalidArgument) for a connection string that cannot be parsed, an
  // unknown backend, a pool size < 1, a custom query without its parameter
  // (:call_id, :phone_number_id, :assistant_id), a
  // missing or unreadable SQLite file (the message names the path), or a
  // query the reachable database rejects. Does NOT fail when PostgreSQL is
  // unreachable: connections are then opened on first use.
  static absl::StatusOr<std::unique_ptr<SociOwnershipStore>> Open(const SociStoreOptions& options);

  ~SociOwnershipStore() override;

  // More than one row for `call_id`: FAILED_PRECONDITION (the data or the
  // query breaks the contract; fail closed, and retrying will not help, so
  // it is not reported as UNAVAILABLE). A NULL call owner: FAILED_PRECONDITION.
  absl::StatusOr<std::optional<CallOwnership>> FindCall(absl::string_view call_id,
                                                        absl::Time deadline) override;

  // Several rows or a NULL owner: FAILED_PRECONDITION, as FindCall.
  absl::StatusOr<std::optional<std::string>> FindOwner(OwnerLookup what, absl::string_view id,
                                                       absl::Time deadline) override;

  // Runs SELECT 1 on a pooled connection.
  absl::Status Ping(absl::Time deadline) override;

  struct Backend;     // how to open a session (parsed connection string)
  struct Connection;  // one pooled session and its prepared statements
  // The three queries' text, with defaults filled in.
  struct Queries {
    std::string call, phone_number, assistant;
  };

 private:
  SociOwnershipStore(std::shared_ptr<const Backend> backend, Queries queries, int pool_size);

  // Runs `query` on a connected pooled connection before `deadline`: the one
  // place that acquires, checks the deadline on both sides, and turns a
  // driver exception into UNAVAILABLE (dropping the connection).
  template <typename QueryFn>
  auto RunOnConnection(absl::Time deadline, QueryFn query)
      -> decltype(query(std::declval<Connection&>()));

  // Takes a free connection, waiting until `deadline` at most.
  absl::StatusOr<Connection*> Acquire(absl::Time deadline);
  // Acquire(), then (re)connects the connection if it is not connected. On
  // a connection error the connection goes back to the pool and the error
  // (UNAVAILABLE, passwords scrubbed) is returned.
  absl::StatusOr<Connection*> AcquireConnected(absl::Time deadline);
  void Release(Connection* connection);

  const std::shared_ptr<const Backend> backend_;
  const Queries queries_;
  std::vector<std::unique_ptr<Connection>> connections_;  // fixed after Open

  absl::Mutex mu_;
  std::vector<Connection*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_SOCI_OWNERSHIP_STORE_H_

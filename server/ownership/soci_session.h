// How hookguard opens a SOCI session from its connection strings: the one
// place that parses "sqlite3://..." and "postgresql://...", forces SQLite
// read-only, bounds PostgreSQL's connect and statement time, and keeps the
// password out of every message. Used by SociOwnershipStore (the service)
// and by the operator tools (`hookguard audit-db`).
#ifndef HOOKGUARD_SERVER_OWNERSHIP_SOCI_SESSION_H_
#define HOOKGUARD_SERVER_OWNERSHIP_SOCI_SESSION_H_

#include <exception>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace soci {
class session;
class backend_factory;
}  // namespace soci

namespace hookguard {

// A parsed connection string. Immutable; safe to share between threads.
struct SociDatabase {
  enum class Kind { kSqlite, kPostgresql };

  // Parses "sqlite3://db=PATH" (other keys of SOCI's SQLite backend allowed;
  // `readonly=1` is added, so the file is never written nor created; the
  // file must exist and be readable: the message names the path) or
  // "postgresql://host=.. port=.. dbname=.. user=.." (libpq keyword form;
  // `connect_timeout` is added when absent: `query_timeout` rounded up to
  // whole seconds, at least 2). Errors are InvalidArgument and never hold
  // the password.
  static absl::StatusOr<SociDatabase> Parse(absl::string_view connection_string,
                                            absl::Duration query_timeout);

  // Opens a new session. On PostgreSQL it runs `SET statement_timeout` to
  // `query_timeout`, so a slow query is an error, not a hang. Errors are
  // UNAVAILABLE: "cannot connect to <Where()>: <driver message, scrubbed>".
  absl::StatusOr<std::unique_ptr<soci::session>> Open() const;

  // SQLite: how long a statement of `session` waits for another
  // connection's lock (the app's own write transaction) before it fails
  // with "database is locked" (sqlite3_busy_timeout; at least 1 ms). Open()
  // sets `query_timeout`; a lookup narrows it to what is left of its
  // deadline. PostgreSQL: nothing to do (statement_timeout bounds lock waits).
  void SetLockWait(soci::session& session, absl::Duration wait) const;

  // Whether `error`, thrown by a statement, says the wait of SetLockWait ran
  // out (SQLite's "database is locked").
  bool IsLockTimeout(const std::exception& error) const;

  // "SQLite database PATH" or "PostgreSQL": for messages.
  std::string Where() const;

  // A driver message on one line, with the password replaced by "***"
  // should a driver echo it.
  std::string Scrub(absl::string_view message) const;

  const soci::backend_factory& factory() const;

  Kind kind = Kind::kSqlite;
  std::string params;       // what the SOCI factory takes (no "backend://")
  std::string password;     // scrubbed from every message; may be empty
  std::string sqlite_path;  // kSqlite only
  absl::Duration query_timeout = absl::Seconds(5);
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_SOCI_SESSION_H_

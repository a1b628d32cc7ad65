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

// libpq settings added to a postgresql:// connection string, each only when
// the string does not set it. client_encoding UTF8: ids arrive as UTF-8 and
// are converted to the database's encoding (an id it cannot hold is then an
// error PostgreSQL names, answered as not found). And a connection to a host that vanished
// (blackholed, powered off) is found dead within about 25 s when idle
// (keepalive probes after 10 s idle, every 5 s, 3 lost), and within 10 s
// when sent data goes unacknowledged (tcp_user_timeout, milliseconds).
// Lookups themselves are bounded by their deadline (Interrupt).
inline constexpr const char* kPostgresqlKeepalives[][2] = {
    {"client_encoding", "UTF8"},  {"keepalives", "1"},       {"keepalives_idle", "10"},
    {"keepalives_interval", "5"}, {"keepalives_count", "3"}, {"tcp_user_timeout", "10000"},
};

// A parsed connection string. Immutable; safe to share between threads.
struct SociDatabase {
  enum class Kind { kSqlite, kPostgresql };

  // Parses "sqlite3://db=PATH" (other keys of SOCI's SQLite backend allowed;
  // `readonly=1` is added, so the file is never written nor created; the
  // file must exist and be readable: the message names the path) or
  // "postgresql://host=.. port=.. dbname=.. user=.." (libpq keyword form;
  // `connect_timeout` is added when absent: `query_timeout` rounded up to
  // whole seconds, at least 2; so are TCP keepalives and a TCP user timeout,
  // each only when the string does not set it: kPostgresqlKeepalives). Errors are InvalidArgument
  // and never hold the password.
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

  // What an error thrown by a lookup statement says about its ids.
  enum class ErrorKind {
    // SQLite's wait for another connection's lock ran out (IsLockTimeout).
    kLockTimeout,
    // PostgreSQL refused a bound id while binding it (SQLSTATE 22P02
    // invalid_text_representation, 22021 character_not_in_repertoire or
    // 22P05 untranslatable_character, with the context "... parameter $n"):
    // the parameter's type or the database's encoding cannot hold that id,
    // so no row has it. The session stays usable.
    kIdNotHoldable,
    // An error one id may cause and another not (a PostgreSQL data
    // exception, SQLSTATE class 22; on SQLite any error but a lock's): the
    // session stays usable, and each id of a batch is worth asking alone.
    kData,
    // Anything else (the connection, a timeout, the query itself).
    kOther,
  };
  ErrorKind Classify(const std::exception& error) const;

  // Ends what `session` is doing now from another thread, so that the
  // thread waiting in the driver returns at once with an error: on
  // PostgreSQL the socket is shut down (libpq's PQcancel has no timeout of
  // its own, so it cannot reach a hung or unreachable server either; the
  // server's statement_timeout ends the query there), on SQLite
  // sqlite3_interrupt. The session must then be dropped. The caller makes
  // sure `session` stays open during the call.
  void Interrupt(soci::session& session) const;

  // PostgreSQL: whether `session`'s connection is still open and outside a
  // transaction (a failed statement left it usable). SQLite: true.
  bool Usable(soci::session& session) const;

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

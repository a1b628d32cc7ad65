#include "server/ownership/soci_ownership_store.h"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <exception>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace hookguard {

const char kDefaultCallQuery[] =
    "SELECT CAST(c.user_id AS TEXT),"
    " a.vapi_assistant_id,"
    " CAST(a.user_id AS TEXT),"
    " CASE WHEN c.phone_number_id IS NULL THEN NULL"
    " ELSE COALESCE(p.vapi_phone_number_id, '') END,"
    " CAST(p.user_id AS TEXT)"
    " FROM api_interviewcall c"
    " LEFT JOIN api_assistant a ON a.id = c.assistant_id"
    " LEFT JOIN api_phonenumber p ON p.id = c.phone_number_id"
    " WHERE c.vapi_call_id = :call_id";

// How to open a session; immutable after Open, shared by all connections.
struct SociOwnershipStore::Backend {
  enum class Kind { kSqlite, kPostgresql };
  Kind kind = Kind::kSqlite;
  std::string params;       // what the SOCI factory takes (no "backend://")
  std::string password;     // scrubbed from every message; may be empty
  std::string sqlite_path;  // kSqlite only
  absl::Duration query_timeout;

  const soci::backend_factory& factory() const {
    if (kind == Kind::kSqlite) return *soci::factory_sqlite3();
    return *soci::factory_postgresql();
  }

  // A driver message, with the password removed should a driver echo it.
  std::string Scrub(absl::string_view message) const {
    std::string text(message);
    if (!password.empty()) text = absl::StrReplaceAll(text, {{password, "***"}});
    // Driver messages end with newlines; keep one line.
    absl::StrReplaceAll({{"\n", " "}}, &text);
    return std::string(absl::StripAsciiWhitespace(text));
  }
};

// One pooled session and its prepared statement. Used by one thread at a
// time (whoever Acquire()d it). `session == nullptr` means "not connected":
// the next use reconnects and re-prepares.
struct SociOwnershipStore::Connection {
  std::unique_ptr<soci::session> session;
  std::unique_ptr<soci::statement> statement;

  // Bound by reference into `statement`.
  std::string call_id;
  std::string owner_id, assistant_id, assistant_owner_id, phone_number_id, phone_number_owner_id;
  soci::indicator owner_ind = soci::i_null, assistant_ind = soci::i_null,
                  assistant_owner_ind = soci::i_null, phone_ind = soci::i_null,
                  phone_owner_ind = soci::i_null;

  void Drop() {
    statement.reset();
    session.reset();
  }
};

namespace {

enum class ConnectStage { kConnect, kPrepare };

struct ConnectError {
  ConnectStage stage;
  absl::Status status;
};

std::optional<std::string> Optional(const std::string& value, soci::indicator ind) {
  if (ind == soci::i_null) return std::nullopt;
  return value;
}

bool FileIsReadable(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), R_OK) == 0;
}

// Reads the value of `key=` in SOCI's SQLite parameters ("db=/x timeout=2";
// values may be quoted with ' or "). A string without '=' is the path itself.
std::optional<std::string> SqliteParam(absl::string_view params, absl::string_view key) {
  if (!absl::StrContains(params, '=')) {
    if (key == "db") return std::string(absl::StripAsciiWhitespace(params));
    return std::nullopt;
  }
  size_t i = 0;
  while (i < params.size()) {
    while (i < params.size() && params[i] == ' ') ++i;
    size_t eq = params.find('=', i);
    if (eq == absl::string_view::npos) return std::nullopt;
    absl::string_view name = absl::StripAsciiWhitespace(params.substr(i, eq - i));
    size_t start = eq + 1;
    std::string value;
    if (start < params.size() && (params[start] == '\'' || params[start] == '"')) {
      size_t end = params.find(params[start], start + 1);
      if (end == absl::string_view::npos) return std::nullopt;
      value = std::string(params.substr(start + 1, end - start - 1));
      i = end + 1;
    } else {
      size_t end = params.find(' ', start);
      if (end == absl::string_view::npos) end = params.size();
      value = std::string(params.substr(start, end - start));
      i = end;
    }
    if (name == key) return value;
  }
  return std::nullopt;
}

absl::StatusOr<std::shared_ptr<SociOwnershipStore::Backend>> ParseConnectionString(
    const SociStoreOptions& options) {
  auto backend = std::make_shared<SociOwnershipStore::Backend>();
  backend->query_timeout = options.query_timeout;
  const std::string& full = options.connection_string;
  const size_t scheme_end = full.find("://");
  if (scheme_end == std::string::npos) {
    return absl::InvalidArgumentError(
        "database connection string must start with sqlite3:// or postgresql://");
  }
  const std::string scheme = full.substr(0, scheme_end);
  const std::string params = full.substr(scheme_end + 3);
  if (scheme == "sqlite3") {
    backend->kind = SociOwnershipStore::Backend::Kind::kSqlite;
    std::optional<std::string> path = SqliteParam(params, "db");
    if (!path.has_value() || path->empty()) {
      return absl::InvalidArgumentError("sqlite3:// connection string has no db=PATH");
    }
    if (*path == ":memory:" || absl::StartsWith(*path, "file:")) {
      return absl::InvalidArgumentError("sqlite3:// needs the path of an existing database file");
    }
    if (!FileIsReadable(*path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("SQLite database file does not exist or is not readable: ", *path));
    }
    backend->sqlite_path = *path;
    // Read-only: SQLITE_OPEN_READONLY, which also never creates a file.
    backend->params = absl::StrContains(params, '=') ? params : absl::StrCat("db=", params);
    if (!SqliteParam(backend->params, "readonly").has_value()) {
      absl::StrAppend(&backend->params, " readonly=1");
    }
    return backend;
  }
  if (scheme == "postgresql") {
    backend->kind = SociOwnershipStore::Backend::Kind::kPostgresql;
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(params.c_str(), &error);
    if (parsed == nullptr) {
      // libpq's message names the bad syntax, not the values.
      std::string why = error != nullptr ? error : "out of memory";
      PQfreemem(error);
      return absl::InvalidArgumentError(
          absl::StrCat("cannot parse the postgresql:// connection string (libpq keyword form "
                       "host=.. port=.. dbname=.. user=..): ",
                       absl::StripAsciiWhitespace(why)));
    }
    bool has_connect_timeout = false;
    for (PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
      if (option->val == nullptr) continue;
      if (std::string(option->keyword) == "password") backend->password = option->val;
      if (std::string(option->keyword) == "connect_timeout") has_connect_timeout = true;
    }
    PQconninfoFree(parsed);
    backend->params = params;
    if (!has_connect_timeout) {
      // libpq's unit is whole seconds, and it treats 1 as 2.
      const int seconds = std::max<int>(
          2, static_cast<int>(std::ceil(absl::ToDoubleSeconds(options.query_timeout))));
      absl::StrAppend(&backend->params, " connect_timeout=", seconds);
    }
    return backend;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown database backend '", scheme, "': use sqlite3:// or postgresql://"));
}

// Opens the session and prepares the statement of `connection`. On failure
// the connection is left dropped.
std::optional<ConnectError> Connect(const SociOwnershipStore::Backend& backend,
                                    const std::string& query,
                                    SociOwnershipStore::Connection& connection) {
  connection.Drop();
  try {
    auto session = std::make_unique<soci::session>();
    session->open(backend.factory(), backend.params);
    if (backend.kind == SociOwnershipStore::Backend::Kind::kPostgresql) {
      const int64_t ms = absl::ToInt64Milliseconds(backend.query_timeout);
      *session << absl::StrCat("SET statement_timeout = ", ms > 0 ? ms : 1);
    }
    connection.session = std::move(session);
  } catch (const std::exception& e) {
    connection.Drop();
    const std::string where = backend.kind == SociOwnershipStore::Backend::Kind::kSqlite
                                  ? absl::StrCat("SQLite database ", backend.sqlite_path)
                                  : std::string("PostgreSQL");
    return ConnectError{ConnectStage::kConnect,
                        absl::UnavailableError(absl::StrCat("cannot connect to ", where, ": ",
                                                            backend.Scrub(e.what())))};
  }
  try {
    connection.statement = std::make_unique<soci::statement>(
        (connection.session->prepare << query, soci::use(connection.call_id, "call_id"),
         soci::into(connection.owner_id, connection.owner_ind),
         soci::into(connection.assistant_id, connection.assistant_ind),
         soci::into(connection.assistant_owner_id, connection.assistant_owner_ind),
         soci::into(connection.phone_number_id, connection.phone_ind),
         soci::into(connection.phone_number_owner_id, connection.phone_owner_ind)));
  } catch (const std::exception& e) {
    connection.Drop();
    return ConnectError{ConnectStage::kPrepare,
                        absl::UnavailableError(absl::StrCat("cannot prepare the ownership query: ",
                                                            backend.Scrub(e.what())))};
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SociOwnershipStore>> SociOwnershipStore::Open(
    const SociStoreOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError("ownership pool size must be at least 1");
  }
  if (options.query_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ownership query timeout must be positive");
  }
  std::string query = options.call_query.empty() ? kDefaultCallQuery : options.call_query;
  if (!absl::StrContains(query, ":call_id")) {
    return absl::InvalidArgumentError("ownership.call_query must bind :call_id");
  }
  absl::StatusOr<std::shared_ptr<Backend>> backend = ParseConnectionString(options);
  if (!backend.ok()) return backend.status();

  std::unique_ptr<SociOwnershipStore> store(
      new SociOwnershipStore(*std::move(backend), std::move(query), options.pool_size));
  // Connect one connection now, so that a bad file or query fails at start.
  // An unreachable PostgreSQL does not: the store connects on first use.
  std::optional<ConnectError> error =
      Connect(*store->backend_, store->call_query_, *store->connections_.front());
  if (error.has_value()) {
    const bool is_sqlite = store->backend_->kind == Backend::Kind::kSqlite;
    if (error->stage == ConnectStage::kPrepare || is_sqlite) {
      return absl::InvalidArgumentError(error->status.message());
    }
  }
  return store;
}

SociOwnershipStore::SociOwnershipStore(std::shared_ptr<const Backend> backend,
                                       std::string call_query, int pool_size)
    : backend_(std::move(backend)), call_query_(std::move(call_query)) {
  connections_.reserve(pool_size);
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < pool_size; ++i) {
    connections_.push_back(std::make_unique<Connection>());
    free_.push_back(connections_.back().get());
  }
}

SociOwnershipStore::~SociOwnershipStore() = default;

absl::StatusOr<SociOwnershipStore::Connection*> SociOwnershipStore::Acquire(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  const bool has_free = mu_.AwaitWithDeadline(
      absl::Condition(
          +[](std::vector<Connection*>* free) { return !free->empty(); }, &free_),
      deadline);
  if (!has_free) {
    return absl::DeadlineExceededError("no ownership database connection free before the deadline");
  }
  Connection* connection = free_.back();
  free_.pop_back();
  return connection;
}

void SociOwnershipStore::Release(Connection* connection) {
  absl::MutexLock lock(&mu_);
  free_.push_back(connection);
}

namespace {

// Returns the connection to the pool whatever path leaves the scope.
template <typename ReleaseFn>
class ReleaseOnExit {
 public:
  ReleaseOnExit(ReleaseFn release) : release_(std::move(release)) {}
  ~ReleaseOnExit() { release_(); }

 private:
  ReleaseFn release_;
};

}  // namespace

absl::StatusOr<std::optional<CallOwnership>> SociOwnershipStore::FindCall(absl::string_view call_id,
                                                                          absl::Time deadline) {
  absl::StatusOr<Connection*> acquired = Acquire(deadline);
  if (!acquired.ok()) return acquired.status();
  Connection& connection = **acquired;
  ReleaseOnExit release([this, &connection] { Release(&connection); });

  if (connection.session == nullptr) {
    std::optional<ConnectError> error = Connect(*backend_, call_query_, connection);
    if (error.has_value()) return error->status;
  }
  if (absl::Now() > deadline) {
    return absl::DeadlineExceededError("ownership lookup deadline passed");
  }
  std::optional<CallOwnership> found;
  try {
    connection.call_id.assign(call_id.data(), call_id.size());
    if (connection.statement->execute(true)) {
      if (connection.owner_ind == soci::i_null) {
        connection.Drop();  // also ends the statement mid-result
        return absl::FailedPreconditionError("the ownership query returned a NULL call owner");
      }
      CallOwnership row;
      row.owner_id = connection.owner_id;
      row.assistant_id = Optional(connection.assistant_id, connection.assistant_ind);
      row.assistant_owner_id =
          Optional(connection.assistant_owner_id, connection.assistant_owner_ind);
      row.phone_number_id = Optional(connection.phone_number_id, connection.phone_ind);
      row.phone_number_owner_id =
          Optional(connection.phone_number_owner_id, connection.phone_owner_ind);
      if (connection.statement->fetch()) {
        connection.Drop();
        return absl::FailedPreconditionError(
            "the ownership query returned more than one row for one call id");
      }
      found = std::move(row);
    }
  } catch (const std::exception& e) {
    connection.Drop();  // reconnect on next use
    return absl::UnavailableError(
        absl::StrCat("ownership query failed: ", backend_->Scrub(e.what())));
  }
  if (absl::Now() > deadline) {
    return absl::DeadlineExceededError("ownership database answered after the deadline");
  }
  return found;
}

absl::Status SociOwnershipStore::Ping(absl::Time deadline) {
  absl::StatusOr<Connection*> acquired = Acquire(deadline);
  if (!acquired.ok()) return acquired.status();
  Connection& connection = **acquired;
  ReleaseOnExit release([this, &connection] { Release(&connection); });

  if (connection.session == nullptr) {
    std::optional<ConnectError> error = Connect(*backend_, call_query_, connection);
    if (error.has_value()) return error->status;
  }
  try {
    int one = 0;
    *connection.session << "SELECT 1", soci::into(one);
    if (one != 1) {
      connection.Drop();
      return absl::UnavailableError("ownership database ping returned an unexpected value");
    }
  } catch (const std::exception& e) {
    connection.Drop();
    return absl::UnavailableError(
        absl::StrCat("ownership database ping failed: ", backend_->Scrub(e.what())));
  }
  if (absl::Now() > deadline) {
    return absl::DeadlineExceededError("ownership database answered after the deadline");
  }
  return absl::OkStatus();
}

}  // namespace hookguard

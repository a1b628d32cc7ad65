#include "server/ownership/soci_ownership_store.h"

#include <soci/soci.h>

#include <exception>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/ownership/soci_session.h"

namespace hookguard {

// How to open a session (the shared SociDatabase); immutable after Open,
// shared by all connections.
struct SociOwnershipStore::Backend : SociDatabase {
  explicit Backend(SociDatabase database) : SociDatabase(std::move(database)) {}
};

// A prepared owner lookup (phone number or assistant) and its bound values.
struct OwnerStatement {
  std::unique_ptr<soci::statement> statement;
  std::string id;
  std::string owner;
  soci::indicator owner_ind = soci::i_null;
};

// One pooled session and its prepared statements. Used by one thread at a
// time (whoever Acquire()d it). `session == nullptr` means "not connected":
// the next use reconnects and re-prepares.
struct SociOwnershipStore::Connection {
  std::unique_ptr<soci::session> session;
  std::unique_ptr<soci::statement> statement;
  OwnerStatement phone_number, assistant;

  // Bound by reference into `statement`.
  std::string call_id;
  std::string owner_id, assistant_id, assistant_owner_id, phone_number_id, phone_number_owner_id;
  soci::indicator owner_ind = soci::i_null, assistant_ind = soci::i_null,
                  assistant_owner_ind = soci::i_null, phone_ind = soci::i_null,
                  phone_owner_ind = soci::i_null;

  OwnerStatement& owner_statement(OwnerLookup what) {
    return what == OwnerLookup::kPhoneNumber ? phone_number : assistant;
  }

  void Drop() {
    statement.reset();
    phone_number.statement.reset();
    assistant.statement.reset();
    session.reset();
  }
};

namespace {

enum class ConnectStage { kConnect, kPrepare };

constexpr char kLockedUntilDeadline[] =
    "ownership database stayed locked by another connection's write until the deadline";

struct ConnectError {
  ConnectStage stage;
  absl::Status status;
};

std::optional<std::string> Optional(const std::string& value, soci::indicator ind) {
  if (ind == soci::i_null) return std::nullopt;
  return value;
}

void PrepareOwner(soci::session& session, const std::string& query, const char* parameter,
                  OwnerStatement& owner) {
  owner.statement =
      std::make_unique<soci::statement>((session.prepare << query, soci::use(owner.id, parameter),
                                         soci::into(owner.owner, owner.owner_ind)));
}

// Opens the session and prepares the statements of `connection`; preparing
// waits for a writer's lock (SQLite) until `deadline` at most. On failure
// the connection is left dropped.
std::optional<ConnectError> Connect(const SociOwnershipStore::Backend& backend,
                                    const SociOwnershipStore::Queries& queries, absl::Time deadline,
                                    SociOwnershipStore::Connection& connection) {
  connection.Drop();
  absl::StatusOr<std::unique_ptr<soci::session>> session = backend.Open();
  if (!session.ok()) return ConnectError{ConnectStage::kConnect, session.status()};
  connection.session = *std::move(session);
  backend.SetLockWait(*connection.session, deadline - absl::Now());
  try {
    PrepareOwner(*connection.session, queries.phone_number, "phone_number_id",
                 connection.phone_number);
    PrepareOwner(*connection.session, queries.assistant, "assistant_id", connection.assistant);
    connection.statement = std::make_unique<soci::statement>(
        (connection.session->prepare << queries.call, soci::use(connection.call_id, "call_id"),
         soci::into(connection.owner_id, connection.owner_ind),
         soci::into(connection.assistant_id, connection.assistant_ind),
         soci::into(connection.assistant_owner_id, connection.assistant_owner_ind),
         soci::into(connection.phone_number_id, connection.phone_ind),
         soci::into(connection.phone_number_owner_id, connection.phone_owner_ind)));
  } catch (const std::exception& e) {
    connection.Drop();
    if (backend.IsLockTimeout(e)) {
      return ConnectError{ConnectStage::kConnect,
                          absl::DeadlineExceededError(kLockedUntilDeadline)};
    }
    return ConnectError{ConnectStage::kPrepare,
                        absl::UnavailableError(absl::StrCat(
                            "cannot prepare the ownership queries: ", backend.Scrub(e.what())))};
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
  Queries queries;
  const struct {
    const std::string& configured;
    const char* fallback;
    const char* name;
    const char* parameter;
    std::string* out;
  } configured[] = {
      {options.call_query, kDefaultCallQuery, "call_query", ":call_id", &queries.call},
      {options.phone_number_query, kDefaultPhoneNumberQuery, "phone_number_query",
       ":phone_number_id", &queries.phone_number},
      {options.assistant_query, kDefaultAssistantQuery, "assistant_query", ":assistant_id",
       &queries.assistant},
  };
  for (const auto& q : configured) {
    *q.out = q.configured.empty() ? q.fallback : q.configured;
    if (!absl::StrContains(*q.out, q.parameter)) {
      return absl::InvalidArgumentError(
          absl::StrCat("ownership.", q.name, " must bind ", q.parameter));
    }
  }
  absl::StatusOr<SociDatabase> database =
      SociDatabase::Parse(options.connection_string, options.query_timeout);
  if (!database.ok()) return database.status();

  std::unique_ptr<SociOwnershipStore> store(
      new SociOwnershipStore(std::make_shared<const Backend>(*std::move(database)),
                             std::move(queries), options.pool_size));
  // Connect one connection now, so that a bad file or query fails at start.
  // An unreachable PostgreSQL does not: the store connects on first use.
  std::optional<ConnectError> error =
      Connect(*store->backend_, store->queries_, absl::Now() + options.query_timeout,
              *store->connections_.front());
  if (error.has_value()) {
    const bool is_sqlite = store->backend_->kind == SociDatabase::Kind::kSqlite;
    if (error->stage == ConnectStage::kPrepare || is_sqlite) {
      return absl::InvalidArgumentError(error->status.message());
    }
  }
  return store;
}

SociOwnershipStore::SociOwnershipStore(std::shared_ptr<const Backend> backend, Queries queries,
                                       int pool_size)
    : backend_(std::move(backend)), queries_(std::move(queries)) {
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

absl::StatusOr<SociOwnershipStore::Connection*> SociOwnershipStore::AcquireConnected(
    absl::Time deadline) {
  absl::StatusOr<Connection*> acquired = Acquire(deadline);
  if (!acquired.ok()) return acquired.status();
  Connection* connection = *acquired;
  if (connection->session == nullptr) {
    std::optional<ConnectError> error = Connect(*backend_, queries_, deadline, *connection);
    if (error.has_value()) {
      Release(connection);
      return error->status;
    }
  }
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

template <typename QueryFn>
auto SociOwnershipStore::RunOnConnection(absl::Time deadline, QueryFn query)
    -> decltype(query(std::declval<Connection&>())) {
  absl::StatusOr<Connection*> acquired = AcquireConnected(deadline);
  if (!acquired.ok()) return acquired.status();
  Connection& connection = **acquired;
  ReleaseOnExit release([this, &connection] { Release(&connection); });
  if (absl::Now() > deadline) {
    return absl::DeadlineExceededError("ownership lookup deadline passed");
  }
  decltype(query(connection)) found = absl::UnknownError("ownership query did not run");
  try {
    // While the app holds a write lock (SQLite), wait for it, but not past
    // the deadline.
    backend_->SetLockWait(*connection.session, deadline - absl::Now());
    found = query(connection);
  } catch (const std::exception& e) {
    connection.Drop();  // reconnect on next use
    if (backend_->IsLockTimeout(e)) return absl::DeadlineExceededError(kLockedUntilDeadline);
    return absl::UnavailableError(
        absl::StrCat("ownership query failed: ", backend_->Scrub(e.what())));
  }
  if (!found.ok()) {
    connection.Drop();  // also ends a statement left mid-result
    return found;
  }
  if (absl::Now() > deadline) {
    return absl::DeadlineExceededError("ownership database answered after the deadline");
  }
  return found;
}

absl::StatusOr<std::optional<CallOwnership>> SociOwnershipStore::FindCall(absl::string_view call_id,
                                                                          absl::Time deadline) {
  return RunOnConnection(
      deadline, [&](Connection& connection) -> absl::StatusOr<std::optional<CallOwnership>> {
        connection.call_id.assign(call_id.data(), call_id.size());
        if (!connection.statement->execute(true)) return std::optional<CallOwnership>();
        if (connection.owner_ind == soci::i_null) {
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
          return absl::FailedPreconditionError(
              "the ownership query returned more than one row for one call id");
        }
        return std::optional<CallOwnership>(std::move(row));
      });
}

absl::StatusOr<std::optional<std::string>> SociOwnershipStore::FindOwner(OwnerLookup what,
                                                                         absl::string_view id,
                                                                         absl::Time deadline) {
  return RunOnConnection(
      deadline, [&](Connection& connection) -> absl::StatusOr<std::optional<std::string>> {
        OwnerStatement& lookup = connection.owner_statement(what);
        lookup.id.assign(id.data(), id.size());
        if (!lookup.statement->execute(true)) return std::optional<std::string>();
        if (lookup.owner_ind == soci::i_null) {
          return absl::FailedPreconditionError(
              absl::StrCat("the ", OwnerLookupName(what), " query returned a NULL owner"));
        }
        std::string owner = lookup.owner;
        if (lookup.statement->fetch()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the ", OwnerLookupName(what), " query returned more than one row for one id"));
        }
        return std::optional<std::string>(std::move(owner));
      });
}

absl::Status SociOwnershipStore::Ping(absl::Time deadline) {
  absl::StatusOr<Connection*> acquired = AcquireConnected(deadline);
  if (!acquired.ok()) return acquired.status();
  Connection& connection = **acquired;
  ReleaseOnExit release([this, &connection] { Release(&connection); });
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

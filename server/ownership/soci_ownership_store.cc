#include "server/ownership/soci_ownership_store.h"

#include <soci/soci.h>

#include <exception>
#include <stdexcept>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/ownership/soci_session.h"

namespace hookguard {

namespace {

// Columns a lookup's row has (after the slot, in a batch).
constexpr int kColumns[] = {5, 1, 1};

// Coalescer kinds: the three LookupQuery values, then the health ping.
constexpr int kPingKind = 3;

}  // namespace

// How to open a session (the shared SociDatabase); immutable after Open,
// shared by all connections.
struct SociOwnershipStore::Backend : SociDatabase {
  explicit Backend(SociDatabase database) : SociDatabase(std::move(database)) {}
};

// One pooled session and its prepared statements. Used by one thread at a
// time (whoever the coalescer gave it to). `session == nullptr` means "not
// connected": the next use reconnects and re-prepares.
struct SociOwnershipStore::Connection {
  std::unique_ptr<soci::session> session;
  // statements[query][n - 1]: the statement for n ids, prepared on first use.
  std::vector<std::unique_ptr<soci::statement>> statements[3];

  // Bound by reference into the statements.
  std::string ids[kMaxBatch];
  int slot = 0;
  soci::indicator slot_ind = soci::i_null;
  std::string columns[5];
  soci::indicator indicators[5] = {soci::i_null, soci::i_null, soci::i_null, soci::i_null,
                                   soci::i_null};

  void Drop() {
    for (auto& by_size : statements) by_size.clear();
    session.reset();
  }
};

namespace {

enum class ConnectStage { kConnect, kPrepare };

constexpr char kLockedUntilDeadline[] =
    "ownership database stayed locked by another connection's write until the deadline";

constexpr const char* kParameters[] = {"call_id", "phone_number_id", "assistant_id"};

struct ConnectError {
  ConnectStage stage;
  absl::Status status;
};

// The statement of `query` for `n` ids on `connection`, prepared on first
// use. Throws what SOCI throws.
soci::statement& Statement(const SociOwnershipStore::Backend& backend,
                           const SociOwnershipStore::Queries& queries,
                           SociOwnershipStore::Connection& connection, int query, int n) {
  auto& by_size = connection.statements[query];
  if (static_cast<int>(by_size.size()) < n) by_size.resize(n);
  std::unique_ptr<soci::statement>& statement = by_size[n - 1];
  if (statement != nullptr) return *statement;
  const bool batched = queries.max_batch[query] > 1;
  auto made = std::make_unique<soci::statement>(*connection.session);
  if (batched) {
    made->exchange(soci::into(connection.slot, connection.slot_ind));
    for (int i = 0; i < n; ++i) {
      made->exchange(soci::use(connection.ids[i], absl::StrCat("id", i)));
    }
  } else {
    made->exchange(soci::use(connection.ids[0], kParameters[query]));
  }
  for (int c = 0; c < kColumns[query]; ++c) {
    made->exchange(soci::into(connection.columns[c], connection.indicators[c]));
  }
  made->alloc();
  if (!batched) {
    made->prepare(queries.text[query]);
  } else if (queries.configured[query]) {
    // Open checked that the configured text has a batched form.
    made->prepare(*ConfiguredBatchQuery(queries.text[query], kParameters[query], n));
  } else {
    made->prepare(DefaultBatchQuery(static_cast<LookupQuery>(query), n,
                                    backend.kind == SociDatabase::Kind::kPostgresql));
  }
  made->define_and_bind();
  statement = std::move(made);
  return *statement;
}

// Opens the session and prepares the statements of `connection` (each
// query for one id, and for a full batch); preparing waits for a writer's
// lock (SQLite) until `deadline` at most. On failure the connection is left
// dropped.
std::optional<ConnectError> Connect(const SociOwnershipStore::Backend& backend,
                                    const SociOwnershipStore::Queries& queries, absl::Time deadline,
                                    SociOwnershipStore::Connection& connection) {
  connection.Drop();
  absl::StatusOr<std::unique_ptr<soci::session>> session = backend.Open();
  if (!session.ok()) return ConnectError{ConnectStage::kConnect, session.status()};
  connection.session = *std::move(session);
  backend.SetLockWait(*connection.session, deadline - absl::Now());
  try {
    for (int query = 0; query < 3; ++query) {
      if (!queries.on[query]) continue;
      Statement(backend, queries, connection, query, 1);
      Statement(backend, queries, connection, query, queries.max_batch[query]);
    }
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

// The current row's columns.
LookupRow ReadRow(const SociOwnershipStore::Connection& connection, int query) {
  LookupRow row(kColumns[query]);
  for (int c = 0; c < kColumns[query]; ++c) {
    if (connection.indicators[c] != soci::i_null) row[c] = connection.columns[c];
  }
  return row;
}

absl::Status TooManyRows(int query) {
  return absl::FailedPreconditionError(
      query == static_cast<int>(LookupQuery::kCall)
          ? "the ownership query returned more than one row for one call id"
          : absl::StrCat("the ", OwnerLookupName(static_cast<OwnerLookup>(query - 1)),
                         " query returned more than one row for one id"));
}

absl::Status NullOwner(int query) {
  return absl::FailedPreconditionError(
      query == static_cast<int>(LookupQuery::kCall)
          ? "the ownership query returned a NULL call owner"
          : absl::StrCat("the ", OwnerLookupName(static_cast<OwnerLookup>(query - 1)),
                         " query returned a NULL owner"));
}

// Runs `ids` through `query`'s statement and writes each id's answer. A row
// whose first column (the owner) is NULL, or a second row for one id, fails
// that id only. Throws what SOCI throws.
void RunLookups(const SociOwnershipStore::Backend& backend,
                const SociOwnershipStore::Queries& queries,
                SociOwnershipStore::Connection& connection, int query,
                absl::Span<const absl::string_view> ids, absl::Span<LookupResult> results) {
  const int n = static_cast<int>(ids.size());
  for (int i = 0; i < n; ++i) connection.ids[i].assign(ids[i].data(), ids[i].size());
  for (LookupResult& result : results) result = std::optional<LookupRow>();
  soci::statement& statement = Statement(backend, queries, connection, query, n);
  const bool batched = queries.max_batch[query] > 1;
  std::vector<int> rows(n, 0);
  if (!statement.execute(true)) return;
  do {
    const int slot = batched ? connection.slot : 0;
    if (slot < 0 || slot >= n) {
      throw std::runtime_error("the batched ownership query returned an unknown slot");
    }
    if (++rows[slot] == 2) {
      results[slot] = TooManyRows(query);
      if (!batched) {
        connection.Drop();  // ends a statement left mid-result
        return;
      }
    } else if (rows[slot] == 1) {
      if (connection.indicators[0] == soci::i_null) {
        results[slot] = NullOwner(query);
      } else {
        results[slot] = std::optional<LookupRow>(ReadRow(connection, query));
      }
    }
  } while (statement.fetch());
}

}  // namespace

void SetLookupQueries(const OwnershipQueries& queries, SociStoreOptions* options) {
  options->call_query = queries.call;
  options->phone_number_query = queries.phone_number;
  options->assistant_query = queries.assistant;
  options->phone_number_lookup = queries.phone_number_on();
  options->assistant_lookup = queries.assistant_on();
}

absl::StatusOr<std::unique_ptr<SociOwnershipStore>> SociOwnershipStore::Open(
    const SociStoreOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError("ownership pool size must be at least 1");
  }
  if (options.max_batch < 1 || options.max_batch > kMaxBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("ownership batch size must be between 1 and ", kMaxBatch));
  }
  if (options.query_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ownership query timeout must be positive");
  }
  Queries queries;
  const struct {
    const std::string& configured;
    const char* fallback;
    const char* name;
  } configured[] = {
      {options.call_query, kDefaultCallQuery, "call_query"},
      {options.phone_number_query, kDefaultPhoneNumberQuery, "phone_number_query"},
      {options.assistant_query, kDefaultAssistantQuery, "assistant_query"},
  };
  queries.on = {true, options.phone_number_lookup, options.assistant_lookup};
  for (int query = 0; query < 3; ++query) {
    const auto& q = configured[query];
    if (!queries.on[query]) continue;
    queries.text[query] = q.configured.empty() ? q.fallback : q.configured;
    // The default queries have their own batched form, whether left empty or
    // written out (a compiled configuration fills the defaults in); a
    // configured one is batched as UNION ALL of copies when it can be.
    queries.configured[query] = queries.text[query] != q.fallback;
    const bool batchable =
        !queries.configured[query] ||
        ConfiguredBatchQuery(queries.text[query], kParameters[query], 2).has_value();
    queries.max_batch[query] = batchable ? options.max_batch : 1;
    if (!absl::StrContains(queries.text[query], absl::StrCat(":", kParameters[query]))) {
      return absl::InvalidArgumentError(
          absl::StrCat("ownership.", q.name, " must bind :", kParameters[query]));
    }
  }
  absl::StatusOr<SociDatabase> database =
      SociDatabase::Parse(options.connection_string, options.query_timeout);
  if (!database.ok()) return database.status();
  const auto backend = std::make_shared<const Backend>(*std::move(database));

  // Connect one connection now, so that a bad file or query fails at start.
  // An unreachable PostgreSQL does not: the store connects on first use.
  auto first = std::make_unique<Connection>();
  std::optional<ConnectError> error =
      Connect(*backend, queries, absl::Now() + options.query_timeout, *first);
  // A configured query the database takes alone but not in its batched form
  // runs one lookup per query (and the server says so).
  std::string unbatched;
  if (error.has_value() && error->stage == ConnectStage::kPrepare) {
    Queries alone = queries;
    std::vector<std::string> names;
    for (int query = 0; query < 3; ++query) {
      if (alone.configured[query] && alone.max_batch[query] > 1) {
        alone.max_batch[query] = 1;
        names.push_back(absl::StrCat("ownership.", configured[query].name));
      }
    }
    if (!names.empty() &&
        !Connect(*backend, alone, absl::Now() + options.query_timeout, *first).has_value()) {
      unbatched = absl::StrCat(absl::StrJoin(names, ", "),
                               ": runs one lookup per query (its batched form, UNION ALL "
                               "of copies, does not prepare: ",
                               error->status.message(), ")");
      queries = std::move(alone);
      error.reset();
    }
  }
  if (error.has_value()) {
    const bool is_sqlite = backend->kind == SociDatabase::Kind::kSqlite;
    if (error->stage == ConnectStage::kPrepare || is_sqlite) {
      return absl::InvalidArgumentError(error->status.message());
    }
  }
  std::unique_ptr<SociOwnershipStore> store(
      new SociOwnershipStore(backend, std::move(queries), options));
  store->unbatched_ = std::move(unbatched);
  store->connections_.front() = std::move(first);  // connected (or to connect on first use)
  return store;
}

SociOwnershipStore::SociOwnershipStore(std::shared_ptr<const Backend> backend, Queries queries,
                                       const SociStoreOptions& options)
    : backend_(std::move(backend)),
      queries_(std::move(queries)),
      coalescer_(
          options.pool_size,
          {queries_.max_batch[0], queries_.max_batch[1], queries_.max_batch[2], 1},
          [this](int connection, int kind, absl::Span<const absl::string_view> ids,
                 absl::Time deadline, absl::Span<LookupResult> results) {
            RunBatch(connection, kind, ids, deadline, results);
          },
          [on_batch = options.on_batch](int kind, int size) {
            if (on_batch && kind != kPingKind) on_batch(size);
          },
          options.handoff) {
  connections_.reserve(options.pool_size);
  for (int i = 0; i < options.pool_size; ++i) {
    connections_.push_back(std::make_unique<Connection>());
  }
}

SociOwnershipStore::~SociOwnershipStore() = default;

void SociOwnershipStore::RunBatch(int index, int kind, absl::Span<const absl::string_view> ids,
                                  absl::Time deadline, absl::Span<LookupResult> results) {
  Connection& connection = *connections_[index];
  auto answer_all = [&results](const absl::Status& status) {
    for (LookupResult& result : results) result = status;
  };
  if (connection.session == nullptr) {
    std::optional<ConnectError> error = Connect(*backend_, queries_, deadline, connection);
    if (error.has_value()) return answer_all(error->status);
  }
  try {
    // While the app holds a write lock (SQLite), wait for it, but not past
    // the deadline.
    backend_->SetLockWait(*connection.session, deadline - absl::Now());
    if (kind == kPingKind) {
      int one = 0;
      *connection.session << "SELECT 1", soci::into(one);
      if (one != 1) {
        connection.Drop();
        return answer_all(
            absl::UnavailableError("ownership database ping returned an unexpected value"));
      }
      results[0] = std::optional<LookupRow>();
      return;
    }
    RunLookups(*backend_, queries_, connection, kind, ids, results);
  } catch (const std::exception& e) {
    connection.Drop();  // reconnect on next use
    if (backend_->IsLockTimeout(e))
      return answer_all(absl::DeadlineExceededError(kLockedUntilDeadline));
    answer_all(absl::UnavailableError(absl::StrCat(
        kind == kPingKind ? "ownership database ping failed: " : "ownership query failed: ",
        backend_->Scrub(e.what()))));
  } catch (...) {
    connection.Drop();
    answer_all(absl::UnavailableError("ownership query failed"));
  }
}

namespace {

CallAnswer ToCall(LookupResult found) {
  if (!found.ok()) return found.status();
  if (!found->has_value()) return std::optional<CallOwnership>();
  LookupRow& row = **found;
  CallOwnership call;
  call.owner_id = *std::move(row[0]);
  call.assistant_id = std::move(row[1]);
  call.assistant_owner_id = std::move(row[2]);
  call.phone_number_id = std::move(row[3]);
  call.phone_number_owner_id = std::move(row[4]);
  return std::optional<CallOwnership>(std::move(call));
}

OwnerAnswer ToOwner(LookupResult found) {
  if (!found.ok()) return found.status();
  if (!found->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(*std::move((**found)[0]));
}

int KindOf(OwnerLookup what) {
  return static_cast<int>(what == OwnerLookup::kPhoneNumber ? LookupQuery::kPhoneNumber
                                                            : LookupQuery::kAssistant);
}

absl::Status LookupOff(OwnerLookup what) {
  return absl::FailedPreconditionError(
      absl::StrCat("the ", OwnerLookupName(what), " lookup is off (its query is not configured)"));
}

}  // namespace

CallAnswer SociOwnershipStore::FindCall(absl::string_view call_id, absl::Time deadline) {
  return ToCall(coalescer_.Lookup(static_cast<int>(LookupQuery::kCall), call_id, deadline));
}

OwnerAnswer SociOwnershipStore::FindOwner(OwnerLookup what, absl::string_view id,
                                          absl::Time deadline) {
  if (!queries_.on[KindOf(what)]) return LookupOff(what);
  return ToOwner(coalescer_.Lookup(KindOf(what), id, deadline));
}

void SociOwnershipStore::FindCallAsync(absl::string_view call_id, absl::Time deadline,
                                       std::function<void(CallAnswer)> done) {
  coalescer_.LookupAsync(
      static_cast<int>(LookupQuery::kCall), call_id, deadline,
      [done = std::move(done)](LookupResult found) { done(ToCall(std::move(found))); });
}

void SociOwnershipStore::FindOwnerAsync(OwnerLookup what, absl::string_view id, absl::Time deadline,
                                        std::function<void(OwnerAnswer)> done) {
  if (!queries_.on[KindOf(what)]) return done(LookupOff(what));
  coalescer_.LookupAsync(KindOf(what), id, deadline, [done = std::move(done)](LookupResult found) {
    done(ToOwner(std::move(found)));
  });
}

absl::Status SociOwnershipStore::Ping(absl::Time deadline) {
  return coalescer_.Lookup(kPingKind, "", deadline).status();
}

}  // namespace hookguard

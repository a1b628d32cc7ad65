#include "server/ownership/soci_ownership_store.h"

#include <soci/soci.h>

#include <algorithm>
#include <exception>
#include <future>
#include <stdexcept>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "server/ownership/soci_session.h"
#include "server/ownership/subject_query.h"

namespace hookguard {

namespace {

// Columns a lookup's row has (after the slot, in a batch): the call row's
// five, one (the owner) for every other query.
int Columns(int query) { return query == static_cast<int>(LookupQuery::kCall) ? 5 : 1; }

}  // namespace

// How to open a session (the shared SociDatabase); immutable after Open,
// shared by all connections.
struct SociOwnershipStore::Backend : SociDatabase {
  explicit Backend(SociDatabase database) : SociDatabase(std::move(database)) {}
  SqlDialect dialect() const {
    return kind == Kind::kPostgresql ? SqlDialect::kPostgresql : SqlDialect::kSqlite;
  }
};

// One pooled session and its prepared statements. Used by one thread at a
// time (whoever the coalescer gave it to). `session == nullptr` means "not
// connected": the next use reconnects and re-prepares.
struct SociOwnershipStore::Connection {
  std::unique_ptr<soci::session> session;
  // A connect in progress (RunBatch), when `session` is null.
  std::future<absl::StatusOr<std::unique_ptr<soci::session>>> connecting;
  // The queries `statements` were prepared from (the store's current ones,
  // or older ones before a runtime fallback): a connection that prepared
  // others re-prepares.
  std::shared_ptr<const Queries> prepared_from;
  // statements[query][n - 1]: the statement for n ids, prepared on first use.
  std::vector<std::vector<std::unique_ptr<soci::statement>>> statements;

  // Bound by reference into the statements.
  std::string ids[kMaxBatch];
  int slot = 0;
  soci::indicator slot_ind = soci::i_null;
  std::string columns[5];
  soci::indicator indicators[5] = {soci::i_null, soci::i_null, soci::i_null, soci::i_null,
                                   soci::i_null};

  void DropStatements() {
    for (auto& by_size : statements) by_size.clear();
    prepared_from.reset();
  }
  // The statement of `query` for `n` ids, after it threw on a connection that
  // stays open: SOCI 4.0's PostgreSQL backend allocates each bound value's
  // buffer before a statement executes and frees it only after a success or
  // when the statement goes, so a statement that threw and ran again would
  // leak one buffer per failure (an attacker's stream of ids the column
  // cannot hold). It is prepared again on its next use.
  void DropStatement(int query, int n) {
    if (query < static_cast<int>(statements.size()) &&
        n <= static_cast<int>(statements[query].size())) {
      statements[query][n - 1].reset();
    }
  }
  void Drop() {
    DropStatements();
    session.reset();
  }
};

namespace {

enum class ConnectStage { kConnect, kPrepare };

constexpr char kLockedUntilDeadline[] =
    "ownership database stayed locked by another connection's write until the deadline";

constexpr const char* kParameters[] = {"call_id", "phone_number_id", "assistant_id"};

// The parameter query `query` binds: kParameters', then the subjects' :id.
const char* Parameter(int query) {
  return query < SociOwnershipStore::kFirstSubjectQuery ? kParameters[query] : kSubjectParameter;
}

struct ConnectError {
  ConnectStage stage;
  absl::Status status;
};

// The statement of `query` for `n` ids on `connection`, prepared on first
// use. Throws what SOCI throws.
soci::statement& Statement(const SociOwnershipStore::Backend& backend,
                           const SociOwnershipStore::Queries& queries,
                           SociOwnershipStore::Connection& connection, int query, int n) {
  if (static_cast<int>(connection.statements.size()) <= query) {
    connection.statements.resize(query + 1);
  }
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
    made->exchange(soci::use(connection.ids[0], Parameter(query)));
  }
  for (int c = 0; c < Columns(query); ++c) {
    made->exchange(soci::into(connection.columns[c], connection.indicators[c]));
  }
  made->alloc();
  if (!batched) {
    made->prepare(queries.text[query]);
  } else if (queries.configured[query]) {
    // Open checked that the configured text has a batched form.
    made->prepare(
        *ConfiguredBatchQuery(queries.text[query], Parameter(query), n, backend.dialect()));
  } else {
    made->prepare(DefaultBatchQuery(static_cast<LookupQuery>(query), n,
                                    backend.kind == SociDatabase::Kind::kPostgresql));
  }
  made->define_and_bind();
  statement = std::move(made);
  return *statement;
}

// Prepares the statements of `connection` (each query for one id, and for
// a full batch) on its open session; preparing waits for a writer's lock
// (SQLite) until `deadline` at most. On failure the statements are dropped
// (the session is left to the caller).
std::optional<ConnectError> Prepare(
    const SociOwnershipStore::Backend& backend,
    const std::shared_ptr<const SociOwnershipStore::Queries>& queries, absl::Time deadline,
    SociOwnershipStore::Connection& connection) {
  connection.DropStatements();
  backend.SetLockWait(*connection.session, deadline - absl::Now());
  try {
    for (int query = 0; query < queries->size(); ++query) {
      if (!queries->on[query]) continue;
      Statement(backend, *queries, connection, query, 1);
      Statement(backend, *queries, connection, query, queries->max_batch[query]);
    }
  } catch (const std::exception& e) {
    connection.DropStatements();
    if (backend.IsLockTimeout(e)) {
      return ConnectError{ConnectStage::kConnect,
                          absl::DeadlineExceededError(kLockedUntilDeadline)};
    }
    return ConnectError{ConnectStage::kPrepare,
                        absl::UnavailableError(absl::StrCat(
                            "cannot prepare the ownership queries: ", backend.Scrub(e.what())))};
  }
  connection.prepared_from = queries;
  return std::nullopt;
}

// Opens the session of `connection` and prepares its statements (Prepare).
// On failure the connection is left dropped.
std::optional<ConnectError> Connect(
    const SociOwnershipStore::Backend& backend,
    const std::shared_ptr<const SociOwnershipStore::Queries>& queries, absl::Time deadline,
    SociOwnershipStore::Connection& connection) {
  connection.Drop();
  absl::StatusOr<std::unique_ptr<soci::session>> session = backend.Open();
  if (!session.ok()) return ConnectError{ConnectStage::kConnect, session.status()};
  connection.session = *std::move(session);
  std::optional<ConnectError> error = Prepare(backend, queries, deadline, connection);
  if (error.has_value()) connection.Drop();
  return error;
}

// `queries` with each configured query that is batched made to run one
// lookup per query; nullopt when none is. `names` receives their config keys.
std::optional<SociOwnershipStore::Queries> Unbatched(const SociOwnershipStore::Queries& queries,
                                                     std::vector<std::string>* names) {
  static constexpr const char* kKeys[] = {"call_query", "phone_number_query", "assistant_query"};
  SociOwnershipStore::Queries alone = queries;
  for (int query = 0; query < alone.size(); ++query) {
    if (alone.configured[query] && alone.max_batch[query] > 1) {
      alone.max_batch[query] = 1;
      names->push_back(
          query < SociOwnershipStore::kFirstSubjectQuery
              ? absl::StrCat("ownership.", kKeys[query])
              : absl::StrCat("subject query #", query - SociOwnershipStore::kFirstSubjectQuery));
    }
  }
  if (names->empty()) return std::nullopt;
  return alone;
}

// What the server logs when `names` run one lookup per query.
std::string UnbatchedMessage(const std::vector<std::string>& names, const absl::Status& why) {
  return absl::StrCat(absl::StrJoin(names, ", "),
                      ": runs one lookup per query (its batched form, UNION ALL "
                      "of copies, does not prepare: ",
                      why.message(), ")");
}

// The current row's columns.
LookupRow ReadRow(const SociOwnershipStore::Connection& connection, int query) {
  LookupRow row(Columns(query));
  for (int c = 0; c < Columns(query); ++c) {
    if (connection.indicators[c] != soci::i_null) row[c] = connection.columns[c];
  }
  return row;
}

// "the phone number query", "the subject query #2", for messages.
std::string QueryName(int query) {
  return query < SociOwnershipStore::kFirstSubjectQuery
             ? absl::StrCat("the ", OwnerLookupName(static_cast<OwnerLookup>(query - 1)), " query")
             : absl::StrCat("the subject query #", query - SociOwnershipStore::kFirstSubjectQuery);
}

absl::Status TooManyRows(int query) {
  return absl::FailedPreconditionError(
      query == static_cast<int>(LookupQuery::kCall)
          ? "the ownership query returned more than one row for one call id"
          : absl::StrCat(QueryName(query), " returned more than one row for one id"));
}

absl::Status NullOwner(int query) {
  return absl::FailedPreconditionError(
      query == static_cast<int>(LookupQuery::kCall)
          ? "the ownership query returned a NULL call owner"
          : absl::StrCat(QueryName(query), " returned a NULL owner"));
}

// Runs `ids` through `query`'s statement and writes each id's answer. A row
// whose first column (the owner) is NULL, or a second row for one id, fails
// that id only. Every row is read (a statement is never left mid-result).
// Throws what SOCI throws.
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

void SetLookupQueries(const OwnershipQueries& queries,
                      const std::vector<std::string>& subject_queries, SociStoreOptions* options) {
  options->call_query = queries.call;
  options->phone_number_query = queries.phone_number;
  options->assistant_query = queries.assistant;
  options->call_lookup = queries.call_on();
  options->phone_number_lookup = queries.phone_number_on();
  options->assistant_lookup = queries.assistant_on();
  options->subject_queries = subject_queries;
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
  const struct {
    const std::string& configured;
    const char* fallback;
    const char* name;
  } configured[] = {
      {options.call_query, kDefaultCallQuery, "call_query"},
      {options.phone_number_query, kDefaultPhoneNumberQuery, "phone_number_query"},
      {options.assistant_query, kDefaultAssistantQuery, "assistant_query"},
  };
  const bool on[] = {options.call_lookup, options.phone_number_lookup, options.assistant_lookup};
  for (int query = 0; query < 3; ++query) {
    const auto& q = configured[query];
    if (!on[query]) continue;
    const std::string text = q.configured.empty() ? std::string(q.fallback) : q.configured;
    if (!absl::StrContains(text, absl::StrCat(":", kParameters[query]))) {
      return absl::InvalidArgumentError(
          absl::StrCat("ownership.", q.name, " must bind :", kParameters[query]));
    }
  }
  for (const std::string& text : options.subject_queries) {
    if (absl::Status s = CheckSubjectQuery(text); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("profiles[].ownership.subjects[].", s.message()));
    }
  }
  absl::StatusOr<SociDatabase> database =
      SociDatabase::Parse(options.connection_string, options.query_timeout);
  if (!database.ok()) return database.status();
  const auto backend = std::make_shared<const Backend>(*std::move(database));
  Queries queries;
  for (int query = 0; query < 3; ++query) {
    const auto& q = configured[query];
    queries.on[query] = on[query];
    if (!queries.on[query]) continue;
    queries.text[query] = q.configured.empty() ? q.fallback : q.configured;
    // The default queries have their own batched form, whether left empty or
    // written out (a compiled configuration fills the defaults in); a
    // configured one is batched as UNION ALL of copies when it can be.
    queries.configured[query] = queries.text[query] != q.fallback;
    const bool batchable =
        !queries.configured[query] ||
        ConfiguredBatchQuery(queries.text[query], kParameters[query], 2, backend->dialect())
            .has_value();
    queries.max_batch[query] = batchable ? options.max_batch : 1;
  }
  // The subject queries (kFirstSubjectQuery on): always configured (there is
  // no default), batched by the same rules.
  for (const std::string& text : options.subject_queries) {
    const bool batchable =
        ConfiguredBatchQuery(text, kSubjectParameter, 2, backend->dialect()).has_value();
    queries.text.push_back(text);
    queries.configured.push_back(true);
    queries.max_batch.push_back(batchable ? options.max_batch : 1);
    queries.on.push_back(true);
  }

  // Connect one connection now, so that a bad file or query fails at start.
  // An unreachable PostgreSQL does not: the store connects on first use (and
  // falls back to one lookup per query then, should the batched form of a
  // configured query not prepare: RunOnSession).
  auto first = std::make_unique<Connection>();
  auto current = std::make_shared<const Queries>(std::move(queries));
  std::optional<ConnectError> error =
      Connect(*backend, current, absl::Now() + options.query_timeout, *first);
  // A configured query the database takes alone but not in its batched form
  // runs one lookup per query (and the server says so).
  std::string unbatched;
  if (error.has_value() && error->stage == ConnectStage::kPrepare) {
    std::vector<std::string> names;
    std::optional<Queries> alone = Unbatched(*current, &names);
    if (alone.has_value()) {
      auto fallback = std::make_shared<const Queries>(*std::move(alone));
      if (!Connect(*backend, fallback, absl::Now() + options.query_timeout, *first).has_value()) {
        unbatched = UnbatchedMessage(names, error->status);
        current = std::move(fallback);
        error.reset();
      }
    }
  }
  if (error.has_value()) {
    const bool is_sqlite = backend->kind == SociDatabase::Kind::kSqlite;
    if (error->stage == ConnectStage::kPrepare || is_sqlite) {
      return absl::InvalidArgumentError(error->status.message());
    }
  }
  std::unique_ptr<SociOwnershipStore> store(
      new SociOwnershipStore(backend, std::move(current), options));
  store->unbatched_ = std::move(unbatched);
  store->connections_.front() = std::move(first);  // connected (or to connect on first use)
  return store;
}

// Interrupts the query of a connection still running past its deadline
// (SociDatabase::Interrupt), so that every lookup is answered by its
// deadline even when the database hangs or vanishes after a query was sent.
// One thread per store; thread-safe.
class SociOwnershipStore::Watchdog {
 public:
  Watchdog(std::shared_ptr<const Backend> backend, int connections)
      : backend_(std::move(backend)), armed_(connections) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Watchdog() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

  // From now until Disarm, `session` (of `connection`) is interrupted once
  // `deadline` passes. `session` must stay open until Disarm.
  void Arm(int connection, soci::session* session, absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    armed_[connection] = Slot{session, deadline, false};
    if (deadline < wake_at_) changed_ = true;
  }
  // Whether it was interrupted (the session must then be dropped).
  bool Disarm(int connection) {
    absl::MutexLock lock(&mu_);
    const bool fired = armed_[connection].fired;
    armed_[connection] = Slot();
    return fired;
  }

 private:
  struct Slot {
    soci::session* session = nullptr;
    absl::Time deadline = absl::InfiniteFuture();
    bool fired = false;
  };

  void Loop() {
    absl::MutexLock lock(&mu_);
    while (!stopping_) {
      const absl::Time now = absl::Now();
      absl::Time next = absl::InfiniteFuture();
      for (Slot& slot : armed_) {
        if (slot.session == nullptr || slot.fired) continue;
        if (slot.deadline <= now) {
          backend_->Interrupt(*slot.session);  // a shutdown(2) or sqlite3_interrupt: quick
          slot.fired = true;
        } else {
          next = std::min(next, slot.deadline);
        }
      }
      wake_at_ = next;
      changed_ = false;
      mu_.AwaitWithDeadline(absl::Condition(
                                +[](Watchdog* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                  return w->changed_ || w->stopping_;
                                },
                                this),
                            next);
    }
  }

  const std::shared_ptr<const Backend> backend_;
  absl::Mutex mu_;
  std::vector<Slot> armed_ ABSL_GUARDED_BY(mu_);
  absl::Time wake_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool changed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

SociOwnershipStore::SociOwnershipStore(std::shared_ptr<const Backend> backend,
                                       std::shared_ptr<const Queries> queries,
                                       const SociStoreOptions& options)
    : backend_(std::move(backend)),
      queries_(std::move(queries)),
      on_(queries_->on),
      ping_kind_(queries_->size()),
      on_unbatched_(options.on_unbatched),
      watchdog_(std::make_unique<Watchdog>(backend_, options.pool_size)),
      coalescer_(
          options.pool_size,
          [&] {
            std::vector<int> kinds = queries_->max_batch;
            kinds.push_back(1);  // the ping
            return kinds;
          }(),
          [this](int connection, int kind, absl::Span<const absl::string_view> ids,
                 absl::Time deadline, absl::Span<LookupResult> results) {
            RunBatch(connection, kind, ids, deadline, results);
          },
          [on_batch = options.on_batch, ping = ping_kind_](int kind, int size) {
            if (on_batch && kind != ping) on_batch(size);
          },
          options.handoff) {
  connections_.reserve(options.pool_size);
  for (int i = 0; i < options.pool_size; ++i) {
    connections_.push_back(std::make_unique<Connection>());
  }
}

SociOwnershipStore::~SociOwnershipStore() = default;

bool SociOwnershipStore::waits_for_locks() const {
  return backend_->kind == SociDatabase::Kind::kSqlite;
}

std::string SociOwnershipStore::unbatched() const {
  absl::MutexLock lock(&queries_mu_);
  return unbatched_;
}

std::shared_ptr<const SociOwnershipStore::Queries> SociOwnershipStore::CurrentQueries() const {
  absl::MutexLock lock(&queries_mu_);
  return queries_;
}

void SociOwnershipStore::RunBatch(int index, int kind, absl::Span<const absl::string_view> ids,
                                  absl::Time deadline, absl::Span<LookupResult> results) {
  Connection& connection = *connections_[index];
  if (connection.session == nullptr) {
    // Connecting runs on its own thread, waited for until the deadline only:
    // a server that accepts no connection (stopped, blackholed) holds a
    // connect for libpq's connect_timeout, longer than a lookup may wait.
    // A connect still running is taken over by the connection's next batch.
    if (!connection.connecting.valid()) {
      connection.connecting =
          std::async(std::launch::async, [backend = backend_] { return backend->Open(); });
    }
    if (deadline == absl::InfiniteFuture()) connection.connecting.wait();
    if (connection.connecting.wait_until(absl::ToChronoTime(deadline)) !=
        std::future_status::ready) {
      for (LookupResult& result : results) {
        result = absl::DeadlineExceededError(
            "ownership database accepted no connection before the deadline");
      }
      return;
    }
    absl::StatusOr<std::unique_ptr<soci::session>> session = connection.connecting.get();
    if (!session.ok()) {
      for (LookupResult& result : results) result = session.status();
      return;
    }
    connection.session = *std::move(session);
  }
  // Until Disarm, the watchdog interrupts the session at the deadline; the
  // session is dropped only after it.
  watchdog_->Arm(index, connection.session.get(), deadline);
  const bool drop = RunOnSession(connection, kind, ids, deadline, results);
  const bool interrupted = watchdog_->Disarm(index);
  if (interrupted) {
    for (LookupResult& result : results) {
      result = absl::DeadlineExceededError(
          "ownership database did not answer before the deadline (query interrupted)");
    }
  }
  if (drop || interrupted) connection.Drop();  // reconnect on next use
}

namespace {

// A lookup's status for an error its statement threw.
absl::Status LookupError(const SociOwnershipStore::Backend& backend, const std::exception& e,
                         SociDatabase::ErrorKind kind, bool ping) {
  if (kind == SociDatabase::ErrorKind::kLockTimeout) {
    return absl::DeadlineExceededError(kLockedUntilDeadline);
  }
  return absl::UnavailableError(
      absl::StrCat(ping ? "ownership database ping failed: " : "ownership query failed: ",
                   backend.Scrub(e.what())));
}

}  // namespace

bool SociOwnershipStore::RunOnSession(Connection& connection, int kind,
                                      absl::Span<const absl::string_view> ids, absl::Time deadline,
                                      absl::Span<LookupResult> results) {
  auto answer_all = [&results](const absl::Status& status) {
    for (LookupResult& result : results) result = status;
  };
  std::shared_ptr<const Queries> queries = CurrentQueries();
  if (connection.prepared_from != queries) {
    std::optional<ConnectError> error = Prepare(*backend_, queries, deadline, connection);
    // The first connect (at Open) may have failed before any statement was
    // prepared: a configured query whose batched form does not prepare
    // runs one lookup per query from now on, as Open would have decided.
    if (error.has_value() && error->stage == ConnectStage::kPrepare) {
      std::vector<std::string> names;
      std::optional<Queries> alone = Unbatched(*queries, &names);
      if (alone.has_value()) {
        auto fallback = std::make_shared<const Queries>(*std::move(alone));
        if (!Prepare(*backend_, fallback, deadline, connection).has_value()) {
          std::string told;
          {
            absl::MutexLock lock(&queries_mu_);
            if (queries_ == queries) {
              queries_ = fallback;
              unbatched_ = told = UnbatchedMessage(names, error->status);
            }
          }
          if (!told.empty() && on_unbatched_) on_unbatched_(told);
          queries = std::move(fallback);
          error.reset();
        }
      }
    }
    if (error.has_value()) {
      answer_all(error->status);
      return true;
    }
  }
  const bool ping = kind == ping_kind_;
  const bool alone = ids.size() > 1 && !ping && queries->max_batch[kind] == 1;
  if (!alone) {
    try {
      // While the app holds a write lock (SQLite), wait for it, but not past
      // the deadline.
      backend_->SetLockWait(*connection.session, deadline - absl::Now());
      if (ping) {
        int one = 0;
        *connection.session << "SELECT 1", soci::into(one);
        if (one != 1) {
          answer_all(
              absl::UnavailableError("ownership database ping returned an unexpected value"));
          return true;
        }
        results[0] = std::optional<LookupRow>();
        return false;
      }
      RunLookups(*backend_, *queries, connection, kind, ids, results);
      return false;
    } catch (const std::exception& e) {
      const SociDatabase::ErrorKind error = backend_->Classify(e);
      const bool usable = !ping &&
                          (error == SociDatabase::ErrorKind::kData ||
                           error == SociDatabase::ErrorKind::kIdNotHoldable) &&
                          backend_->Usable(*connection.session);
      if (usable) connection.DropStatement(kind, static_cast<int>(ids.size()));
      if (usable && ids.size() == 1 && error == SociDatabase::ErrorKind::kIdNotHoldable) {
        results[0] = std::optional<LookupRow>();  // no row can have this id
        return false;
      }
      if (!usable || ids.size() == 1) {
        answer_all(LookupError(*backend_, e, error, ping));
        return true;
      }
      // One id may have failed the batch: each is asked alone below, so
      // that it fails only its own lookup.
    } catch (...) {
      answer_all(absl::UnavailableError("ownership query failed"));
      return true;
    }
  }
  // One lookup per query: the query runs one lookup per query, or the
  // batch failed with an error one of its ids may have caused.
  for (size_t i = 0; i < ids.size(); ++i) {
    if (absl::Now() > deadline) {
      for (size_t j = i; j < ids.size(); ++j) {
        results[j] = absl::DeadlineExceededError("ownership lookup deadline passed");
      }
      return false;
    }
    try {
      backend_->SetLockWait(*connection.session, deadline - absl::Now());
      RunLookups(*backend_, *queries, connection, kind, ids.subspan(i, 1), results.subspan(i, 1));
    } catch (const std::exception& e) {
      const SociDatabase::ErrorKind error = backend_->Classify(e);
      const bool usable = (error == SociDatabase::ErrorKind::kData ||
                           error == SociDatabase::ErrorKind::kIdNotHoldable) &&
                          backend_->Usable(*connection.session);
      if (usable) connection.DropStatement(kind, 1);
      if (usable && error == SociDatabase::ErrorKind::kIdNotHoldable) {
        results[i] = std::optional<LookupRow>();
        continue;
      }
      results[i] = LookupError(*backend_, e, error, false);
      if (!usable) {
        for (size_t j = i + 1; j < ids.size(); ++j) results[j] = results[i];
        return true;
      }
    } catch (...) {
      for (size_t j = i; j < ids.size(); ++j) {
        results[j] = absl::UnavailableError("ownership query failed");
      }
      return true;
    }
  }
  return false;
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

absl::Status CallLookupOff() {
  return absl::FailedPreconditionError(
      "the call lookup is off (no profile uses the call model and ownership.call_query is not "
      "set)");
}

absl::Status LookupOff(OwnerLookup what) {
  return absl::FailedPreconditionError(
      absl::StrCat("the ", OwnerLookupName(what), " lookup is off (its query is not configured)"));
}

}  // namespace

CallAnswer SociOwnershipStore::FindCall(absl::string_view call_id, absl::Time deadline) {
  if (!on_[static_cast<int>(LookupQuery::kCall)]) return CallLookupOff();
  return ToCall(coalescer_.Lookup(static_cast<int>(LookupQuery::kCall), call_id, deadline));
}

OwnerAnswer SociOwnershipStore::FindOwner(OwnerLookup what, absl::string_view id,
                                          absl::Time deadline) {
  if (!on_[KindOf(what)]) return LookupOff(what);
  return ToOwner(coalescer_.Lookup(KindOf(what), id, deadline));
}

void SociOwnershipStore::FindCallAsync(absl::string_view call_id, absl::Time deadline,
                                       std::function<void(CallAnswer)> done) {
  if (!on_[static_cast<int>(LookupQuery::kCall)]) return done(CallLookupOff());
  coalescer_.LookupAsync(
      static_cast<int>(LookupQuery::kCall), call_id, deadline,
      [done = std::move(done)](LookupResult found) { done(ToCall(std::move(found))); });
}

void SociOwnershipStore::FindOwnerAsync(OwnerLookup what, absl::string_view id, absl::Time deadline,
                                        std::function<void(OwnerAnswer)> done) {
  if (!on_[KindOf(what)]) return done(LookupOff(what));
  coalescer_.LookupAsync(KindOf(what), id, deadline, [done = std::move(done)](LookupResult found) {
    done(ToOwner(std::move(found)));
  });
}

absl::StatusOr<std::optional<std::string>> SociOwnershipStore::FindSubjectOwner(
    int query, absl::string_view id, absl::Time deadline) {
  const int kind = kFirstSubjectQuery + query;
  if (query < 0 || kind >= ping_kind_) return absl::InvalidArgumentError("no such subject query");
  return ToOwner(coalescer_.Lookup(kind, id, deadline));
}

void SociOwnershipStore::FindSubjectOwnerAsync(int query, absl::string_view id, absl::Time deadline,
                                               std::function<void(OwnerAnswer)> done) {
  const int kind = kFirstSubjectQuery + query;
  if (query < 0 || kind >= ping_kind_) {
    return done(absl::InvalidArgumentError("no such subject query"));
  }
  coalescer_.LookupAsync(kind, id, deadline, [done = std::move(done)](LookupResult found) {
    done(ToOwner(std::move(found)));
  });
}

absl::Status SociOwnershipStore::Ping(absl::Time deadline) {
  return coalescer_.Lookup(ping_kind_, "", deadline).status();
}

}  // namespace hookguard

// OwnershipStore over SOCI (PostgreSQL or SQLite), with a pool of prepared
// statements. Read-only: the service never writes to the database.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_SOCI_OWNERSHIP_STORE_H_
#define HOOKGUARD_SERVER_OWNERSHIP_SOCI_OWNERSHIP_STORE_H_

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/ownership/lookup_coalescer.h"
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

  // Connections in the pool, each with its own prepared statements. >= 1.
  int pool_size = 4;

  // Most lookups of one kind sent in one query (1 to kMaxBatch; 1: one query
  // per lookup). Natural batching: a lookup that finds a connection free is
  // sent at once, alone; lookups wait only while every connection is busy,
  // and the next free connection takes all of them, up to this many. A
  // configured query is batched as UNION ALL of copies of itself when it can
  // be, else it runs one lookup per query (docs/explanation/ownership.md).
  int max_batch = 16;

  // Told the size of every batch of lookups sent (1 for a lookup sent
  // alone), e.g. for a histogram. May be empty. Called from lookup threads.
  std::function<void(int size)> on_batch;

  // Runs work on another thread promptly, ahead of queued requests (a
  // worker pool's ScheduleFirst): the answers and queue a blocking lookup
  // (the health ping) leaves, and the callbacks of lookups the timer
  // expires. May be empty: see LookupCoalescer::Handoff.
  std::function<void(std::function<void()>)> handoff;

  // Told why, when a configured query falls back to one lookup per query
  // after Open (the database was down at Open, and its batched form does
  // not prepare once it is up): the message unbatched() then holds, for a
  // warning. May be empty. Called once at most, from a lookup thread.
  std::function<void(const std::string& message)> on_unbatched;

  // Empty (or kDefaultCallQuery itself): the default query, batched.
  // Otherwise must bind :call_id and return at most one row of the five
  // columns of docs/explanation/ownership.md, as text; batched as UNION ALL of copies of
  // it (ConfiguredBatchQuery) when it can be, else one lookup per query.
  std::string call_query;

  // Empty (or the default itself): kDefaultPhoneNumberQuery /
  // kDefaultAssistantQuery, batched. Otherwise must
  // bind :phone_number_id / :assistant_id and return at most one row of one
  // column, the owner's id, as text.
  std::string phone_number_query;
  std::string assistant_query;

  // false: that lookup is off (the configuration maps its own schema and
  // sets no query for it): nothing is prepared for it, and FindOwner for it
  // answers FAILED_PRECONDITION (the authorizer never asks: its chain denies
  // first; FindCall likewise). SetLookupQueries fills these from a compiled
  // configuration.
  bool call_lookup = true;
  bool phone_number_lookup = true;
  bool assistant_lookup = true;

  // The subject queries (ServerSpec::subject_queries; FindSubjectOwner's
  // `query` indexes them). Each binds :id and returns at most one row of one
  // column, the owner's id, as text; batched as UNION ALL of copies of it
  // (ConfiguredBatchQuery) when it can be, else one lookup per query. Each
  // is a coalescer kind of its own.
  std::vector<std::string> subject_queries;

  // Upper bound for one query (PostgreSQL statement_timeout) and for
  // connecting (libpq connect_timeout, rounded up to whole seconds, >= 2 s).
  absl::Duration query_timeout = absl::Seconds(5);
};

// The lookup queries of `queries` into `options`: the three texts, the
// lookups that are off, and the subject queries.
void SetLookupQueries(const OwnershipQueries& queries,
                      const std::vector<std::string>& subject_queries, SociStoreOptions* options);

// Thread-safe. Lookups go through a LookupCoalescer over the pooled
// connections: a lookup runs at once on a free connection, or waits (until
// its deadline at most) and goes out in the next batch. A connection that
// fails is dropped and reopened on its next use, so the store recovers by
// itself when the database comes back. A query still running at its
// deadline is interrupted (SociDatabase::Interrupt): every lookup is
// answered by its deadline, even by a database that hangs after a query was
// sent. Errors stay per lookup: a batch that fails with an error one id may
// have caused is asked again one id at a time; an id PostgreSQL cannot hold
// in the parameter's type or the database's encoding is not found; several
// rows or a NULL owner for one id fail that id only (FAILED_PRECONDITION);
// any other failed query answers its error to each lookup it carried.
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

  // A queued lookup holds no thread: `done` runs on the thread that ran its
  // batch (LookupCoalescer::LookupAsync).
  void FindCallAsync(absl::string_view call_id, absl::Time deadline,
                     std::function<void(CallAnswer)> done) override;
  void FindOwnerAsync(OwnerLookup what, absl::string_view id, absl::Time deadline,
                      std::function<void(OwnerAnswer)> done) override;

  // Several rows or a NULL owner: FAILED_PRECONDITION, as FindOwner. A
  // `query` out of range: INVALID_ARGUMENT.
  absl::StatusOr<std::optional<std::string>> FindSubjectOwner(int query, absl::string_view id,
                                                              absl::Time deadline) override;
  void FindSubjectOwnerAsync(int query, absl::string_view id, absl::Time deadline,
                             std::function<void(OwnerAnswer)> done) override;

  // Runs SELECT 1 on a pooled connection, in turn with the lookups.
  absl::Status Ping(absl::Time deadline) override;

  // Whether a lookup may wait for another connection's write lock (SQLite:
  // the app's own write transaction), bounded by the lookup's deadline.
  bool waits_for_locks() const;

  // Lookups waiting for a connection now.
  size_t lookups_waiting() const { return coalescer_.queued(); }

  // The largest max_batch accepted.
  static constexpr int kMaxBatch = 64;

  struct Backend;     // how to open a session (parsed connection string)
  struct Connection;  // one pooled session and its prepared statements
  // The lookups' queries: the three of LookupQuery (call, phone number,
  // assistant), then the subject queries (kFirstSubjectQuery + i): the
  // configured text or the default, and how many lookups one query carries
  // (1: the text as given, one lookup per query; more: the batched form).
  // A query's index is also its coalescer kind; the ping's kind follows them.
  struct Queries {
    std::vector<std::string> text = std::vector<std::string>(3);
    std::vector<bool> configured = std::vector<bool>(3, false);  // not the default query
    std::vector<int> max_batch = std::vector<int>(3, 1);
    std::vector<bool> on = std::vector<bool>(3, true);  // false: never prepared nor run
    int size() const { return static_cast<int>(text.size()); }
  };
  static constexpr int kFirstSubjectQuery = 3;

  // Empty, or which configured queries run one lookup per query although
  // they look batchable, and why (for a warning at start). Set by Open, or
  // later by the first connection that prepares (when the database was
  // down at Open).
  std::string unbatched() const;

 private:
  class Watchdog;  // interrupts a query still running at its deadline

  SociOwnershipStore(std::shared_ptr<const Backend> backend, std::shared_ptr<const Queries> queries,
                     const SociStoreOptions& options);

  // The coalescer's BatchFn: (re)connects `connection` if needed and runs the
  // lookups (or the ping) on it (RunOnSession), interrupted at `deadline`
  // should the database not answer by then (DEADLINE_EXCEEDED for each);
  // drops the connection after an error that may have broken it.
  void RunBatch(int connection, int kind, absl::Span<const absl::string_view> ids,
                absl::Time deadline, absl::Span<LookupResult> results);
  // Prepares `connection`'s statements if needed (falling back to one lookup
  // per query for a configured query whose batched form does not prepare),
  // then runs the lookups and writes each id's answer. A batch that fails
  // with an error one id may have caused (SociDatabase::ErrorKind::kData)
  // is asked again one id at a time, so that the id fails only its own
  // lookup; an id the database cannot hold (kIdNotHoldable) is not found.
  // Returns whether the connection must be dropped.
  bool RunOnSession(Connection& connection, int kind, absl::Span<const absl::string_view> ids,
                    absl::Time deadline, absl::Span<LookupResult> results);
  std::shared_ptr<const Queries> CurrentQueries() const;

  const std::shared_ptr<const Backend> backend_;
  mutable absl::Mutex queries_mu_;
  // Replaced once at most, by the fallback to one lookup per query.
  std::shared_ptr<const Queries> queries_ ABSL_GUARDED_BY(queries_mu_);
  std::string unbatched_ ABSL_GUARDED_BY(queries_mu_);
  const std::vector<bool> on_;  // queries_->on, which a fallback keeps
  const int ping_kind_;         // the health ping's coalescer kind: after the queries
  const std::function<void(const std::string&)> on_unbatched_;
  std::unique_ptr<Watchdog> watchdog_;
  std::vector<std::unique_ptr<Connection>> connections_;  // fixed after Open
  LookupCoalescer coalescer_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_SOCI_OWNERSHIP_STORE_H_

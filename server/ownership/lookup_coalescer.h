// Coalesces concurrent lookups into batches over a fixed set of database
// connections ("natural batching"): a lookup that finds a connection free
// runs at once, alone; lookups queue only while every connection is busy,
// and whoever gets a connection next takes everything queued of one kind, up
// to that kind's batch size, into one query. Nothing ever waits for a batch
// to fill. No SQL here: the caller's BatchFn runs a batch on a connection.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_LOOKUP_COALESCER_H_
#define HOOKGUARD_SERVER_OWNERSHIP_LOOKUP_COALESCER_H_

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace hookguard {

// One row a lookup found: its columns in the query's order (nullopt = NULL).
using LookupRow = std::vector<std::optional<std::string>>;
// A lookup's answer: the row, nullopt when no row has the id, or an error.
using LookupResult = absl::StatusOr<std::optional<LookupRow>>;

class LookupCoalescer {
 public:
  // Runs the lookups `ids` (all of kind `kind`, 1 to that kind's batch size)
  // on connection `connection` (0 .. connections - 1), and writes one result
  // per id into `results` (same order, pre-filled with an error). Called
  // without the coalescer's lock, never twice at once for one connection.
  // `deadline` is the latest deadline of the batch; each lookup's own is
  // enforced by the coalescer. An error that fails the whole query (the
  // database is down) is written to every result: each caller gets it.
  using BatchFn =
      std::function<void(int connection, int kind, absl::Span<const absl::string_view> ids,
                         absl::Time deadline, absl::Span<LookupResult> results)>;
  // Told the size of every batch that ran (for the metrics); may be empty.
  using BatchObserver = std::function<void(int kind, int size)>;

  // `max_batch[kind]` is the batch size of each kind (>= 1; 1: that kind
  // always runs alone). `connections` >= 1.
  LookupCoalescer(int connections, std::vector<int> max_batch, BatchFn run,
                  BatchObserver observe = nullptr);
  LookupCoalescer(const LookupCoalescer&) = delete;
  LookupCoalescer& operator=(const LookupCoalescer&) = delete;

  // Looks `id` up, as part of a batch or alone. DEADLINE_EXCEEDED when no
  // connection took it before `deadline`, or it was answered after it; a
  // lookup already sent waits for its batch (bounded by the query timeout).
  // Thread-safe; blocks.
  LookupResult Lookup(int kind, absl::string_view id, absl::Time deadline);

  // Lookups waiting for a connection now.
  size_t queued() const;

 private:
  struct Waiter;

  // Holding `connection`, runs batches from the head of the queue until
  // `me` is answered, then passes the connection on.
  void Lead(int connection, Waiter& me) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the queue's oldest lookup and the other queued lookups of its
  // kind, oldest first, up to the kind's batch size.
  std::vector<Waiter*> TakeBatch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives `connection` to the oldest queued lookup that has none, or frees it.
  void PassOn(int connection) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<int> max_batch_;
  const BatchFn run_;
  const BatchObserver observe_;

  mutable absl::Mutex mu_;
  std::vector<int> free_ ABSL_GUARDED_BY(mu_);      // connections nobody holds
  std::deque<Waiter*> queue_ ABSL_GUARDED_BY(mu_);  // lookups not yet taken, oldest first
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_LOOKUP_COALESCER_H_

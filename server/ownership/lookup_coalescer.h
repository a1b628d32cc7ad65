// Coalesces concurrent lookups into batches over a fixed set of database
// connections ("natural batching"): a lookup that finds a connection free
// runs at once, alone; lookups queue only while every connection is busy,
// and whoever holds a connection next takes everything queued of one kind,
// up to that kind's batch size, into one query. Nothing ever waits for a
// batch to fill. No SQL here: the caller's BatchFn runs a batch on a
// connection.
//
// Lookups are asynchronous: a queued lookup holds no thread. The thread that
// runs a batch also delivers its answers (calls each lookup's callback), so
// a request whose lookup rode in another's batch is finished by the thread
// that received the rows, without waking the thread that queued it. While it
// delivers, it holds no batch of queued lookups (the timer answers each at
// its deadline), and the blocking Lookup may take its connection.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_LOOKUP_COALESCER_H_
#define HOOKGUARD_SERVER_OWNERSHIP_LOOKUP_COALESCER_H_

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
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
  // Runs `work` on another thread promptly, ahead of queued requests (a
  // worker pool's priority lane: WorkerPool::ScheduleFirst). A blocking
  // Lookup() (the health ping) hands there the other answers of its batch
  // and the queue, and the timer hands there the callbacks of expired
  // lookups instead of running them: one may block (a stalled audit log).
  // May be empty: the blocking caller then delivers the others' answers
  // and serves the queue until it is empty before returning, and the timer
  // runs callbacks (and serves the queue) itself.
  using Handoff = std::function<void(std::function<void()> work)>;
  // Receives a lookup's answer, exactly once.
  using Done = std::function<void(LookupResult)>;

  // `max_batch[kind]` is the batch size of each kind (>= 1; 1: that kind
  // always runs alone). `connections` >= 1.
  LookupCoalescer(int connections, std::vector<int> max_batch, BatchFn run,
                  BatchObserver observe = nullptr, Handoff handoff = nullptr);
  LookupCoalescer(const LookupCoalescer&) = delete;
  LookupCoalescer& operator=(const LookupCoalescer&) = delete;
  // Answers lookups still queued with UNAVAILABLE. No lookup may be running.
  ~LookupCoalescer();

  // Looks `id` up, as part of a batch or alone, and calls `done` with the
  // answer exactly once:
  //  - when a connection is free, on this thread before returning: this
  //    thread leads (runs batches from the head of the queue, `id` first
  //    when nothing else is queued), delivers each, and then serves what
  //    queued meanwhile, until the queue is empty;
  //  - otherwise later, on the thread that runs its batch (or, when its
  //    deadline passes first, on the timer's Handoff or timer thread).
  // Made from inside a callback of this coalescer, it is only queued: the
  // delivering thread serves the queue after its batch's other answers are
  // delivered, so a follow-up lookup never delays them.
  // DEADLINE_EXCEEDED when no connection took it before `deadline` (it is
  // then never sent), or it was answered after it; a lookup already sent
  // waits for its batch (bounded by the query timeout). A queued lookup is
  // always within the timer's reach: a batch is taken from the queue only
  // to be sent at once. `id` must stay valid until `done` is called. `done`
  // runs without any lock of the coalescer held, and may call LookupAsync
  // again. Thread-safe.
  void LookupAsync(int kind, absl::string_view id, absl::Time deadline, Done done);

  // The blocking form (the health ping): waits for the answer, and runs its
  // own batch on this thread whenever a connection is free while it is
  // still queued, so it never waits for a thread that may be blocked in a
  // callback. It delivers no other lookup's answer (they go to the Handoff;
  // without one, this thread delivers them and serves the queue until it is
  // empty before returning). Thread-safe.
  LookupResult Lookup(int kind, absl::string_view id, absl::Time deadline);

  // Lookups waiting for a connection now.
  size_t queued() const;

  // How many answers the calling thread will deliver right after the one it
  // is delivering now (0 outside a delivery): lets a callback know that more
  // requests finish on this thread at once (e.g. to batch log writes).
  static int AnswersFollowingOnThisThread();

 private:
  struct Waiter;

  // Leads if a lookup is queued and a connection is free.
  void Serve();
  // Holding `connection` and mu_, with lookups queued: runs the batch at the
  // head of the queue, delivers (the connection kept, not held: see
  // reserved_), and goes on while lookups are queued and it has a
  // connection.
  void Lead(int connection) ABSL_UNLOCK_FUNCTION(mu_);
  // Takes `first` (queued) and the other queued lookups of its kind, oldest
  // first, up to the kind's batch size.
  std::vector<Waiter*> TakeBatch(Waiter* first) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `batch` on `connection` (held; without mu_): every waiter gets its
  // result, and is returned, in no particular order.
  std::vector<Waiter*> RunBatch(int connection, const std::vector<Waiter*>& batch);
  // The size TakeBatch would give now (queue not empty).
  int NextBatchSize() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls each waiter's callback with its result and deletes it; `following`
  // more answers follow on this thread (AnswersFollowingOnThisThread).
  // Lookups the callbacks make are only queued (Submit).
  void Deliver(std::vector<Waiter*>& answered, int following);
  // Deliver, then Serve: what the callbacks queued is led here.
  void DeliverAndServe(std::vector<Waiter*>& answered);
  // Answers queued lookups whose deadline passed, at their deadline.
  void TimerLoop();

  const std::vector<int> max_batch_;
  const BatchFn run_;
  const BatchObserver observe_;
  const Handoff handoff_;

  mutable absl::Mutex mu_;
  std::vector<int> free_ ABSL_GUARDED_BY(mu_);  // connections nobody holds
  // Connections kept for the thread that ran their last batch, while it
  // delivers its answers (Lead); only a blocking Lookup takes them.
  std::vector<int> reserved_ ABSL_GUARDED_BY(mu_);
  std::deque<Waiter*> queue_ ABSL_GUARDED_BY(mu_);  // lookups not yet taken, oldest first
  // The timer thread wakes by then at the latest; a lookup queued with an
  // earlier deadline wakes it.
  absl::Time timer_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool timer_wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread timer_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_LOOKUP_COALESCER_H_

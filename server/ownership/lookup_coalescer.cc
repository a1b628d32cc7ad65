#include "server/ownership/lookup_coalescer.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace hookguard {
namespace {

// How long the timer thread sleeps when nothing queued is due sooner: a
// lookup queued with a nearer deadline wakes it, so this only bounds how
// often an idle coalescer wakes up.
constexpr absl::Duration kTimerIdle = absl::Milliseconds(100);

// Answers the calling thread delivers after the current one (see
// AnswersFollowingOnThisThread).
thread_local int answers_following = 0;

// The coalescer whose answers the calling thread is delivering now, if any:
// an asynchronous lookup made from such a callback is queued, never led
// there (see DeliverAndServe).
thread_local const void* delivering_for = nullptr;

}  // namespace

// One lookup, from LookupAsync until its callback ran. Owned by the queue,
// then by the batch that carries it, then deleted by Deliver.
struct LookupCoalescer::Waiter {
  const int kind;
  const absl::string_view id;
  const absl::Time deadline;
  Done done;
  // A blocking Lookup's: its callback only wakes the waiting thread, so the
  // timer may run it itself.
  bool blocking = false;
  // In the queue (guarded by mu_): false once a batch or the timer took it.
  bool queued = true;
  LookupResult result = absl::UnknownError("ownership lookup did not run");
};

LookupCoalescer::LookupCoalescer(int connections, std::vector<int> max_batch, BatchFn run,
                                 BatchObserver observe, Handoff handoff)
    : max_batch_(std::move(max_batch)),
      run_(std::move(run)),
      observe_(std::move(observe)),
      handoff_(std::move(handoff)) {
  {
    absl::MutexLock lock(&mu_);
    for (int i = connections - 1; i >= 0; --i) free_.push_back(i);
  }
  timer_ = std::thread([this] { TimerLoop(); });
}

LookupCoalescer::~LookupCoalescer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  timer_.join();
  // Callbacks may look up again: those lookups are answered the same way.
  while (true) {
    std::vector<Waiter*> left;
    {
      absl::MutexLock lock(&mu_);
      for (Waiter* w : queue_) {
        w->queued = false;
        w->result = absl::UnavailableError("ownership lookups stopped");
        left.push_back(w);
      }
      queue_.clear();
    }
    if (left.empty()) return;
    Deliver(left, 0);
  }
}

int LookupCoalescer::AnswersFollowingOnThisThread() { return answers_following; }

void LookupCoalescer::LookupAsync(int kind, absl::string_view id, absl::Time deadline, Done done) {
  Waiter* w = new Waiter{kind, id, deadline, std::move(done)};
  mu_.Lock();
  queue_.push_back(w);
  // Inside a delivery of this coalescer's answers, a lookup only queues:
  // the delivering thread serves the queue once every answer of its batch
  // is delivered (leading here would make them wait for the whole queue).
  if (free_.empty() || delivering_for == this) {
    if (w->deadline < timer_at_) timer_wake_ = true;
    mu_.Unlock();
    return;
  }
  const int connection = free_.back();
  free_.pop_back();
  Lead(connection);
}

LookupResult LookupCoalescer::Lookup(int kind, absl::string_view id, absl::Time deadline) {
  LookupResult result = absl::UnknownError("ownership lookup did not run");
  bool done = false;  // guarded by mu_
  Waiter* const w = new Waiter{kind, id, deadline,
                               [&](LookupResult r) {
                                 absl::MutexLock lock(&mu_);
                                 result = std::move(r);
                                 done = true;
                               },
                               /*blocking=*/true};
  mu_.Lock();
  queue_.push_back(w);
  if (w->deadline < timer_at_) timer_wake_ = true;
  // Waits for the answer (a leader's batch, or the timer at the deadline);
  // whenever a connection is free while `w` is still queued, this thread
  // runs `w`'s batch itself, at once (the health ping must not wait for a
  // thread that may be blocked in a callback).
  auto answered_or_free = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return done || (w->queued && (!free_.empty() || !reserved_.empty()));
  };
  while (true) {
    mu_.Await(absl::Condition(&answered_or_free));
    if (done) break;
    // A connection kept for a thread that is delivering answers is taken
    // too: that thread may be blocked in a callback.
    std::vector<int>& from = free_.empty() ? reserved_ : free_;
    const int connection = from.back();
    from.pop_back();
    std::vector<Waiter*> batch = TakeBatch(w);
    mu_.Unlock();
    std::vector<Waiter*> answered = RunBatch(connection, batch);
    mu_.Lock();
    free_.push_back(connection);
    const bool queued = !queue_.empty();
    mu_.Unlock();
    // This thread delivers its own answer only: the others' callbacks may
    // block (a stalled audit log), so they go to the Handoff, and so does
    // the queue. Without a Handoff, this thread delivers them and serves
    // the queue until it is empty.
    const auto own = std::find(answered.begin(), answered.end(), w);
    std::vector<Waiter*> mine = {*own};
    answered.erase(own);
    if (handoff_ == nullptr) {
      Deliver(answered, 0);
      Deliver(mine, 0);
      Serve();
    } else {
      if (queued) handoff_([this] { Serve(); });
      if (!answered.empty()) {
        handoff_([this, answered]() mutable { DeliverAndServe(answered); });
      }
      Deliver(mine, 0);
    }
    mu_.Lock();
  }
  mu_.Unlock();
  return result;
}

size_t LookupCoalescer::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void LookupCoalescer::Serve() {
  mu_.Lock();
  if (queue_.empty() || free_.empty()) {
    mu_.Unlock();
    return;
  }
  const int connection = free_.back();
  free_.pop_back();
  Lead(connection);
}

std::vector<LookupCoalescer::Waiter*> LookupCoalescer::RunBatch(int connection,
                                                                const std::vector<Waiter*>& batch) {
  // Lookups whose deadline passed while queued are answered without a query.
  const absl::Time now = absl::Now();
  std::vector<Waiter*> answered, sent;
  std::vector<absl::string_view> ids;
  absl::Time latest = absl::InfinitePast();
  for (Waiter* w : batch) {
    if (now > w->deadline) {
      w->result = absl::DeadlineExceededError("ownership lookup deadline passed");
      answered.push_back(w);
      continue;
    }
    sent.push_back(w);
    ids.push_back(w->id);
    latest = std::max(latest, w->deadline);
  }
  if (sent.empty()) return answered;
  std::vector<LookupResult> results(sent.size(), absl::UnknownError("ownership batch did not run"));
  run_(connection, sent.front()->kind, ids, latest, absl::MakeSpan(results));
  if (observe_) observe_(sent.front()->kind, static_cast<int>(sent.size()));
  const absl::Time at = absl::Now();
  for (size_t i = 0; i < sent.size(); ++i) {
    if (results[i].ok() && at > sent[i]->deadline) {
      sent[i]->result =
          absl::DeadlineExceededError("ownership database answered after the deadline");
    } else {
      sent[i]->result = std::move(results[i]);
    }
    answered.push_back(sent[i]);
  }
  return answered;
}

void LookupCoalescer::Lead(int connection) {
  while (true) {
    std::vector<Waiter*> batch = TakeBatch(queue_.front());
    mu_.Unlock();
    std::vector<Waiter*> answered = RunBatch(connection, batch);

    // With lookups queued, the connection is kept for this thread's next
    // batch (lookups queued while it delivers join that batch), but no
    // batch is taken: every queued lookup stays within the timer's reach,
    // and a blocking Lookup (the health ping) may take the connection while
    // a callback blocks (a stalled audit log).
    mu_.Lock();
    const bool keep = !queue_.empty();
    const int following = keep ? NextBatchSize() : 0;
    (keep ? reserved_ : free_).push_back(connection);
    mu_.Unlock();
    Deliver(answered, following);

    // Then serves what is queued now: follow-ups of the answers just
    // delivered, lookups queued meanwhile.
    mu_.Lock();
    const auto kept = std::find(reserved_.begin(), reserved_.end(), connection);
    if (keep && kept != reserved_.end()) {
      reserved_.erase(kept);
      if (!queue_.empty()) continue;
      free_.push_back(connection);
      mu_.Unlock();
      return;
    }
    if (queue_.empty() || free_.empty()) {
      mu_.Unlock();
      return;
    }
    connection = free_.back();
    free_.pop_back();
  }
}

int LookupCoalescer::NextBatchSize() const {
  const int kind = queue_.front()->kind;
  const int most = std::max(1, max_batch_[kind]);
  int n = 0;
  for (const Waiter* w : queue_) {
    if (w->kind == kind && ++n == most) break;
  }
  return n;
}

std::vector<LookupCoalescer::Waiter*> LookupCoalescer::TakeBatch(Waiter* first) {
  const int kind = first->kind;
  const size_t most = static_cast<size_t>(std::max(1, max_batch_[kind]));
  // The oldest lookups of `first`'s kind, in queue order, with room kept
  // for `first` until it is found.
  std::vector<Waiter*> batch;
  bool has_first = false;
  for (auto it = queue_.begin(); it != queue_.end();) {
    Waiter* const w = *it;
    const bool room = batch.size() + (has_first || w == first ? 0 : 1) < most;
    if (w->kind != kind || !room) {
      if (has_first && batch.size() == most) break;
      ++it;
      continue;
    }
    has_first = has_first || w == first;
    w->queued = false;
    batch.push_back(w);
    it = queue_.erase(it);
  }
  return batch;
}

void LookupCoalescer::Deliver(std::vector<Waiter*>& answered, int following) {
  const void* const outer_coalescer = delivering_for;
  const int outer = answers_following;
  delivering_for = this;
  for (size_t i = 0; i < answered.size(); ++i) {
    std::unique_ptr<Waiter> w(answered[i]);
    answered[i] = nullptr;
    answers_following = outer + following + static_cast<int>(answered.size() - 1 - i);
    w->done(std::move(w->result));
  }
  answers_following = outer;
  delivering_for = outer_coalescer;
  answered.clear();
}

void LookupCoalescer::DeliverAndServe(std::vector<Waiter*>& answered) {
  Deliver(answered, 0);
  Serve();
}

void LookupCoalescer::TimerLoop() {
  mu_.Lock();
  while (!stopping_) {
    const absl::Time now = absl::Now();
    absl::Time next = now + kTimerIdle;
    std::vector<Waiter*> expired;
    for (auto it = queue_.begin(); it != queue_.end();) {
      if ((*it)->deadline <= now) {
        (*it)->result = absl::DeadlineExceededError(
            "no ownership database connection free before the deadline");
        (*it)->queued = false;
        expired.push_back(*it);
        it = queue_.erase(it);
      } else {
        next = std::min(next, (*it)->deadline);
        ++it;
      }
    }
    if (!expired.empty()) {
      mu_.Unlock();
      // The timer never runs a request's callback when it can help it: one
      // may block (a stalled audit log), and then no deadline would fire
      // again, not even the health ping's. Blocking lookups' callbacks only
      // wake their thread.
      std::vector<Waiter*> here, handed;
      for (Waiter* w : expired) (w->blocking || !handoff_ ? here : handed).push_back(w);
      if (!handed.empty()) {
        handoff_([this, handed]() mutable { DeliverAndServe(handed); });
      }
      if (handoff_) {
        Deliver(here, 0);  // a handed-off Serve leads, never this thread
      } else {
        DeliverAndServe(here);
      }
      mu_.Lock();
      continue;
    }
    timer_at_ = next;
    timer_wake_ = false;
    mu_.AwaitWithDeadline(absl::Condition(
                              +[](LookupCoalescer* c) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                return c->timer_wake_ || c->stopping_;
                              },
                              this),
                          next);
  }
  mu_.Unlock();
}

}  // namespace hookguard

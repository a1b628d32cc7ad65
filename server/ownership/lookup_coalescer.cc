#include "server/ownership/lookup_coalescer.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"

namespace hookguard {

// One caller's lookup, on its stack for the time of Lookup(). Fields other
// than the first three are guarded by the coalescer's mu_.
struct LookupCoalescer::Waiter {
  enum class State { kQueued, kTaken, kDone };

  const int kind;
  const absl::string_view id;
  const absl::Time deadline;
  State state = State::kQueued;
  int handed = -1;  // a connection passed to this waiter, which must lead with it
  LookupResult result = absl::UnknownError("ownership lookup did not run");

  bool Done() const { return state == State::kDone; }
  bool DoneOrHanded() const { return state == State::kDone || handed >= 0; }
};

LookupCoalescer::LookupCoalescer(int connections, std::vector<int> max_batch, BatchFn run,
                                 BatchObserver observe)
    : max_batch_(std::move(max_batch)), run_(std::move(run)), observe_(std::move(observe)) {
  absl::MutexLock lock(&mu_);
  for (int i = connections - 1; i >= 0; --i) free_.push_back(i);
}

LookupResult LookupCoalescer::Lookup(int kind, absl::string_view id, absl::Time deadline) {
  Waiter me{kind, id, deadline};
  absl::MutexLock lock(&mu_);
  queue_.push_back(&me);
  if (!free_.empty()) {
    const int connection = free_.back();
    free_.pop_back();
    Lead(connection, me);
    return std::move(me.result);
  }
  mu_.AwaitWithDeadline(absl::Condition(&me, &Waiter::DoneOrHanded), deadline);
  if (me.handed >= 0) {
    const int connection = me.handed;
    me.handed = -1;
    Lead(connection, me);
    return std::move(me.result);
  }
  if (me.state == Waiter::State::kQueued) {
    queue_.erase(std::find(queue_.begin(), queue_.end(), &me));
    return absl::DeadlineExceededError("no ownership database connection free before the deadline");
  }
  // Taken into a batch: its query is bounded by the query timeout.
  mu_.Await(absl::Condition(&me, &Waiter::Done));
  return std::move(me.result);
}

size_t LookupCoalescer::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void LookupCoalescer::Lead(int connection, Waiter& me) {
  while (!me.Done()) {
    if (queue_.empty()) {
      // `me` is in a batch another connection is running.
      PassOn(connection);
      mu_.Await(absl::Condition(&me, &Waiter::Done));
      return;
    }
    std::vector<Waiter*> batch = TakeBatch();
    const int kind = batch.front()->kind;
    // Lookups whose deadline passed while queued are answered without a query.
    const absl::Time now = absl::Now();
    std::vector<Waiter*> sent;
    std::vector<absl::string_view> ids;
    absl::Time latest = absl::InfinitePast();
    for (Waiter* w : batch) {
      if (now > w->deadline) {
        w->result = absl::DeadlineExceededError("ownership lookup deadline passed");
        w->state = Waiter::State::kDone;
        continue;
      }
      sent.push_back(w);
      ids.push_back(w->id);
      latest = std::max(latest, w->deadline);
    }
    if (sent.empty()) continue;
    std::vector<LookupResult> results(sent.size(),
                                      absl::UnknownError("ownership batch did not run"));
    mu_.Unlock();
    run_(connection, kind, ids, latest, absl::MakeSpan(results));
    if (observe_) observe_(kind, static_cast<int>(sent.size()));
    const absl::Time answered = absl::Now();
    mu_.Lock();
    for (size_t i = 0; i < sent.size(); ++i) {
      if (results[i].ok() && answered > sent[i]->deadline) {
        sent[i]->result =
            absl::DeadlineExceededError("ownership database answered after the deadline");
      } else {
        sent[i]->result = std::move(results[i]);
      }
      sent[i]->state = Waiter::State::kDone;
    }
  }
  PassOn(connection);
}

std::vector<LookupCoalescer::Waiter*> LookupCoalescer::TakeBatch() {
  const int kind = queue_.front()->kind;
  const size_t most = static_cast<size_t>(std::max(1, max_batch_[kind]));
  std::vector<Waiter*> batch;
  for (auto it = queue_.begin(); it != queue_.end() && batch.size() < most;) {
    if ((*it)->kind != kind) {
      ++it;
      continue;
    }
    (*it)->state = Waiter::State::kTaken;
    batch.push_back(*it);
    it = queue_.erase(it);
  }
  return batch;
}

void LookupCoalescer::PassOn(int connection) {
  for (Waiter* w : queue_) {
    if (w->handed < 0) {
      w->handed = connection;
      return;
    }
  }
  free_.push_back(connection);
}

}  // namespace hookguard

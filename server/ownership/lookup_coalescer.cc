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

}  // namespace

// One lookup, from LookupAsync until its callback ran. Owned by the queue,
// then by the batch that carries it, then deleted by Deliver.
struct LookupCoalescer::Waiter {
  const int kind;
  const absl::string_view id;
  const absl::Time deadline;
  Done done;
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
  std::vector<Waiter*> left;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  timer_.join();
  {
    absl::MutexLock lock(&mu_);
    for (Waiter* w : queue_) {
      w->result = absl::UnavailableError("ownership lookups stopped");
      left.push_back(w);
    }
    queue_.clear();
  }
  Deliver(left);
}

int LookupCoalescer::AnswersFollowingOnThisThread() { return answers_following; }

void LookupCoalescer::LookupAsync(int kind, absl::string_view id, absl::Time deadline, Done done) {
  Submit(new Waiter{kind, id, deadline, std::move(done)}, /*blocking=*/false);
}

LookupResult LookupCoalescer::Lookup(int kind, absl::string_view id, absl::Time deadline) {
  absl::Notification answered;
  LookupResult result = absl::UnknownError("ownership lookup did not run");
  Submit(new Waiter{kind, id, deadline,
                    [&](LookupResult r) {
                      result = std::move(r);
                      answered.Notify();
                    }},
         /*blocking=*/true);
  answered.WaitForNotification();
  return result;
}

void LookupCoalescer::Submit(Waiter* w, bool blocking) {
  mu_.Lock();
  queue_.push_back(w);
  if (free_.empty()) {
    if (w->deadline < timer_at_) timer_wake_ = true;
    mu_.Unlock();
    return;
  }
  // A free connection means nothing else is queued: `w` runs alone, now.
  const int connection = free_.back();
  free_.pop_back();
  Lead(connection, blocking ? w : nullptr);
}

size_t LookupCoalescer::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void LookupCoalescer::Lead(int connection, const Waiter* until) {
  std::vector<Waiter*> batch = TakeBatch();
  while (true) {
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
    mu_.Unlock();
    if (!sent.empty()) {
      std::vector<LookupResult> results(sent.size(),
                                        absl::UnknownError("ownership batch did not run"));
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
    }
    const bool until_answered =
        until != nullptr && std::find(answered.begin(), answered.end(), until) != answered.end();

    // Before delivering, decide what the connection does next, so that
    // lookups queued meanwhile are never left without one.
    mu_.Lock();
    std::vector<Waiter*> next;
    bool hand_off = false;
    if (queue_.empty()) {
      free_.push_back(connection);
    } else if (until_answered && handoff_) {
      hand_off = true;
    } else {
      next = TakeBatch();
    }
    mu_.Unlock();
    if (hand_off) {
      handoff_([this, connection] {
        mu_.Lock();
        if (queue_.empty()) {  // the timer answered them meanwhile
          free_.push_back(connection);
          mu_.Unlock();
          return;
        }
        Lead(connection, nullptr);
      });
    }
    answers_following += static_cast<int>(next.size());
    Deliver(answered);
    answers_following -= static_cast<int>(next.size());
    if (next.empty()) return;
    batch = std::move(next);
    mu_.Lock();
  }
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
    batch.push_back(*it);
    it = queue_.erase(it);
  }
  return batch;
}

void LookupCoalescer::Deliver(std::vector<Waiter*>& answered) {
  const int outer = answers_following;
  for (size_t i = 0; i < answered.size(); ++i) {
    std::unique_ptr<Waiter> w(answered[i]);
    answered[i] = nullptr;
    answers_following = outer + static_cast<int>(answered.size() - 1 - i);
    w->done(std::move(w->result));
  }
  answers_following = outer;
  answered.clear();
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
        expired.push_back(*it);
        it = queue_.erase(it);
      } else {
        next = std::min(next, (*it)->deadline);
        ++it;
      }
    }
    if (!expired.empty()) {
      mu_.Unlock();
      Deliver(expired);
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

#include "server/service/worker_pool.h"

#include <utility>

namespace hookguard {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& t : threads_) t.join();
}

void WorkerPool::Schedule(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
  queued_.store(first_.size() + tasks_.size(), std::memory_order_relaxed);
}

void WorkerPool::ScheduleFirst(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  first_.push_back(std::move(task));
  queued_.store(first_.size() + tasks_.size(), std::memory_order_relaxed);
}

void WorkerPool::Run() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkerPool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool->mu_) {
            return pool->stopping_ || !pool->first_.empty() || !pool->tasks_.empty();
          },
          this));
      std::deque<std::function<void()>>& from = first_.empty() ? tasks_ : first_;
      if (from.empty()) return;  // stopping and drained
      task = std::move(from.front());
      from.pop_front();
      queued_.store(first_.size() + tasks_.size(), std::memory_order_relaxed);
    }
    task();
  }
}

}  // namespace hookguard

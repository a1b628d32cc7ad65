// A fixed pool of threads for the blocking part of a request (the database
// lookup), so that gRPC's own threads never block and health checks are
// answered even while the database hangs.
#ifndef HOOKGUARD_SERVER_SERVICE_WORKER_POOL_H_
#define HOOKGUARD_SERVER_SERVICE_WORKER_POOL_H_

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace hookguard {

// Runs scheduled tasks on `threads` threads in FIFO order, those of
// ScheduleFirst before the others. The destructor
// runs every task already scheduled, then joins. Thread-safe.
class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Schedule(std::function<void()> task);

  // Schedules `task` ahead of every task scheduled with Schedule (FIFO among
  // these): for short work that others wait on, such as a database
  // connection handed on to serve queued lookups, which must not wait its
  // turn behind the requests queued meanwhile.
  void ScheduleFirst(std::function<void()> task);

  // Tasks waiting for a thread (a saturation signal for metrics, and the
  // audit log's hint that more work is coming). Lock-free: read per request.
  size_t queued() const { return queued_.load(std::memory_order_relaxed); }

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<std::function<void()>> first_ ABSL_GUARDED_BY(mu_);  // ScheduleFirst's
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  // first_.size() + tasks_.size(), stored under mu_ on every change
  std::atomic<size_t> queued_{0};
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SERVICE_WORKER_POOL_H_

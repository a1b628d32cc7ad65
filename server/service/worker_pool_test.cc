#include "server/service/worker_pool.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

TEST(WorkerPool, RunsEveryTaskBeforeDestruction) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(3);
    for (int i = 0; i < 1000; ++i) pool.Schedule([&ran] { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 1000);
}

TEST(WorkerPool, RunsTasksConcurrently) {
  // Two tasks that each wait for the other can only finish on two threads.
  std::atomic<int> arrived{0};
  {
    WorkerPool pool(2);
    for (int i = 0; i < 2; ++i) {
      pool.Schedule([&arrived] {
        arrived.fetch_add(1);
        while (arrived.load() < 2) std::this_thread::yield();
      });
    }
  }
  EXPECT_EQ(arrived.load(), 2);
}

TEST(WorkerPool, QueuedCountsTasksWaitingForAThread) {
  absl::Notification started, release;
  WorkerPool pool(1);
  EXPECT_EQ(pool.queued(), 0u);
  pool.Schedule([&] {
    started.Notify();
    release.WaitForNotification();
  });
  started.WaitForNotification();  // the only thread is busy: the rest wait
  for (int i = 0; i < 3; ++i) pool.Schedule([] {});
  EXPECT_EQ(pool.queued(), 3u);
  release.Notify();
  while (pool.queued() != 0) std::this_thread::yield();
}

}  // namespace
}  // namespace hookguard

#include "server/service/worker_pool.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
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

// Row 11: a database connection handed on (LookupCoalescer::Handoff) runs
// before the requests queued ahead of it, which may themselves wait for it.
TEST(WorkerPool, ScheduleFirstRunsAheadOfQueuedTasks) {
  absl::Notification started, release;
  absl::Mutex mu;
  std::vector<std::string> order;
  auto record = [&](std::string name) {
    return [&, name] {
      absl::MutexLock lock(&mu);
      order.push_back(name);
    };
  };
  {
    WorkerPool pool(1);
    pool.Schedule([&] {
      started.Notify();
      release.WaitForNotification();
    });
    started.WaitForNotification();
    pool.Schedule(record("request-1"));
    pool.Schedule(record("request-2"));
    pool.ScheduleFirst(record("handoff-1"));
    pool.Schedule(record("request-3"));
    pool.ScheduleFirst(record("handoff-2"));
    EXPECT_EQ(pool.queued(), 5u);
    release.Notify();
  }
  EXPECT_THAT(order, ::testing::ElementsAre("handoff-1", "handoff-2", "request-1", "request-2",
                                            "request-3"));
}

}  // namespace
}  // namespace hookguard

#include "server/ownership/lookup_coalescer.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

using ::testing::_;
using ::testing::ElementsAre;
using ::testing::Invoke;
using ::testing::MockFunction;

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

// The answer a test backend gives for `id`: a one-column row holding
// "owner-of-<id>", or not found for ids starting with "unknown".
LookupResult AnswerFor(absl::string_view id) {
  if (absl::StartsWith(id, "unknown")) return std::optional<LookupRow>();
  return std::optional<LookupRow>(LookupRow{absl::StrCat("owner-of-", id)});
}

std::string OwnerOf(const LookupResult& result) {
  if (!result.ok()) return std::string(result.status().ToString());
  if (!result->has_value()) return "not found";
  return (**result)[0].value_or("NULL");
}

std::vector<std::string> Ids(absl::Span<const absl::string_view> ids) {
  return std::vector<std::string>(ids.begin(), ids.end());
}

// Waits until `n` lookups are queued.
void WaitQueued(const LookupCoalescer& coalescer, size_t n) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (coalescer.queued() < n && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_EQ(coalescer.queued(), n);
}

// A backend whose first batch blocks until released, so that the test can
// queue lookups behind it; records every batch.
class BlockingBackend {
 public:
  LookupCoalescer::BatchFn Fn() {
    return [this](int connection, int kind, absl::Span<const absl::string_view> ids, absl::Time,
                  absl::Span<LookupResult> results) {
      if (first_.exchange(false)) {
        started_.Notify();
        release_.WaitForNotification();
      }
      {
        absl::MutexLock lock(&mu_);
        batches_.push_back({kind, Ids(ids)});
        connections_.push_back(connection);
      }
      for (size_t i = 0; i < ids.size(); ++i) results[i] = AnswerFor(ids[i]);
    };
  }
  void WaitStarted() { started_.WaitForNotification(); }
  void Release() { release_.Notify(); }
  std::vector<std::pair<int, std::vector<std::string>>> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }

 private:
  std::atomic<bool> first_{true};
  absl::Notification started_, release_;
  absl::Mutex mu_;
  std::vector<std::pair<int, std::vector<std::string>>> batches_;
  std::vector<int> connections_;
};

TEST(LookupCoalescerTest, ALoneLookupIsSentAtOnceAlone) {
  MockFunction<void(int, int, absl::Span<const absl::string_view>, absl::Time,
                    absl::Span<LookupResult>)>
      run;
  MockFunction<void(int, int)> observe;
  EXPECT_CALL(run, Call(_, 0, _, _, _))
      .WillOnce(Invoke([](int, int, absl::Span<const absl::string_view> ids, absl::Time,
                          absl::Span<LookupResult> results) {
        EXPECT_THAT(Ids(ids), ElementsAre("call_1"));
        results[0] = AnswerFor(ids[0]);
      }));
  EXPECT_CALL(observe, Call(0, 1));
  LookupCoalescer coalescer(2, {16}, run.AsStdFunction(), observe.AsStdFunction());
  EXPECT_EQ(OwnerOf(coalescer.Lookup(0, "call_1", Soon())), "owner-of-call_1");
}

TEST(LookupCoalescerTest, LookupsQueuedWhileEveryConnectionIsBusyGoOutInOneBatch) {
  BlockingBackend backend;
  std::vector<int> sizes;
  absl::Mutex sizes_mu;
  LookupCoalescer coalescer(1, {16}, backend.Fn(), [&](int, int size) {
    absl::MutexLock lock(&sizes_mu);
    sizes.push_back(size);
  });
  std::vector<std::string> answers(6);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { answers[0] = OwnerOf(coalescer.Lookup(0, "first", Soon())); });
  backend.WaitStarted();
  // Five lookups, two of them for the same id and one for an unknown id.
  const std::vector<std::string> ids = {"a", "b", "a", "unknown-c", "d"};
  for (size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] { answers[i + 1] = OwnerOf(coalescer.Lookup(0, ids[i], Soon())); });
    WaitQueued(coalescer, i + 1);  // keeps the queue in this order
  }
  backend.Release();
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(answers, ElementsAre("owner-of-first", "owner-of-a", "owner-of-b", "owner-of-a",
                                   "not found", "owner-of-d"));
  auto batches = backend.batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_THAT(batches[1].second, ElementsAre("a", "b", "a", "unknown-c", "d"));
  EXPECT_THAT(sizes, ElementsAre(1, 5));
  EXPECT_EQ(coalescer.queued(), 0u);
}

// Queued as the service queues (asynchronously, from one thread, so in a
// known order; blocking lookups may run their own batch as soon as a
// connection is free, which makes their order a race).
TEST(LookupCoalescerTest, BatchesStopAtTheKindsSizeAndNeverMixKinds) {
  BlockingBackend backend;
  // Kind 0 batches up to 2, kind 1 never batches.
  LookupCoalescer coalescer(1, {2, 1}, backend.Fn());
  std::thread first([&] { coalescer.Lookup(0, "first", Soon()).IgnoreError(); });
  backend.WaitStarted();
  const std::vector<std::pair<int, std::string>> queued = {
      {0, "x1"}, {1, "p1"}, {0, "x2"}, {0, "x3"}, {1, "p2"}, {0, "x4"}, {0, "x5"}};
  absl::Mutex mu;
  std::vector<std::string> answers(queued.size());
  int answered = 0;
  for (size_t i = 0; i < queued.size(); ++i) {
    coalescer.LookupAsync(queued[i].first, queued[i].second, Soon(), [&, i](LookupResult r) {
      absl::MutexLock lock(&mu);
      answers[i] = OwnerOf(r);
      ++answered;
    });
  }
  EXPECT_EQ(coalescer.queued(), queued.size());
  backend.Release();
  first.join();
  {
    absl::MutexLock lock(&mu);
    auto all = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return answered == static_cast<int>(queued.size());
    };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all), absl::Seconds(10)));
  }
  for (size_t i = 0; i < queued.size(); ++i) {
    EXPECT_EQ(answers[i], "owner-of-" + queued[i].second);
  }
  // Oldest first: the head's kind, then the other lookups of that kind.
  using Batch = std::pair<int, std::vector<std::string>>;
  EXPECT_THAT(backend.batches(),
              ElementsAre(Batch{0, {"first"}}, Batch{0, {"x1", "x2"}}, Batch{1, {"p1"}},
                          Batch{0, {"x3", "x4"}}, Batch{1, {"p2"}}, Batch{0, {"x5"}}));
}

TEST(LookupCoalescerTest, ErrorsStayWithTheirLookups) {
  BlockingBackend blocker;
  bool fail_batch = false;
  LookupCoalescer::BatchFn blocking = blocker.Fn();
  LookupCoalescer coalescer(1, {16},
                            [&](int connection, int kind, absl::Span<const absl::string_view> ids,
                                absl::Time deadline, absl::Span<LookupResult> results) {
                              blocking(connection, kind, ids, deadline, results);
                              for (size_t i = 0; i < ids.size(); ++i) {
                                if (fail_batch) {
                                  results[i] = absl::UnavailableError("database down");
                                } else if (ids[i] == "two-rows") {
                                  results[i] = absl::FailedPreconditionError("more than one row");
                                }
                              }
                            });
  std::vector<std::thread> threads;
  threads.emplace_back([&] { coalescer.Lookup(0, "first", Soon()).IgnoreError(); });
  blocker.WaitStarted();
  const std::vector<std::string> ids = {"a", "two-rows", "unknown-b", "c"};
  std::vector<LookupResult> answers(ids.size(), absl::UnknownError("not set"));
  for (size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] { answers[i] = coalescer.Lookup(0, ids[i], Soon()); });
    WaitQueued(coalescer, i + 1);
  }
  blocker.Release();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(OwnerOf(answers[0]), "owner-of-a");
  EXPECT_EQ(answers[1].status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(OwnerOf(answers[2]), "not found");
  EXPECT_EQ(OwnerOf(answers[3]), "owner-of-c");

  // A batch that fails as a whole: every lookup in it gets the error.
  fail_batch = true;
  for (const std::string id : {"x", "y"}) {
    LookupResult got = coalescer.Lookup(0, id, Soon());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << id;
  }
}

TEST(LookupCoalescerTest, AQueuedLookupGivesUpAtItsDeadlineAndIsNeverSent) {
  BlockingBackend backend;
  LookupCoalescer coalescer(1, {16}, backend.Fn());
  std::thread first([&] { coalescer.Lookup(0, "first", Soon()).IgnoreError(); });
  backend.WaitStarted();
  const absl::Time start = absl::Now();
  LookupResult late = coalescer.Lookup(0, "late", absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded) << late.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(coalescer.queued(), 0u);
  backend.Release();
  first.join();
  // The connection is free again, and "late" was never sent.
  EXPECT_EQ(OwnerOf(coalescer.Lookup(0, "next", Soon())), "owner-of-next");
  for (const auto& batch : backend.batches()) {
    EXPECT_THAT(batch.second, ::testing::Not(::testing::Contains("late")));
  }
}

TEST(LookupCoalescerTest, AnAnswerAfterTheDeadlineIsDeadlineExceeded) {
  LookupCoalescer coalescer(1, {16},
                            [](int, int, absl::Span<const absl::string_view> ids, absl::Time,
                               absl::Span<LookupResult> results) {
                              absl::SleepFor(absl::Milliseconds(30));
                              results[0] = AnswerFor(ids[0]);
                            });
  LookupResult got = coalescer.Lookup(0, "slow", absl::Now() + absl::Milliseconds(5));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDeadlineExceeded) << got.status();
}

TEST(LookupCoalescerTest, ManyThreadsGetTheirOwnAnswersAndConnectionsAreNeverShared) {
  constexpr int kConnections = 2;
  std::atomic<int> in_use[kConnections] = {};
  std::atomic<int> batched{0};
  LookupCoalescer coalescer(kConnections, {8, 8},
                            [&](int connection, int kind, absl::Span<const absl::string_view> ids,
                                absl::Time, absl::Span<LookupResult> results) {
                              EXPECT_EQ(in_use[connection].fetch_add(1), 0)
                                  << "connection " << connection << " shared";
                              if (ids.size() > 1) ++batched;
                              absl::SleepFor(absl::Microseconds(200));  // a database round trip
                              for (size_t i = 0; i < ids.size(); ++i) {
                                results[i] = AnswerFor(ids[i]);
                                if (kind == 1 && results[i]->has_value())
                                  (*results[i])->at(0) = absl::StrCat("kind1-", ids[i]);
                              }
                              in_use[connection].fetch_sub(1);
                            });
  constexpr int kThreads = 16, kEach = 200;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int kind = (t + i) % 2;
        const std::string id = absl::StrCat(i % 3 == 0 ? "unknown-" : "", t, "-", i);
        const std::string got = OwnerOf(coalescer.Lookup(kind, id, Soon()));
        const std::string want = absl::StartsWith(id, "unknown")
                                     ? "not found"
                                     : absl::StrCat(kind == 1 ? "kind1-" : "owner-of-", id);
        if (got != want) ++wrong;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(batched.load(), 0) << "16 threads on 2 connections never formed a batch";
  EXPECT_EQ(coalescer.queued(), 0u);
}

// What a callback saw: the answer, the thread it ran on, and how many
// answers followed it on that thread.
struct Answered {
  std::string owner;
  std::thread::id thread;
  int following = -1;
};

class Answers {
 public:
  LookupCoalescer::Done For(int slot) {
    return [this, slot](LookupResult result) {
      absl::MutexLock lock(&mu_);
      got_[slot] = {OwnerOf(result), std::this_thread::get_id(),
                    LookupCoalescer::AnswersFollowingOnThisThread()};
      ++count_;
    };
  }
  bool WaitFor(int n) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return count_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(10));
  }
  int count() {
    absl::MutexLock lock(&mu_);
    return count_;
  }
  Answered at(int slot) {
    absl::MutexLock lock(&mu_);
    return got_[slot];
  }

 private:
  absl::Mutex mu_;
  std::map<int, Answered> got_;
  int count_ = 0;
};

// A queued lookup holds no thread: LookupAsync returns at once, and the
// thread that runs the batch calls every callback, telling each how many
// answers follow it there.
TEST(LookupCoalescerTest, QueuedLookupsAreAnsweredByTheThreadThatRunsTheirBatch) {
  BlockingBackend backend;
  LookupCoalescer coalescer(1, {16}, backend.Fn());
  Answers answers;
  std::thread::id leader;
  std::thread first([&] {
    leader = std::this_thread::get_id();
    coalescer.LookupAsync(0, "first", Soon(), answers.For(0));
  });
  backend.WaitStarted();
  coalescer.LookupAsync(0, "a", Soon(), answers.For(1));
  coalescer.LookupAsync(0, "unknown-b", Soon(), answers.For(2));
  coalescer.LookupAsync(0, "c", Soon(), answers.For(3));
  EXPECT_EQ(coalescer.queued(), 3u);
  EXPECT_EQ(answers.count(), 0);  // nothing answered, nothing blocked here
  backend.Release();
  first.join();
  ASSERT_EQ(answers.count(), 4);  // all answered by the time `first` returned
  EXPECT_EQ(answers.at(0).owner, "owner-of-first");
  EXPECT_EQ(answers.at(1).owner, "owner-of-a");
  EXPECT_EQ(answers.at(2).owner, "not found");
  EXPECT_EQ(answers.at(3).owner, "owner-of-c");
  for (int slot = 0; slot < 4; ++slot) EXPECT_EQ(answers.at(slot).thread, leader) << slot;
  // "first" was answered while the next batch was already taken: 3 follow.
  EXPECT_EQ(answers.at(0).following, 3);
  EXPECT_EQ(answers.at(1).following, 2);
  EXPECT_EQ(answers.at(2).following, 1);
  EXPECT_EQ(answers.at(3).following, 0);
  EXPECT_THAT(backend.batches(),
              ElementsAre(std::make_pair(0, std::vector<std::string>{"first"}),
                          std::make_pair(0, std::vector<std::string>{"a", "unknown-b", "c"})));
  EXPECT_EQ(LookupCoalescer::AnswersFollowingOnThisThread(), 0);
}

// While every connection hangs, a queued lookup is answered at its deadline
// by the coalescer's timer, without a query, and nobody waited for it.
TEST(LookupCoalescerTest, AQueuedLookupIsAnsweredAtItsDeadlineWhileEveryConnectionHangs) {
  BlockingBackend backend;
  LookupCoalescer coalescer(1, {16}, backend.Fn());
  Answers answers;
  std::thread first([&] { coalescer.LookupAsync(0, "first", Soon(), answers.For(0)); });
  backend.WaitStarted();
  const absl::Time start = absl::Now();
  coalescer.LookupAsync(0, "late", start + absl::Milliseconds(50), answers.For(1));
  ASSERT_TRUE(answers.WaitFor(1));
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(50));
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_THAT(answers.at(1).owner, ::testing::HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_NE(answers.at(1).thread, std::this_thread::get_id());
  EXPECT_EQ(coalescer.queued(), 0u);
  backend.Release();
  first.join();
  for (const auto& batch : backend.batches()) {
    EXPECT_THAT(batch.second, ::testing::Not(::testing::Contains("late")));
  }
}

// A blocking lookup (the health ping) returns once its own answer is in;
// the connection goes on serving the queue on the Handoff's thread.
TEST(LookupCoalescerTest, ABlockingLookupHandsTheQueueOnWhenItsAnswerIsIn) {
  BlockingBackend backend;
  std::vector<std::thread> handed;
  absl::Mutex handed_mu;
  LookupCoalescer coalescer(1, {16}, backend.Fn(), nullptr, [&](std::function<void()> work) {
    absl::MutexLock lock(&handed_mu);
    handed.emplace_back(std::move(work));
  });
  Answers answers;
  std::string own;
  std::thread ping([&] { own = OwnerOf(coalescer.Lookup(0, "ping", Soon())); });
  backend.WaitStarted();
  coalescer.LookupAsync(0, "queued", Soon(), answers.For(0));
  backend.Release();
  ping.join();
  EXPECT_EQ(own, "owner-of-ping");
  ASSERT_TRUE(answers.WaitFor(1));
  EXPECT_EQ(answers.at(0).owner, "owner-of-queued");
  {
    absl::MutexLock lock(&handed_mu);
    ASSERT_EQ(handed.size(), 1u);
    EXPECT_EQ(answers.at(0).thread, handed.front().get_id());
  }
  for (std::thread& t : handed) t.join();
  // The connection came back: a new lookup runs at once, here.
  coalescer.LookupAsync(0, "after", Soon(), answers.For(1));
  EXPECT_EQ(answers.at(1).thread, std::this_thread::get_id());
}

// Callbacks may look up again (the resolution chain's next step) from
// inside a delivery, on a connection that is free by then.
TEST(LookupCoalescerTest, ACallbackMayLookUpAgain) {
  LookupCoalescer coalescer(1, {16},
                            [](int, int, absl::Span<const absl::string_view> ids, absl::Time,
                               absl::Span<LookupResult> results) {
                              for (size_t i = 0; i < ids.size(); ++i)
                                results[i] = AnswerFor(ids[i]);
                            });
  std::string second;
  coalescer.LookupAsync(0, "unknown-call", Soon(), [&](LookupResult first) {
    EXPECT_EQ(OwnerOf(first), "not found");
    coalescer.LookupAsync(0, "phone", Soon(), [&](LookupResult next) { second = OwnerOf(next); });
  });
  EXPECT_EQ(second, "owner-of-phone");
}

// Threads a Handoff starts, joined by the test.
class HandoffThreads {
 public:
  LookupCoalescer::Handoff Fn() {
    return [this](std::function<void()> work) {
      absl::MutexLock lock(&mu_);
      threads_.emplace_back(std::move(work));
    };
  }
  void Join() {
    std::vector<std::thread> threads;
    {
      absl::MutexLock lock(&mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::thread> threads_;
};

// Issue 26 item 10: a callback that looks up again (an event without a call
// row tries the phone number next) under a steady stream of new lookups.
// Its follow-up is queued, and its batch runs only once the other answers
// of the batch that carried it are delivered: they never wait for the
// queue.
TEST(LookupCoalescerTest, AFollowUpLookupWaitsUntilItsBatchIsDelivered) {
  absl::Mutex mu;
  std::vector<std::string> events;
  auto note = [&](std::string event) {
    absl::MutexLock lock(&mu);
    events.push_back(std::move(event));
  };
  BlockingBackend blocker;
  LookupCoalescer::BatchFn blocking = blocker.Fn();
  LookupCoalescer* self = nullptr;
  std::vector<std::string> stream;  // ids of the steady stream, kept alive
  for (int i = 0; i < 20; ++i) stream.push_back(absl::StrCat("new-", i));
  std::atomic<int> next_new{0};
  LookupCoalescer coalescer(1, {4},
                            [&](int connection, int kind, absl::Span<const absl::string_view> ids,
                                absl::Time deadline, absl::Span<LookupResult> results) {
                              blocking(connection, kind, ids, deadline, results);
                              note(absl::StrCat("batch:", absl::StrJoin(ids, ",")));
                              // From the follow-up's batch on, new requests
                              // keep arriving while each batch runs.
                              if (ids[0] != "phone" && !absl::StartsWith(ids[0], "new-")) return;
                              if (const int n = next_new++; n < 20) {
                                self->LookupAsync(0, stream[n], Soon(), [](LookupResult) {});
                              }
                            });
  self = &coalescer;
  std::thread first([&] {
    coalescer.LookupAsync(0, "first", Soon(), [&](LookupResult) { note("deliver:first"); });
  });
  blocker.WaitStarted();
  coalescer.LookupAsync(0, "unknown-call", Soon(), [&](LookupResult r) {
    note("deliver:unknown-call");
    EXPECT_EQ(OwnerOf(r), "not found");
    coalescer.LookupAsync(0, "phone", Soon(), [&](LookupResult) { note("deliver:phone"); });
  });
  coalescer.LookupAsync(0, "b", Soon(), [&](LookupResult) { note("deliver:b"); });
  coalescer.LookupAsync(0, "c", Soon(), [&](LookupResult) { note("deliver:c"); });
  blocker.Release();
  first.join();
  absl::MutexLock lock(&mu);
  auto at = [&](const std::string& event) {
    return std::find(events.begin(), events.end(), event) - events.begin();
  };
  ASSERT_LT(at("deliver:c"), static_cast<long>(events.size())) << absl::StrJoin(events, " ");
  const long phone_batch =
      std::find_if(events.begin(), events.end(),
                   [](const std::string& e) {
                     return absl::StartsWith(e, "batch:") && absl::StrContains(e, "phone");
                   }) -
      events.begin();
  EXPECT_LT(at("deliver:b"), phone_batch) << absl::StrJoin(events, " ");
  EXPECT_LT(at("deliver:c"), phone_batch) << absl::StrJoin(events, " ");
  EXPECT_LT(phone_batch, static_cast<long>(events.size())) << absl::StrJoin(events, " ");
  EXPECT_LT(at("deliver:phone"), static_cast<long>(events.size()));
}

// A lookup queued behind a batch whose delivery blocks (a stalled audit log)
// stays within the timer's reach: it is answered at its deadline.
TEST(LookupCoalescerTest, ALookupQueuedBehindABlockedDeliveryGivesUpAtItsDeadline) {
  BlockingBackend backend;
  LookupCoalescer coalescer(1, {16}, backend.Fn());
  absl::Notification unblock;
  Answers answers;
  std::thread first([&] {
    coalescer.LookupAsync(0, "first", Soon(), [&](LookupResult) { unblock.WaitForNotification(); });
  });
  backend.WaitStarted();
  coalescer.LookupAsync(0, "late", absl::Now() + absl::Milliseconds(100), answers.For(0));
  backend.Release();
  const bool answered = answers.WaitFor(1);
  unblock.Notify();
  first.join();
  ASSERT_TRUE(answered) << "a taken lookup was out of the timer's reach";
  EXPECT_THAT(answers.at(0).owner, ::testing::HasSubstr("DEADLINE_EXCEEDED"));
}

// Issue 26 item 13: the timer hands expired requests' callbacks to the
// Handoff, so one that blocks (a stalled audit log) never stops the
// deadlines of others, such as the health ping's.
TEST(LookupCoalescerTest, ACallbackThatBlocksNeverStopsTheTimer) {
  BlockingBackend backend;
  HandoffThreads handed;
  LookupCoalescer coalescer(1, {16, 1}, backend.Fn(), nullptr, handed.Fn());
  std::thread first([&] { coalescer.LookupAsync(0, "first", Soon(), [](LookupResult) {}); });
  backend.WaitStarted();  // the only connection hangs
  absl::Notification unblock;
  coalescer.LookupAsync(0, "request", absl::Now() + absl::Milliseconds(20),
                        [&](LookupResult) { unblock.WaitForNotification(); });
  absl::Notification pinged;
  LookupResult ping = absl::UnknownError("not set");
  std::thread health([&] {
    ping = coalescer.Lookup(1, "ping", absl::Now() + absl::Milliseconds(300));
    pinged.Notify();
  });
  const bool answered = pinged.WaitForNotificationWithTimeout(absl::Seconds(3));
  unblock.Notify();
  backend.Release();
  health.join();
  first.join();
  handed.Join();
  ASSERT_TRUE(answered) << "the ping waited behind a blocked callback";
  EXPECT_EQ(ping.status().code(), absl::StatusCode::kDeadlineExceeded);
}

// Issue 26 item 13: the health ping (a blocking Lookup) finds the only
// connection free while a request's lookup is queued, every thread that
// could serve it being blocked in a callback (a stalled audit log; the
// Handoff's tasks wait here for a free worker). The ping runs its own batch
// at once and delivers no other answer: it never blocks in a request's
// callback.
TEST(LookupCoalescerTest, TheHealthPingRunsAloneAndDeliversNoOtherAnswer) {
  BlockingBackend backend;
  absl::Mutex mu;
  std::vector<std::function<void()>> waiting;  // the Handoff's, run at the end
  LookupCoalescer coalescer(1, {16, 1}, backend.Fn(), nullptr, [&](std::function<void()> work) {
    absl::MutexLock lock(&mu);
    waiting.push_back(std::move(work));
  });
  absl::Notification unblock, first_delivered;
  std::thread first([&] {
    coalescer.LookupAsync(0, "first", Soon(), [&](LookupResult) {
      first_delivered.Notify();
      unblock.WaitForNotification();  // the audit write that never returns
    });
  });
  backend.WaitStarted();
  Answers answers;
  coalescer.LookupAsync(0, "request", Soon(), [&](LookupResult r) {
    answers.For(0)(std::move(r));
    unblock.WaitForNotification();
  });
  backend.Release();
  first_delivered.WaitForNotification();  // the connection is free, "request" queued
  absl::Notification pinged;
  std::string ping;
  std::thread health([&] {
    ping = OwnerOf(coalescer.Lookup(1, "ping", absl::Now() + absl::Seconds(2)));
    pinged.Notify();
  });
  const bool answered = pinged.WaitForNotificationWithTimeout(absl::Seconds(5));
  unblock.Notify();
  health.join();
  first.join();
  for (bool more = true; more;) {
    std::vector<std::function<void()>> tasks;
    {
      absl::MutexLock lock(&mu);
      tasks.swap(waiting);
    }
    more = !tasks.empty();
    for (auto& task : tasks) task();
  }
  ASSERT_TRUE(answered) << "the ping blocked in another lookup's callback";
  EXPECT_EQ(ping, "owner-of-ping");
  ASSERT_TRUE(answers.WaitFor(1));
  EXPECT_EQ(answers.at(0).owner, "owner-of-request");
}

}  // namespace
}  // namespace hookguard

#include "server/ownership/caching_ownership_store.h"

#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ownership/mock_ownership_store.h"

namespace hookguard {
namespace {

using ::testing::_;
using ::testing::Return;

// The fake monotonic clock starts here; the deadline is wall time and is
// not what the cache ages rows on.
constexpr absl::Duration kStart = absl::Hours(1);
const absl::Time kDeadline = absl::FromUnixSeconds(1700000001);

CallOwnership Row(const std::string& owner) {
  CallOwnership row;
  row.owner_id = owner;
  row.assistant_id = "asst";
  row.assistant_owner_id = owner;
  return row;
}

absl::StatusOr<std::optional<CallOwnership>> Found(const std::string& owner) {
  return std::optional<CallOwnership>(Row(owner));
}

absl::StatusOr<std::optional<CallOwnership>> NotFound() { return std::optional<CallOwnership>(); }

class CachingOwnershipStoreTest : public ::testing::Test {
 protected:
  CachingOwnershipStore Make(absl::Duration ttl, size_t max_entries = 100) {
    return CachingOwnershipStore(inner_, OwnershipCacheOptions{ttl, max_entries},
                                 [this] { return now_; });
  }

  MockOwnershipStore inner_;
  absl::Duration now_ = kStart;
};

TEST_F(CachingOwnershipStoreTest, ServesAFoundRowFromTheCacheWithinTheTtl) {
  CachingOwnershipStore cache = Make(absl::Milliseconds(500));
  EXPECT_CALL(inner_, FindCall(absl::string_view("call-1"), _))
      .Times(1)
      .WillOnce(Return(Found("1")));
  for (int i = 0; i < 3; ++i) {
    auto found = cache.FindCall("call-1", kDeadline);
    ASSERT_TRUE(found.ok());
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->owner_id, "1");
    now_ += absl::Milliseconds(100);
  }
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST_F(CachingOwnershipStoreTest, AsksTheDatabaseAgainOnceTheTtlHasPassed) {
  CachingOwnershipStore cache = Make(absl::Milliseconds(500));
  EXPECT_CALL(inner_, FindCall(absl::string_view("call-1"), _))
      .WillOnce(Return(Found("1")))
      .WillOnce(Return(Found("2")));  // reassigned meanwhile
  ASSERT_EQ((*cache.FindCall("call-1", kDeadline))->owner_id, "1");
  now_ += absl::Milliseconds(500);
  ASSERT_EQ((*cache.FindCall("call-1", kDeadline))->owner_id, "2");
}

// The wall clock stepped back (NTP, a resumed VM) used to keep rows for
// the TTL plus the step: a row must never be served from "the future".
TEST_F(CachingOwnershipStoreTest, ARowIsNotServedWhenTheClockRunsBackwards) {
  CachingOwnershipStore cache = Make(absl::Milliseconds(500));
  EXPECT_CALL(inner_, FindCall(absl::string_view("call-1"), _))
      .WillOnce(Return(Found("1")))
      .WillOnce(Return(Found("2")));  // reassigned meanwhile
  ASSERT_EQ((*cache.FindCall("call-1", kDeadline))->owner_id, "1");
  now_ -= absl::Hours(1) / 2;
  ASSERT_EQ((*cache.FindCall("call-1", kDeadline))->owner_id, "2");
}

TEST(MonotonicNow, NeverGoesBack) {
  absl::Duration last = MonotonicNow();
  for (int i = 0; i < 1000; ++i) {
    const absl::Duration now = MonotonicNow();
    EXPECT_GE(now, last);
    last = now;
  }
}

TEST_F(CachingOwnershipStoreTest, NeverCachesNotFound) {
  CachingOwnershipStore cache = Make(absl::Seconds(10));
  EXPECT_CALL(inner_, FindCall(absl::string_view("new-call"), _))
      .WillOnce(Return(NotFound()))
      .WillOnce(Return(Found("1")));  // the row appears: answered at once
  auto first = cache.FindCall("new-call", kDeadline);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value());
  auto second = cache.FindCall("new-call", kDeadline);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->has_value());
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(CachingOwnershipStoreTest, NeverCachesErrors) {
  CachingOwnershipStore cache = Make(absl::Seconds(10));
  EXPECT_CALL(inner_, FindCall(absl::string_view("call-1"), _))
      .WillOnce(Return(absl::UnavailableError("db down")))
      .WillOnce(Return(absl::DeadlineExceededError("slow")))
      .WillOnce(Return(absl::FailedPreconditionError("two rows")))
      .WillOnce(Return(Found("1")));
  EXPECT_EQ(cache.FindCall("call-1", kDeadline).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(cache.FindCall("call-1", kDeadline).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(cache.FindCall("call-1", kDeadline).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_TRUE(cache.FindCall("call-1", kDeadline).ok());
}

TEST_F(CachingOwnershipStoreTest, ACachedRowDoesNotHideAnOutageFromOtherCalls) {
  CachingOwnershipStore cache = Make(absl::Seconds(10));
  EXPECT_CALL(inner_, FindCall(absl::string_view("call-1"), _)).WillOnce(Return(Found("1")));
  EXPECT_CALL(inner_, FindCall(absl::string_view("call-2"), _))
      .WillOnce(Return(absl::UnavailableError("down")));
  ASSERT_TRUE(cache.FindCall("call-1", kDeadline).ok());
  EXPECT_FALSE(cache.FindCall("call-2", kDeadline).ok());
}

TEST_F(CachingOwnershipStoreTest, StaysWithinMaxEntriesEvictingTheOldest) {
  CachingOwnershipStore cache = Make(absl::Seconds(10), /*max_entries=*/2);
  EXPECT_CALL(inner_, FindCall(absl::string_view("a"), _))
      .Times(2)
      .WillRepeatedly(Return(Found("1")));
  EXPECT_CALL(inner_, FindCall(absl::string_view("b"), _))
      .Times(1)
      .WillRepeatedly(Return(Found("1")));
  EXPECT_CALL(inner_, FindCall(absl::string_view("c"), _))
      .Times(1)
      .WillRepeatedly(Return(Found("1")));
  for (const char* id : {"a", "b", "c"}) {
    ASSERT_TRUE(cache.FindCall(id, kDeadline).ok());
    now_ += absl::Milliseconds(1);
  }
  EXPECT_EQ(cache.size(), 2u);
  ASSERT_TRUE(cache.FindCall("c", kDeadline).ok());  // still cached
  ASSERT_TRUE(cache.FindCall("b", kDeadline).ok());  // still cached
  ASSERT_TRUE(cache.FindCall("a", kDeadline).ok());  // evicted: asks again
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(CachingOwnershipStoreTest, ExpiredRowsLeaveTheCacheOnTheNextInsert) {
  CachingOwnershipStore cache = Make(absl::Milliseconds(100));
  EXPECT_CALL(inner_, FindCall(_, _)).WillRepeatedly(Return(Found("1")));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(cache.FindCall("call-" + std::to_string(i), kDeadline).ok());
    now_ += absl::Milliseconds(10);
  }
  // Only the rows of the last 100 ms remain.
  EXPECT_LE(cache.size(), 11u);
}

TEST_F(CachingOwnershipStoreTest, ZeroTtlPassesEverythingThrough) {
  CachingOwnershipStore cache = Make(absl::ZeroDuration());
  EXPECT_CALL(inner_, FindCall(absl::string_view("call-1"), _))
      .Times(3)
      .WillRepeatedly(Return(Found("1")));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cache.FindCall("call-1", kDeadline).ok());
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(CachingOwnershipStoreTest, PingAlwaysReachesTheDatabase) {
  CachingOwnershipStore cache = Make(absl::Seconds(10));
  EXPECT_CALL(inner_, Ping(_)).WillOnce(Return(absl::UnavailableError("down")));
  EXPECT_EQ(cache.Ping(kDeadline).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace hookguard

namespace hookguard {
namespace {

using ::testing::_;
using ::testing::Return;

using Owner = std::optional<std::string>;

TEST_F(CachingOwnershipStoreTest, CachesFoundSubjectOwnersPerQueryWithinTheTtl) {
  CachingOwnershipStore cache = Make(absl::Seconds(2));
  EXPECT_CALL(inner_, FindSubjectOwner(0, absl::string_view("acct_a"), _))
      .WillOnce(Return(Owner("1")));
  EXPECT_CALL(inner_, FindSubjectOwner(1, absl::string_view("acct_a"), _))
      .WillOnce(Return(Owner("9")));
  EXPECT_EQ(*cache.FindSubjectOwner(0, "acct_a", kDeadline), "1");
  EXPECT_EQ(*cache.FindSubjectOwner(0, "acct_a", kDeadline), "1");  // from the cache
  // Another query's id of the same text is another entry; so is a call id.
  EXPECT_EQ(*cache.FindSubjectOwner(1, "acct_a", kDeadline), "9");
  EXPECT_CALL(inner_, FindCall(absl::string_view("acct_a"), _)).WillOnce(Return(NotFound()));
  EXPECT_FALSE(cache.FindCall("acct_a", kDeadline)->has_value());
  EXPECT_EQ(cache.hits(), 1u);
}

TEST_F(CachingOwnershipStoreTest, NeverCachesAMissingSubjectOrAnError) {
  CachingOwnershipStore cache = Make(absl::Seconds(2));
  EXPECT_CALL(inner_, FindSubjectOwner(0, absl::string_view("new"), _))
      .WillOnce(Return(Owner()))
      .WillOnce(Return(absl::UnavailableError("down")))
      .WillOnce(Return(Owner("3")));
  EXPECT_FALSE(cache.FindSubjectOwner(0, "new", kDeadline)->has_value());
  EXPECT_EQ(cache.FindSubjectOwner(0, "new", kDeadline).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(*cache.FindSubjectOwner(0, "new", kDeadline), "3");
}

TEST_F(CachingOwnershipStoreTest, SubjectLookupsPassThroughWhenOff) {
  CachingOwnershipStore cache = Make(absl::ZeroDuration());
  EXPECT_CALL(inner_, FindSubjectOwner(0, absl::string_view("acct_a"), _))
      .Times(2)
      .WillRepeatedly(Return(Owner("1")));
  EXPECT_EQ(*cache.FindSubjectOwner(0, "acct_a", kDeadline), "1");
  EXPECT_EQ(*cache.FindSubjectOwner(0, "acct_a", kDeadline), "1");
}

}  // namespace
}  // namespace hookguard

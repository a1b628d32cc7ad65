#include "server/ownership/replica_ownership_store.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ownership/mock_ownership_store.h"

namespace hookguard {
namespace {

using ::testing::_;
using ::testing::Return;

const absl::Time kDeadline = absl::InfiniteFuture();

CallAnswer Found(const std::string& owner) {
  CallOwnership row;
  row.owner_id = owner;
  return std::optional<CallOwnership>(row);
}
CallAnswer NotFound() { return std::optional<CallOwnership>(); }

// A replica whose measured lag the test sets; records what the store
// reports.
class ReplicaOwnershipStoreTest : public ::testing::Test {
 protected:
  ReplicaOwnershipStore* Make(absl::Duration max_lag = absl::Seconds(5)) {
    ReplicaStoreOptions options;
    options.max_lag = max_lag;
    options.probe_interval = absl::ZeroDuration();  // the test calls Probe()
    options.on_lookup = [this](LookupTarget target) {
      absl::MutexLock lock(&mu_);
      ++lookups_[target];
    };
    options.on_absence_checked = [this](bool found) {
      absl::MutexLock lock(&mu_);
      absences_.push_back(found);
    };
    options.on_lag = [this](std::optional<absl::Duration>, bool) {
      absl::MutexLock lock(&mu_);
      ++measurements_;
    };
    store_ = std::make_unique<ReplicaOwnershipStore>(
        replica_, primary_,
        [this]() -> absl::StatusOr<std::optional<absl::Duration>> {
          absl::MutexLock lock(&mu_);
          return lag_;
        },
        options);
    return store_.get();
  }

  // The replica measures `lag` from now on.
  void SetLag(absl::StatusOr<std::optional<absl::Duration>> lag) {
    {
      absl::MutexLock lock(&mu_);
      lag_ = std::move(lag);
    }
    store_->Probe();
  }

  int Lookups(LookupTarget target) {
    absl::MutexLock lock(&mu_);
    return lookups_[target];
  }
  std::vector<bool> Absences() {
    absl::MutexLock lock(&mu_);
    return absences_;
  }

  MockOwnershipStore replica_;
  MockOwnershipStore primary_;
  std::unique_ptr<ReplicaOwnershipStore> store_;
  absl::Mutex mu_;
  absl::StatusOr<std::optional<absl::Duration>> lag_ ABSL_GUARDED_BY(mu_) =
      std::optional<absl::Duration>(absl::ZeroDuration());
  int measurements_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<LookupTarget, int> lookups_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> absences_ ABSL_GUARDED_BY(mu_);
};

TEST_F(ReplicaOwnershipStoreTest, ARowOnTheReplicaIsAnsweredWithoutThePrimary) {
  auto store = Make();
  SetLag(std::optional<absl::Duration>(absl::Milliseconds(20)));
  EXPECT_CALL(replica_, FindCall(absl::string_view("c1"), _)).WillOnce(Return(Found("7")));
  EXPECT_CALL(primary_, FindCall(_, _)).Times(0);
  CallAnswer answer = store->FindCall("c1", kDeadline);
  ASSERT_TRUE(answer.ok() && answer->has_value());
  EXPECT_EQ((*answer)->owner_id, "7");
  EXPECT_EQ(Lookups(LookupTarget::kReplica), 1);
  EXPECT_EQ(Lookups(LookupTarget::kPrimary), 0);
}

// Replication lag: the app stored the call a moment ago, the replica has
// not replayed it yet. The primary's row is the answer, never a 404.
TEST_F(ReplicaOwnershipStoreTest, AnAbsenceOnTheReplicaIsConfirmedOnThePrimary) {
  auto store = Make();
  SetLag(std::optional<absl::Duration>(absl::Milliseconds(20)));
  EXPECT_CALL(replica_, FindCall(absl::string_view("new"), _)).WillOnce(Return(NotFound()));
  EXPECT_CALL(primary_, FindCall(absl::string_view("new"), _)).WillOnce(Return(Found("7")));
  CallAnswer answer = store->FindCall("new", kDeadline);
  ASSERT_TRUE(answer.ok() && answer->has_value());
  EXPECT_EQ((*answer)->owner_id, "7");
  EXPECT_EQ(Absences(), std::vector<bool>{true});  // found after all
}

TEST_F(ReplicaOwnershipStoreTest, AnAbsenceConfirmedOnThePrimaryIsNotFound) {
  auto store = Make();
  SetLag(std::optional<absl::Duration>(absl::ZeroDuration()));
  EXPECT_CALL(replica_, FindOwner(OwnerLookup::kPhoneNumber, absl::string_view("pn"), _))
      .WillOnce(Return(std::optional<std::string>()));
  EXPECT_CALL(primary_, FindOwner(OwnerLookup::kPhoneNumber, absl::string_view("pn"), _))
      .WillOnce(Return(std::optional<std::string>()));
  OwnerAnswer answer = store->FindOwner(OwnerLookup::kPhoneNumber, "pn", kDeadline);
  ASSERT_TRUE(answer.ok());
  EXPECT_FALSE(answer->has_value());
  EXPECT_EQ(Absences(), std::vector<bool>{false});
}

// A subject (issue #24) is routed as a call: the replica's row is the
// answer, and the primary is not asked.
TEST_F(ReplicaOwnershipStoreTest, ASubjectRowOnTheReplicaIsAnsweredWithoutThePrimary) {
  auto store = Make();
  SetLag(std::optional<absl::Duration>(absl::Milliseconds(20)));
  EXPECT_CALL(replica_, FindSubjectOwner(1, absl::string_view("acct_1"), _))
      .WillOnce(Return(std::optional<std::string>("7")));
  EXPECT_CALL(primary_, FindSubjectOwner(_, _, _)).Times(0);
  OwnerAnswer answer = store->FindSubjectOwner(1, "acct_1", kDeadline);
  ASSERT_TRUE(answer.ok() && answer->has_value());
  EXPECT_EQ(**answer, "7");
  EXPECT_EQ(Lookups(LookupTarget::kReplica), 1);
  EXPECT_EQ(Lookups(LookupTarget::kPrimary), 0);
  EXPECT_TRUE(Absences().empty());
}

// A subject absent on the replica (an account connected a moment ago) is
// asked of the primary with the same query and id: its row is the answer,
// never an unconfirmed SUBJECT_NOT_FOUND. Both forms (blocking, async).
TEST_F(ReplicaOwnershipStoreTest, ASubjectAbsenceOnTheReplicaIsConfirmedOnThePrimary) {
  auto store = Make();
  SetLag(std::optional<absl::Duration>(absl::Milliseconds(20)));
  EXPECT_CALL(replica_, FindSubjectOwner(2, absl::string_view("acct_new"), _))
      .Times(2)
      .WillRepeatedly(Return(std::optional<std::string>()));
  EXPECT_CALL(primary_, FindSubjectOwner(2, absl::string_view("acct_new"), _))
      .Times(2)
      .WillRepeatedly(Return(std::optional<std::string>("7")));
  OwnerAnswer answer = store->FindSubjectOwner(2, "acct_new", kDeadline);
  ASSERT_TRUE(answer.ok() && answer->has_value());
  EXPECT_EQ(**answer, "7");
  OwnerAnswer async_answer = absl::UnknownError("not answered");
  store->FindSubjectOwnerAsync(2, "acct_new", kDeadline,
                               [&](OwnerAnswer found) { async_answer = std::move(found); });
  ASSERT_TRUE(async_answer.ok() && async_answer->has_value());
  EXPECT_EQ(**async_answer, "7");
  EXPECT_EQ(Absences(), (std::vector<bool>{true, true}));  // found after all
}

// With the primary down, a subject absence cannot be confirmed: UNAVAILABLE,
// never SUBJECT_NOT_FOUND.
TEST_F(ReplicaOwnershipStoreTest, ASubjectAbsenceWithThePrimaryDownIsUnavailable) {
  auto store = Make();
  SetLag(std::optional<absl::Duration>(absl::ZeroDuration()));
  EXPECT_CALL(replica_, FindSubjectOwner(0, absl::string_view("acct_x"), _))
      .WillOnce(Return(std::optional<std::string>()));
  EXPECT_CALL(primary_, FindSubjectOwner(0, absl::string_view("acct_x"), _))
      .WillOnce(Return(absl::UnavailableError("primary down")));
  OwnerAnswer answer = store->FindSubjectOwner(0, "acct_x", kDeadline);
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable);
}

// The primary down: rows the replica has are still answered; an absence
// cannot be confirmed, so it fails closed instead of a 404.
TEST_F(ReplicaOwnershipStoreTest, WithThePrimaryDownAnUnconfirmedAbsenceIsUnavailable) {
  auto store = Make();
  SetLag(std::optional<absl::Duration>(absl::ZeroDuration()));
  EXPECT_CALL(replica_, FindCall(absl::string_view("stored"), _)).WillOnce(Return(Found("7")));
  EXPECT_CALL(replica_, FindCall(absl::string_view("new"), _)).WillOnce(Return(NotFound()));
  EXPECT_CALL(primary_, FindCall(absl::string_view("new"), _))
      .WillOnce(Return(absl::UnavailableError("primary down")));
  EXPECT_TRUE(store->FindCall("stored", kDeadline).ok());
  CallAnswer answer = store->FindCall("new", kDeadline);
  EXPECT_TRUE(absl::IsUnavailable(answer.status())) << answer.status();
  EXPECT_TRUE(Absences().empty());
}

// The replica down: the lookup is answered by the primary, and the next
// ones go straight there until the replica measures well again.
TEST_F(ReplicaOwnershipStoreTest, AFailingReplicaIsLeftOutUntilItMeasuresWellAgain) {
  auto store = Make();
  SetLag(std::optional<absl::Duration>(absl::ZeroDuration()));
  EXPECT_CALL(replica_, FindCall(_, _))
      .WillOnce(Return(absl::UnavailableError("replica down")))
      .WillRepeatedly(Return(Found("7")));
  EXPECT_CALL(primary_, FindCall(_, _)).WillRepeatedly(Return(Found("7")));
  EXPECT_TRUE(store->FindCall("a", kDeadline).ok());
  EXPECT_FALSE(store->replica_in_use());
  EXPECT_TRUE(store->FindCall("b", kDeadline).ok());
  EXPECT_EQ(Lookups(LookupTarget::kReplica), 1);
  EXPECT_EQ(Lookups(LookupTarget::kPrimary), 2);

  SetLag(std::optional<absl::Duration>(absl::ZeroDuration()));
  EXPECT_TRUE(store->replica_in_use());
  EXPECT_TRUE(store->FindCall("c", kDeadline).ok());
  EXPECT_EQ(Lookups(LookupTarget::kReplica), 2);
}

// Bounded staleness: while the replica is further behind than the bound,
// or cannot say how far, every lookup reads the primary.
TEST_F(ReplicaOwnershipStoreTest, ALagAboveTheBoundOrUnknownSendsEveryLookupToThePrimary) {
  auto store = Make(absl::Milliseconds(500));
  EXPECT_CALL(replica_, FindCall(_, _)).Times(0);
  EXPECT_CALL(primary_, FindCall(_, _)).WillRepeatedly(Return(Found("7")));
  for (auto lag : std::vector<absl::StatusOr<std::optional<absl::Duration>>>{
           std::optional<absl::Duration>(absl::Milliseconds(501)), std::optional<absl::Duration>(),
           absl::DeadlineExceededError("slow")}) {
    SetLag(lag);
    EXPECT_FALSE(store->replica_in_use());
    EXPECT_TRUE(store->FindCall("c", kDeadline).ok());
  }
  EXPECT_EQ(Lookups(LookupTarget::kPrimary), 3);
}

// A replica error that is not "unreachable" (a row that breaks the contract
// on the replica) is asked of the primary, whose answer stands.
TEST_F(ReplicaOwnershipStoreTest, AnyReplicaErrorIsAnsweredByThePrimary) {
  auto store = Make();
  SetLag(std::optional<absl::Duration>(absl::ZeroDuration()));
  EXPECT_CALL(replica_, FindCall(_, _)).WillOnce(Return(absl::FailedPreconditionError("two rows")));
  EXPECT_CALL(primary_, FindCall(_, _)).WillOnce(Return(Found("7")));
  CallAnswer answer = store->FindCall("c", kDeadline);
  ASSERT_TRUE(answer.ok() && answer->has_value());
  EXPECT_TRUE(store->replica_in_use());
}

TEST_F(ReplicaOwnershipStoreTest, ServesWhileEitherDatabaseCanAnswer) {
  auto store = Make();
  SetLag(std::optional<absl::Duration>(absl::ZeroDuration()));
  EXPECT_CALL(primary_, Ping(_))
      .WillOnce(Return(absl::OkStatus()))
      .WillRepeatedly(Return(absl::UnavailableError("primary down")));
  EXPECT_CALL(replica_, Ping(_))
      .WillOnce(Return(absl::OkStatus()))
      .WillOnce(Return(absl::UnavailableError("replica down")));
  EXPECT_TRUE(store->Ping(kDeadline).ok());   // both up
  EXPECT_TRUE(store->Ping(kDeadline).ok());   // primary down, replica answers
  EXPECT_FALSE(store->Ping(kDeadline).ok());  // both down
  SetLag(absl::UnavailableError("replica down"));
  EXPECT_FALSE(store->Ping(kDeadline).ok());  // primary down, replica not in use
}

}  // namespace
}  // namespace hookguard

// The SOCI store against a real PostgreSQL: lookups, the database going away
// (UNAVAILABLE within the deadline, never a hang) and coming back (the store
// recovers without being reopened). threat-table rows 10 and 11.
#include <chrono>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ownership/soci_ownership_store.h"
#include "tests/support/fixtures.h"
#include "tests/support/postgres_for_test.h"

namespace hookguard {
namespace {

class SociOwnershipStorePgTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<testing::PostgresForTest>> server =
        testing::PostgresForTest::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
    for (const std::string& file : testing::DjangoFixtureFiles()) {
      ASSERT_TRUE(server_->RunSqlFile(file).ok()) << file;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static std::unique_ptr<SociOwnershipStore> OpenStore(std::string query = "") {
    SociStoreOptions options;
    options.connection_string = server_->ConnectionString();
    options.pool_size = 2;
    options.call_query = std::move(query);
    options.query_timeout = absl::Seconds(2);
    auto store = SociOwnershipStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static testing::PostgresForTest* server_;
};
testing::PostgresForTest* SociOwnershipStorePgTest::server_ = nullptr;

absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

TEST_F(SociOwnershipStorePgTest, ReadsRowsWithTheDefaultQuery) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  struct Case {
    std::string call_id;
    std::optional<CallOwnership> want;
  };
  for (const Case& c : std::vector<Case>{
           {"call_alice_1", CallOwnership{"1", "asst_alice", "1", "phone_alice", "1"}},
           {"call_alice_web", CallOwnership{"1", "asst_alice", "1", std::nullopt, std::nullopt}},
           {"call_alice_bobs_assistant",
            CallOwnership{"1", "asst_bob", "2", std::nullopt, std::nullopt}},
           {"call_alice_missing_assistant",
            CallOwnership{"1", std::nullopt, std::nullopt, std::nullopt, std::nullopt}},
           {"call_alice_missing_phone", CallOwnership{"1", "asst_alice", "1", "", std::nullopt}},
           {"x' OR '1'='1", std::nullopt},
       }) {
    SCOPED_TRACE(c.call_id);
    auto got = store->FindCall(c.call_id, Soon());
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->has_value(), c.want.has_value());
    if (!c.want.has_value()) continue;
    EXPECT_EQ((*got)->owner_id, c.want->owner_id);
    EXPECT_EQ((*got)->assistant_id, c.want->assistant_id);
    EXPECT_EQ((*got)->assistant_owner_id, c.want->assistant_owner_id);
    EXPECT_EQ((*got)->phone_number_id, c.want->phone_number_id);
    EXPECT_EQ((*got)->phone_number_owner_id, c.want->phone_number_owner_id);
  }
  EXPECT_TRUE(store->Ping(Soon()).ok());
}

TEST_F(SociOwnershipStorePgTest, SlowQueryIsCutByStatementTimeout) {
  auto store = OpenStore(
      "SELECT CAST(user_id AS TEXT), NULL, NULL, NULL, NULL FROM api_interviewcall, pg_sleep(10)"
      " WHERE vapi_call_id = :call_id");
  ASSERT_NE(store, nullptr);
  const absl::Time start = absl::Now();
  auto got = store->FindCall("call_alice_1", absl::Now() + absl::Seconds(30));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << got.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(SociOwnershipStorePgTest, DatabaseDownIsUnavailableAndRecoversByItself) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->FindCall("call_bob_1", Soon()).ok());

  ASSERT_TRUE(server_->Stop().ok());
  for (int attempt = 0; attempt < 3; ++attempt) {
    SCOPED_TRACE(attempt);
    const absl::Time start = absl::Now();
    auto got = store->FindCall("call_bob_1", absl::Now() + absl::Seconds(3));
    EXPECT_FALSE(got.ok());
    EXPECT_THAT(got.status().code(), ::testing::AnyOf(absl::StatusCode::kUnavailable,
                                                      absl::StatusCode::kDeadlineExceeded));
    EXPECT_LT(absl::Now() - start, absl::Seconds(4)) << "the store hung";
    EXPECT_FALSE(store->Ping(absl::Now() + absl::Seconds(3)).ok());
  }

  ASSERT_TRUE(server_->Restart().ok());
  auto got = store->FindCall("call_bob_1", Soon());
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->owner_id, "2");
  EXPECT_TRUE(store->Ping(Soon()).ok());
}

TEST_F(SociOwnershipStorePgTest, OpensWhileTheDatabaseIsDown) {
  ASSERT_TRUE(server_->Stop().ok());
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Ping(Soon()).code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_TRUE(store->Ping(Soon()).ok());
  auto got = store->FindCall("call_alice_1", Soon());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->has_value());
}

TEST_F(SociOwnershipStorePgTest, ConnectionErrorsDoNotLeakThePassword) {
  SociStoreOptions options;
  options.connection_string =
      absl::StrCat(server_->ConnectionString(), " user=nobody_here password=hunter2-secret");
  auto store = SociOwnershipStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::Status status = (*store)->Ping(Soon());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()), ::testing::Not(::testing::HasSubstr("hunter2")));
}

}  // namespace
}  // namespace hookguard

#include "server/ownership/soci_ownership_store.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ownership/ownership_rules.h"
#include "tests/support/fixtures.h"

namespace hookguard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

class SociOwnershipStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> dir = testing::MakeTempDir("hookguard-sqlite-");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *dir;
    path_ = dir_ + "/ownership.db";
    ASSERT_TRUE(testing::CreateSqliteDatabase(path_, testing::DjangoFixtureFiles()).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SociOwnershipStore> OpenStore(std::string call_query = "", int pool_size = 2,
                                                int max_batch = 16,
                                                std::function<void(int)> on_batch = nullptr) {
    SociStoreOptions options;
    options.connection_string = "sqlite3://db=" + path_;
    options.call_query = std::move(call_query);
    options.pool_size = pool_size;
    options.max_batch = max_batch;
    options.on_batch = std::move(on_batch);
    absl::StatusOr<std::unique_ptr<SociOwnershipStore>> store = SociOwnershipStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  std::string dir_;
  std::string path_;
};

struct RowCase {
  std::string call_id;
  std::optional<CallOwnership> want;
};

TEST_F(SociOwnershipStoreTest, ReadsEveryFixtureRowWithNulls) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const std::vector<RowCase> cases = {
      {"call_alice_1", CallOwnership{"1", "asst_alice", "1", "phone_alice", "1"}},
      {"call_bob_1", CallOwnership{"2", "asst_bob", "2", "phone_bob", "2"}},
      {"call_alice_web", CallOwnership{"1", "asst_alice", "1", std::nullopt, std::nullopt}},
      {"call_alice_bobs_assistant",
       CallOwnership{"1", "asst_bob", "2", std::nullopt, std::nullopt}},
      {"call_alice_bobs_phone", CallOwnership{"1", "asst_alice", "1", "phone_bob", "2"}},
      {"call_alice_missing_assistant",
       CallOwnership{"1", std::nullopt, std::nullopt, std::nullopt, std::nullopt}},
      {"call_alice_missing_phone", CallOwnership{"1", "asst_alice", "1", "", std::nullopt}},
      {"no_such_call", std::nullopt},
      // threat-table row 10: the id is bound, never spliced into the SQL.
      {"x' OR '1'='1", std::nullopt},
      {"call_alice_1' --", std::nullopt},
      {"", std::nullopt},
  };
  for (const RowCase& c : cases) {
    SCOPED_TRACE(c.call_id);
    absl::StatusOr<std::optional<CallOwnership>> got = store->FindCall(c.call_id, Soon());
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->has_value(), c.want.has_value());
    if (!c.want.has_value()) continue;
    EXPECT_EQ((*got)->owner_id, c.want->owner_id);
    EXPECT_EQ((*got)->assistant_id, c.want->assistant_id);
    EXPECT_EQ((*got)->assistant_owner_id, c.want->assistant_owner_id);
    EXPECT_EQ((*got)->phone_number_id, c.want->phone_number_id);
    EXPECT_EQ((*got)->phone_number_owner_id, c.want->phone_number_owner_id);
  }
}

// Every fixture row through the store and the rules: what the service answers.
TEST_F(SociOwnershipStoreTest, AuthorizesFixtureRowsEndToEnd) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  CallEventAuthorizer authorizer(*store);
  struct Case {
    std::string call_id, assistant_id, phone_number_id, expected_owner;
    v1::DenyReason reason;  // UNSPECIFIED = allow
  };
  const std::vector<Case> cases = {
      {"call_alice_1", "asst_alice", "phone_alice", "1", v1::DENY_REASON_UNSPECIFIED},
      {"call_bob_1", "asst_alice", "", "", v1::DENY_REASON_ASSISTANT_MISMATCH},     // row 1
      {"call_alice_1", "asst_nobody", "", "", v1::DENY_REASON_ASSISTANT_MISMATCH},  // row 2
      {"call_alice_1", "asst_alice", "phone_bob", "", v1::DENY_REASON_PHONE_NUMBER_MISMATCH},
      {"call_alice_bobs_assistant", "", "", "", v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH},
      {"call_alice_bobs_phone", "", "", "", v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH},
      {"call_alice_missing_assistant", "", "", "", v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH},
      {"call_alice_missing_phone", "", "", "", v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH},
      {"call_bob_1", "", "", "1", v1::DENY_REASON_OWNER_MISMATCH},   // row 9
      {"x' OR '1'='1", "", "", "", v1::DENY_REASON_CALL_NOT_FOUND},  // row 10
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.call_id + " / " + c.assistant_id + " / " + c.phone_number_id);
    v1::CallEvent event;
    event.set_call_id(c.call_id);
    event.set_assistant_id(c.assistant_id);
    event.set_phone_number_id(c.phone_number_id);
    absl::StatusOr<OwnershipDecision> got = authorizer.Authorize(event, c.expected_owner, Soon());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->reason, c.reason);
    EXPECT_EQ(got->decision,
              c.reason == v1::DENY_REASON_UNSPECIFIED ? v1::DECISION_ALLOW : v1::DECISION_DENY);
  }
}

TEST_F(SociOwnershipStoreTest, CustomQueryMapsAnotherSchema) {
  ASSERT_TRUE(
      testing::ExecuteSqlite(
          path_,
          "CREATE TABLE calls (provider_call_id TEXT PRIMARY KEY, tenant TEXT NOT NULL,"
          " agent TEXT, agent_tenant TEXT, line TEXT, line_tenant TEXT);"
          "INSERT INTO calls VALUES ('c-1', 'tenant-a', 'agent-1', 'tenant-a', NULL, NULL);")
          .ok());
  auto store = OpenStore(
      "SELECT tenant, agent, agent_tenant, line, line_tenant FROM calls"
      " WHERE provider_call_id = :call_id");
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::optional<CallOwnership>> got = store->FindCall("c-1", Soon());
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->owner_id, "tenant-a");
  EXPECT_EQ((*got)->assistant_id, "agent-1");
  EXPECT_EQ((*got)->phone_number_id, std::nullopt);
  got = store->FindCall("call_alice_1", Soon());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->has_value());
}

// An own schema with no api_phonenumber / api_assistant tables: the lookups
// that are off are not prepared (Open succeeds) and answer
// FAILED_PRECONDITION, never a row or "not found".
TEST(SociOwnershipStoreOwnSchema, LookupsThatAreOffAreNeverPrepared) {
  absl::StatusOr<std::string> dir = testing::MakeTempDir("hookguard-sqlite-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string path = *dir + "/own.db";
  ASSERT_TRUE(testing::CreateSqliteDatabase(path, {}).ok());
  ASSERT_TRUE(
      testing::ExecuteSqlite(path,
                             "CREATE TABLE calls (cid TEXT PRIMARY KEY, tenant TEXT NOT NULL);"
                             "INSERT INTO calls VALUES ('c-1', 't-a');")
          .ok());
  config::v1::Ownership ownership;
  ownership.set_call_query(
      "SELECT tenant, NULL, tenant, NULL, NULL FROM calls WHERE cid = :call_id");
  absl::StatusOr<OwnershipQueries> queries = CompileOwnershipQueries(ownership);
  ASSERT_TRUE(queries.ok()) << queries.status();
  SociStoreOptions options;
  options.connection_string = "sqlite3://db=" + path;
  SetLookupQueries(*queries, {}, &options);
  EXPECT_FALSE(options.phone_number_lookup);
  EXPECT_FALSE(options.assistant_lookup);
  absl::StatusOr<std::unique_ptr<SociOwnershipStore>> store = SociOwnershipStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<std::optional<CallOwnership>> call = (*store)->FindCall("c-1", Soon());
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_TRUE(call->has_value());
  EXPECT_EQ((*call)->owner_id, "t-a");
  for (OwnerLookup what : {OwnerLookup::kPhoneNumber, OwnerLookup::kAssistant}) {
    absl::StatusOr<std::optional<std::string>> owner = (*store)->FindOwner(what, "x", Soon());
    EXPECT_EQ(owner.status().code(), absl::StatusCode::kFailedPrecondition);
    absl::Notification answered;
    (*store)->FindOwnerAsync(what, "x", Soon(), [&](OwnerAnswer a) {
      EXPECT_EQ(a.status().code(), absl::StatusCode::kFailedPrecondition);
      answered.Notify();
    });
    EXPECT_TRUE(answered.HasBeenNotified());
  }
  // The same file with every lookup on fails at start, naming the table.
  options.phone_number_lookup = options.assistant_lookup = true;
  absl::StatusOr<std::unique_ptr<SociOwnershipStore>> all = SociOwnershipStore::Open(options);
  ASSERT_FALSE(all.ok());
  EXPECT_THAT(all.status().message(), HasSubstr("api_phonenumber"));
  std::filesystem::remove_all(*dir);
}

// An app with subject profiles only (no call model): none of the three
// lookups is prepared on a database without the Django tables, FindCall
// answers FAILED_PRECONDITION, and the subject query answers.
TEST(SociOwnershipStoreOwnSchema, SubjectsAloneNeedNoCallModelTables) {
  absl::StatusOr<std::string> dir = testing::MakeTempDir("hookguard-sqlite-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string path = *dir + "/stripe.db";
  ASSERT_TRUE(testing::CreateSqliteDatabase(path, {}).ok());
  ASSERT_TRUE(testing::ExecuteSqlite(path,
                                     "CREATE TABLE accounts (acct TEXT PRIMARY KEY, owner TEXT);"
                                     "INSERT INTO accounts VALUES ('acct_1', 'u-1');")
                  .ok());
  OwnershipQueries queries;
  queries.call.clear();
  queries.phone_number.clear();
  queries.assistant.clear();
  SociStoreOptions options;
  options.connection_string = "sqlite3://db=" + path;
  SetLookupQueries(queries, {"SELECT owner FROM accounts WHERE acct = :id"}, &options);
  EXPECT_FALSE(options.call_lookup);
  absl::StatusOr<std::unique_ptr<SociOwnershipStore>> store = SociOwnershipStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->FindCall("c-1", Soon()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::Notification answered;
  (*store)->FindCallAsync("c-1", Soon(), [&](CallAnswer a) {
    EXPECT_EQ(a.status().code(), absl::StatusCode::kFailedPrecondition);
    answered.Notify();
  });
  EXPECT_TRUE(answered.HasBeenNotified());
  absl::StatusOr<std::optional<std::string>> owner =
      (*store)->FindSubjectOwner(0, "acct_1", Soon());
  ASSERT_TRUE(owner.ok()) << owner.status();
  EXPECT_EQ(*owner, std::optional<std::string>("u-1"));
  EXPECT_TRUE((*store)->Ping(Soon()).ok());
  std::filesystem::remove_all(*dir);
}

TEST_F(SociOwnershipStoreTest, MoreThanOneRowFailsClosed) {
  auto store = OpenStore(
      "SELECT CAST(user_id AS TEXT), NULL, NULL, NULL, NULL FROM api_interviewcall"
      " WHERE vapi_call_id = :call_id OR :call_id = 'all'");
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::optional<CallOwnership>> got = store->FindCall("all", Soon());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition) << got.status();
  // The connection is still usable afterwards.
  got = store->FindCall("call_bob_1", Soon());
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->owner_id, "2");
}

TEST_F(SociOwnershipStoreTest, NullOwnerFailsClosed) {
  auto store = OpenStore("SELECT NULL, NULL, NULL, NULL, NULL WHERE :call_id = 'x'");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->FindCall("x", Soon()).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SociOwnershipStoreTest, PingAnswers) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Ping(Soon()).ok());
}

TEST_F(SociOwnershipStoreTest, NeverWritesTheDatabase) {
  auto store = OpenStore("UPDATE api_interviewcall SET user_id = 2 WHERE vapi_call_id = :call_id");
  // Either Open refuses it or running it fails: the file is read-only.
  if (store != nullptr) {
    EXPECT_FALSE(store->FindCall("call_alice_1", Soon()).ok());
  }
  auto reader = OpenStore();
  ASSERT_NE(reader, nullptr);
  auto got = reader->FindCall("call_alice_1", Soon());
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->owner_id, "1");
}

TEST_F(SociOwnershipStoreTest, ManyThreadsShareASmallPool) {
  auto store = OpenStore("", 2);
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&store, &failures, t] {
      for (int i = 0; i < 200; ++i) {
        const bool alice = (t + i) % 2 == 0;
        auto got = store->FindCall(alice ? "call_alice_1" : "call_bob_1", Soon());
        if (!got.ok() || !got->has_value() || (*got)->owner_id != (alice ? "1" : "2")) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(SociOwnershipStoreTest, WaitsForAFreeConnectionOnlyUntilTheDeadline) {
  auto store = OpenStore("", 1);
  ASSERT_NE(store, nullptr);
  auto got = store->FindCall("call_alice_1", absl::Now() - absl::Seconds(1));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDeadlineExceeded);
}

// The embedded setup: the app (Django) writes to the same SQLite file. While
// its write transaction holds the lock, a lookup waits for it within its
// deadline and answers right, instead of failing with "database is locked".
TEST_F(SociOwnershipStoreTest, WaitsForTheAppsWriteLockWithinTheDeadline) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::Notification locked;
  std::thread app([this, &locked] {
    EXPECT_TRUE(testing::HoldSqliteWriteLock(path_, absl::Milliseconds(400), [&locked] {
                  locked.Notify();
                }).ok());
  });
  locked.WaitForNotification();
  const absl::Time start = absl::Now();
  absl::StatusOr<std::optional<CallOwnership>> got =
      store->FindCall("call_alice_1", absl::Now() + absl::Seconds(2));
  const absl::Duration waited = absl::Now() - start;
  app.join();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->owner_id, "1");
  EXPECT_GE(waited, absl::Milliseconds(300)) << "the lock was not held while the lookup ran";
}

TEST_F(SociOwnershipStoreTest, ALockHeldPastTheDeadlineIsDeadlineExceededAtTheDeadline) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::Notification locked;
  std::thread app([this, &locked] {
    EXPECT_TRUE(testing::HoldSqliteWriteLock(path_, absl::Milliseconds(1500), [&locked] {
                  locked.Notify();
                }).ok());
  });
  locked.WaitForNotification();
  const absl::Time start = absl::Now();
  absl::StatusOr<std::optional<CallOwnership>> got =
      store->FindCall("call_alice_1", absl::Now() + absl::Milliseconds(300));
  const absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDeadlineExceeded) << got.status();
  EXPECT_GE(waited, absl::Milliseconds(250));
  EXPECT_LT(waited, absl::Milliseconds(1200)) << "waited past the deadline";
  app.join();
  // The store answers again once the lock is gone.
  got = store->FindCall("call_alice_1", Soon());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->has_value());
}

// Runs `lookup(i)` for i in [0, n) on threads so that they go out as one
// batch: the store's only connection is held by a first lookup waiting for
// the app's write lock while the n others queue behind it.
void RunAsOneBatch(const std::string& path, SociOwnershipStore& store, int n,
                   const std::function<void(int)>& lookup) {
  absl::Notification locked, queued;
  std::thread app([&] {
    EXPECT_TRUE(testing::HoldSqliteWriteLock(path, absl::Milliseconds(300), [&] {
                  locked.Notify();
                  queued.WaitForNotification();
                }).ok());
  });
  locked.WaitForNotification();
  std::thread first([&] { EXPECT_TRUE(store.FindCall("call_alice_1", Soon()).ok()); });
  // The first lookup holds the connection (waiting for the lock) at once.
  absl::SleepFor(absl::Milliseconds(50));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back([&lookup, i] { lookup(i); });
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (store.lookups_waiting() < static_cast<size_t>(n) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(store.lookups_waiting(), static_cast<size_t>(n));
  queued.Notify();
  app.join();
  first.join();
  for (std::thread& t : threads) t.join();
}

// Lookups that waited together go out in one query, and each gets exactly
// what it gets alone: found rows with their NULLs, not found, duplicates,
// ids that try SQL injection.
TEST_F(SociOwnershipStoreTest, ABatchAnswersEachLookupAsOneByOne) {
  std::vector<int> sizes;
  absl::Mutex mu;
  auto batched = OpenStore("", 1, 16, [&](int size) {
    absl::MutexLock lock(&mu);
    sizes.push_back(size);
  });
  auto alone = OpenStore("", 1, 1);
  ASSERT_NE(batched, nullptr);
  ASSERT_NE(alone, nullptr);
  const std::vector<std::string> ids = {"call_alice_1",
                                        "call_bob_1",
                                        "no_such_call",
                                        "call_alice_1",
                                        "x' OR '1'='1",
                                        "call_alice_web",
                                        "",
                                        "call_alice_missing_phone",
                                        "call_alice_bobs_assistant",
                                        "call_alice_missing_assistant",
                                        "call_bob_1' --",
                                        "call_alice_bobs_phone"};
  std::vector<absl::StatusOr<std::optional<CallOwnership>>> got(ids.size(),
                                                                absl::UnknownError("not run"));
  RunAsOneBatch(path_, *batched, static_cast<int>(ids.size()),
                [&](int i) { got[i] = batched->FindCall(ids[i], Soon()); });
  {
    absl::MutexLock lock(&mu);
    EXPECT_THAT(sizes, ::testing::ElementsAre(1, static_cast<int>(ids.size())));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(ids[i]);
    absl::StatusOr<std::optional<CallOwnership>> want = alone->FindCall(ids[i], Soon());
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(got[i].ok()) << got[i].status();
    ASSERT_EQ(got[i]->has_value(), want->has_value());
    if (!want->has_value()) continue;
    EXPECT_EQ((*got[i])->owner_id, (*want)->owner_id);
    EXPECT_EQ((*got[i])->assistant_id, (*want)->assistant_id);
    EXPECT_EQ((*got[i])->assistant_owner_id, (*want)->assistant_owner_id);
    EXPECT_EQ((*got[i])->phone_number_id, (*want)->phone_number_id);
    EXPECT_EQ((*got[i])->phone_number_owner_id, (*want)->phone_number_owner_id);
  }
}

// A schema whose ids are not unique and whose owners may be NULL: in one
// batch, an id with two rows or a NULL owner fails alone
// (FAILED_PRECONDITION); its neighbours get their rows.
TEST_F(SociOwnershipStoreTest, OneBadIdNeverFailsItsNeighbours) {
  std::filesystem::remove(path_);
  ASSERT_TRUE(testing::CreateSqliteDatabase(path_, {}).ok());
  ASSERT_TRUE(testing::ExecuteSqlite(
                  path_,
                  "CREATE TABLE api_assistant (id INTEGER PRIMARY KEY, vapi_assistant_id TEXT,"
                  " user_id INTEGER);"
                  "CREATE TABLE api_phonenumber (id INTEGER PRIMARY KEY, vapi_phone_number_id TEXT,"
                  " user_id INTEGER);"
                  "CREATE TABLE api_interviewcall (id INTEGER PRIMARY KEY, vapi_call_id TEXT,"
                  " user_id INTEGER, assistant_id INTEGER, phone_number_id INTEGER);"
                  "INSERT INTO api_assistant VALUES (1, 'asst_ok', 1), (2, 'asst_dup', 1),"
                  " (3, 'asst_dup', 2), (4, 'asst_null', NULL);"
                  "INSERT INTO api_phonenumber VALUES (1, 'phone_ok', 1);"
                  "INSERT INTO api_interviewcall VALUES (1, 'call_alice_1', 1, 1, 1),"
                  " (2, 'ok', 1, 1, 1), (3, 'dup', 1, 1, 1), (4, 'dup', 2, 1, 1),"
                  " (5, 'null_owner', NULL, 1, 1);")
                  .ok());
  std::vector<int> sizes;
  absl::Mutex mu;
  auto store = OpenStore("", 1, 16, [&](int size) {
    absl::MutexLock lock(&mu);
    sizes.push_back(size);
  });
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> calls = {"ok", "dup", "null_owner", "unknown", "ok"};
  std::vector<absl::StatusOr<std::optional<CallOwnership>>> got(calls.size(),
                                                                absl::UnknownError("not run"));
  RunAsOneBatch(path_, *store, static_cast<int>(calls.size()),
                [&](int i) { got[i] = store->FindCall(calls[i], Soon()); });
  EXPECT_THAT(sizes, ::testing::ElementsAre(1, 5));
  for (int i : {0, 4}) {
    ASSERT_TRUE(got[i].ok()) << got[i].status();
    ASSERT_TRUE(got[i]->has_value());
    EXPECT_EQ((*got[i])->owner_id, "1");
  }
  EXPECT_EQ(got[1].status().code(), absl::StatusCode::kFailedPrecondition) << got[1].status();
  EXPECT_EQ(got[2].status().code(), absl::StatusCode::kFailedPrecondition) << got[2].status();
  ASSERT_TRUE(got[3].ok()) << got[3].status();
  EXPECT_FALSE(got[3]->has_value());

  // The owner lookups are batched the same way.
  sizes.clear();
  const std::vector<std::string> assistants = {"asst_dup", "asst_ok", "asst_null", "asst_none"};
  std::vector<absl::StatusOr<std::optional<std::string>>> owners(assistants.size(),
                                                                 absl::UnknownError("not run"));
  RunAsOneBatch(path_, *store, static_cast<int>(assistants.size()), [&](int i) {
    owners[i] = store->FindOwner(OwnerLookup::kAssistant, assistants[i], Soon());
  });
  EXPECT_THAT(sizes, ::testing::ElementsAre(1, 4));
  EXPECT_EQ(owners[0].status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(owners[1].ok()) << owners[1].status();
  EXPECT_EQ(owners[1]->value_or("none"), "1");
  EXPECT_EQ(owners[2].status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(owners[3].ok()) << owners[3].status();
  EXPECT_FALSE(owners[3]->has_value());
}

// The server passes the default query written out (Compile fills it in):
// it is still the default, batched.
TEST_F(SociOwnershipStoreTest, TheDefaultQueryWrittenOutIsBatchedToo) {
  std::vector<int> sizes;
  absl::Mutex mu;
  auto store = OpenStore(kDefaultCallQuery, 1, 16, [&](int size) {
    absl::MutexLock lock(&mu);
    sizes.push_back(size);
  });
  ASSERT_NE(store, nullptr);
  RunAsOneBatch(path_, *store, 3,
                [&](int) { ASSERT_TRUE(store->FindCall("call_alice_1", Soon()).ok()); });
  EXPECT_THAT(sizes, ::testing::ElementsAre(1, 3));
}

// A configured query is batched as UNION ALL of copies of itself, each id
// in its own copy; one the store cannot rewrite runs one lookup per query.
TEST_F(SociOwnershipStoreTest, AConfiguredQueryIsBatchedWhenItCanBe) {
  const struct {
    const char* query;
    std::vector<int> sizes;
  } cases[] = {
      {"SELECT CAST(user_id AS TEXT), NULL, NULL, NULL, NULL FROM api_interviewcall"
       " WHERE vapi_call_id = :call_id -- the provider's id\n;",
       {1, 3}},
      // A backslash means nothing to SQLite: batched.
      {"SELECT CAST(user_id AS TEXT), NULL, NULL, NULL, NULL FROM api_interviewcall"
       " WHERE vapi_call_id = :call_id AND 'a\\b' <> ''",
       {1, 3}},
      // Parameter text left (in a string here): one lookup per query.
      {"SELECT CAST(user_id AS TEXT), NULL, NULL, NULL, NULL FROM api_interviewcall"
       " WHERE vapi_call_id = :call_id AND 'x:call_id' <> ''",
       {1, 1, 1, 1}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.query);
    std::vector<int> sizes;
    absl::Mutex mu;
    auto store = OpenStore(c.query, 1, 16, [&](int size) {
      absl::MutexLock lock(&mu);
      sizes.push_back(size);
    });
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->unbatched(), "");
    std::vector<std::string> owners(3);
    RunAsOneBatch(path_, *store, 3, [&](int i) {
      auto got = store->FindCall(i == 1   ? "call_bob_1"
                                 : i == 2 ? "call_nobody"
                                          : "call_alice_1",
                                 Soon());
      owners[i] = !got.ok() ? "error" : got->has_value() ? (*got)->owner_id : "not found";
    });
    EXPECT_EQ(sizes, c.sizes);
    // The first lookup ran alone; the three queued ones shared a query (when
    // batched), each with its own answer.
    EXPECT_THAT(owners, ::testing::ElementsAre("1", "2", "not found"));
  }
}

// Threat row 31 on SQLite's own parser: configured queries whose quotes,
// [..] / `..` names and comments could hide a parameter from the rewriter
// answer exactly as one by one, in one batch (rewritten correctly, or
// refused and run one lookup per query). The first is the reported query:
// read with PostgreSQL's quotes, its first :call_id was left unrenamed,
// bound NULL, and the batch allowed what one by one denied.
TEST_F(SociOwnershipStoreTest, TrickyConfiguredQueriesAnswerAsOneByOne) {
  ASSERT_TRUE(testing::ExecuteSqlite(path_,
                                     "CREATE TABLE t (k TEXT, o TEXT, [own'r] INTEGER);"
                                     "CREATE TABLE [rev'd] (k TEXT);"
                                     "INSERT INTO t VALUES ('a', 'alice', 1), ('b', 'bob', 1),"
                                     " ('c', 'carol', 0), ('d', 'it''s', 1);"
                                     "INSERT INTO [rev'd] VALUES ('b');")
                  .ok());
  const struct {
    const char* query;
    bool batched;  // false: refused, one lookup per query
    bool revoked;  // b is denied
  } cases[] = {
      {"SELECT o, NULL, NULL, NULL, NULL FROM t WHERE NOT EXISTS (SELECT 1 FROM [rev'd] r"
       " WHERE r.k = :call_id) AND [own'r] = 1 AND k = :call_id",
       true, true},
      {"SELECT o, NULL, NULL, NULL, NULL FROM t WHERE NOT EXISTS (SELECT 1 FROM `rev'd` r"
       " WHERE r.k = :call_id) AND `own'r` = 1 AND k = :call_id",
       true, true},
      {"SELECT o, NULL, NULL, NULL, NULL FROM t WHERE NOT EXISTS (SELECT 1 FROM [rev'd] r"
       " WHERE r.k = :call_id) AND \"own'r\" = 1 AND k = :call_id",
       true, true},
      {"SELECT o, NULL, NULL, NULL, NULL FROM t WHERE k = :call_id -- the provider's id", true,
       false},
      {"SELECT o, NULL, NULL, NULL, NULL FROM t /* it's */ WHERE k = :call_id AND o <> 'x\\'", true,
       false},
      {"SELECT o, NULL, NULL, NULL, NULL FROM t WHERE k = :call_id -- x\r AND o = 'alice'\n", false,
       false},
      {"SELECT o, NULL, NULL, NULL, NULL FROM t WHERE k = :call_id OR o = ':call_id'", false,
       false},
  };
  const std::vector<std::string> ids = {"a", "b", "c", "d", "x", "a'", "b"};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.query);
    const char* query = c.query;
    auto alone = OpenStore(query, 1, 1);
    std::vector<int> sizes;
    absl::Mutex mu;
    auto batched = OpenStore(query, 1, 16, [&](int size) {
      absl::MutexLock lock(&mu);
      sizes.push_back(size);
    });
    ASSERT_NE(alone, nullptr);
    ASSERT_NE(batched, nullptr);
    std::vector<std::string> want, got(ids.size());
    for (const std::string& id : ids) {
      auto found = alone->FindCall(id, Soon());
      want.push_back(!found.ok()          ? found.status().ToString()
                     : found->has_value() ? (*found)->owner_id
                                          : "not found");
    }
    EXPECT_EQ(want[0], "alice");
    EXPECT_EQ(want[1], c.revoked ? "not found" : "bob");
    RunAsOneBatch(path_, *batched, static_cast<int>(ids.size()), [&](int i) {
      auto found = batched->FindCall(ids[i], Soon());
      got[i] = !found.ok()          ? found.status().ToString()
               : found->has_value() ? (*found)->owner_id
                                    : "not found";
    });
    EXPECT_EQ(got, want);
    if (c.batched) {
      EXPECT_THAT(sizes, ::testing::ElementsAre(1, static_cast<int>(ids.size())));
    } else {
      EXPECT_EQ(sizes, std::vector<int>(ids.size() + 1, 1));
    }
  }
}

// A query still running at its deadline is interrupted (sqlite3_interrupt)
// and answered DEADLINE_EXCEEDED then, not when it ends; the store answers
// again afterwards.
TEST_F(SociOwnershipStoreTest, AQueryRunningPastItsDeadlineIsInterruptedAtIt) {
  auto store = OpenStore(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000)"
      " SELECT CAST(max(x) AS TEXT), NULL, NULL, NULL, NULL FROM c"
      " WHERE :call_id <> 'quick' OR x = 1",
      1, 1);
  ASSERT_NE(store, nullptr);
  const absl::Time start = absl::Now();
  auto slow = store->FindCall("slow", start + absl::Milliseconds(300));
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded) << slow.status();
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_TRUE(store->Ping(Soon()).ok());
}

struct OpenErrorCase {
  std::string name;
  SociStoreOptions options;
  std::string message_fragment;
};

TEST_F(SociOwnershipStoreTest, OpenRejectsBadConfiguration) {
  const std::string missing = dir_ + "/missing.db";
  auto options = [](std::string connection, std::string query = "", int pool = 2) {
    SociStoreOptions o;
    o.connection_string = std::move(connection);
    o.call_query = std::move(query);
    o.pool_size = pool;
    return o;
  };
  auto batch = [&](int size) {
    SociStoreOptions o = options("sqlite3://db=" + path_);
    o.max_batch = size;
    return o;
  };
  const std::vector<OpenErrorCase> cases = {
      {"missing file", options("sqlite3://db=" + missing), missing},
      {"no scheme", options(path_), "must start with"},
      {"unknown backend", options("mysql://db=x"), "unknown database backend"},
      {"no db key", options("sqlite3://timeout=2"), "no db=PATH"},
      {"query without :call_id", options("sqlite3://db=" + path_, "SELECT 1, 2, 3, 4, 5"),
       ":call_id"},
      {"query the database rejects",
       options("sqlite3://db=" + path_, "SELECT * FROM nowhere WHERE x = :call_id"),
       "cannot prepare"},
      {"pool of zero", options("sqlite3://db=" + path_, "", 0), "pool size"},
      {"batch of zero", batch(0), "batch size"},
      {"batch too large", batch(SociOwnershipStore::kMaxBatch + 1), "batch size"},
      {"unparsable postgresql string", options("postgresql://host=127.0.0.1 password='secret-pw"),
       "cannot parse"},
  };
  for (const OpenErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::unique_ptr<SociOwnershipStore>> store = SociOwnershipStore::Open(c.options);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument) << store.status();
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(c.message_fragment));
    EXPECT_THAT(std::string(store.status().message()), Not(HasSubstr("secret-pw")));
  }
  EXPECT_FALSE(std::filesystem::exists(missing)) << "Open created the missing file";
}

TEST(SociOwnershipStoreDefaults, DefaultQueryBindsCallIdAndReadsTheDjangoTables) {
  const std::string query = kDefaultCallQuery;
  EXPECT_THAT(query, HasSubstr(":call_id"));
  EXPECT_THAT(query, HasSubstr("api_interviewcall"));
  EXPECT_THAT(query, HasSubstr("LEFT JOIN api_assistant"));
  EXPECT_THAT(query, HasSubstr("LEFT JOIN api_phonenumber"));
}

}  // namespace
}  // namespace hookguard

namespace hookguard {
namespace {

class SociSubjectLookupTest : public SociOwnershipStoreTest {
 protected:
  void SetUp() override {
    SociOwnershipStoreTest::SetUp();
    ASSERT_TRUE(testing::ExecuteSqlite(
                    path_,
                    "CREATE TABLE accounts (account TEXT PRIMARY KEY, user_id INTEGER);"
                    "INSERT INTO accounts VALUES ('acct_a', 1), ('acct_b', 2), ('acct_x', NULL);"
                    "CREATE TABLE teams (team TEXT, user_id INTEGER);"
                    "INSERT INTO teams VALUES ('T1', 1), ('T2', 2), ('T2', 3);")
                    .ok());
  }

  std::unique_ptr<SociOwnershipStore> OpenWithSubjects(std::vector<std::string> queries,
                                                       int max_batch = 16,
                                                       std::function<void(int)> on_batch = {}) {
    SociStoreOptions options;
    options.connection_string = "sqlite3://db=" + path_;
    options.pool_size = 1;
    options.max_batch = max_batch;
    options.on_batch = std::move(on_batch);
    options.subject_queries = std::move(queries);
    absl::StatusOr<std::unique_ptr<SociOwnershipStore>> store = SociOwnershipStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
};

constexpr char kAccountQuery[] = "SELECT CAST(user_id AS TEXT) FROM accounts WHERE account = :id";
constexpr char kTeamQuery[] = "SELECT CAST(user_id AS TEXT) FROM teams WHERE team = :id";

TEST_F(SociSubjectLookupTest, EachSubjectQueryAnswersItsOwnIds) {
  auto store = OpenWithSubjects({kAccountQuery, kTeamQuery});
  ASSERT_NE(store, nullptr);
  const struct {
    int query;
    const char* id;
    absl::StatusCode code;
    std::optional<std::string> owner;
  } cases[] = {
      {0, "acct_a", absl::StatusCode::kOk, "1"},
      {0, "acct_b", absl::StatusCode::kOk, "2"},
      {0, "T1", absl::StatusCode::kOk, std::nullopt},  // another query's id: no row here
      {0, "x' OR '1'='1", absl::StatusCode::kOk, std::nullopt},
      {0, "acct_x", absl::StatusCode::kFailedPrecondition, std::nullopt},  // NULL owner
      {1, "T1", absl::StatusCode::kOk, "1"},
      {1, "T2", absl::StatusCode::kFailedPrecondition, std::nullopt},  // two rows
      {2, "T1", absl::StatusCode::kInvalidArgument, std::nullopt},     // no such query
      {-1, "T1", absl::StatusCode::kInvalidArgument, std::nullopt},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::optional<std::string>> got = store->FindSubjectOwner(c.query, c.id, Soon());
    EXPECT_EQ(got.status().code(), c.code) << c.query << " " << c.id << ": " << got.status();
    if (got.ok()) EXPECT_EQ(*got, c.owner) << c.query << " " << c.id;
  }
  // The call model is untouched beside them.
  absl::StatusOr<std::optional<CallOwnership>> call = store->FindCall("call_bob_1", Soon());
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ((*call)->owner_id, "2");
  EXPECT_TRUE(store->Ping(Soon()).ok());
}

TEST_F(SociSubjectLookupTest, ConcurrentSubjectLookupsAreBatchedAndAnswerAsOneByOne) {
  std::vector<int> batches;
  absl::Mutex mu;
  auto store = OpenWithSubjects({kAccountQuery}, 16, [&](int size) {
    absl::MutexLock lock(&mu);
    batches.push_back(size);
  });
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> ids = {"acct_a", "acct_b", "nobody", "acct_a", "acct_x"};
  std::vector<OwnerAnswer> answers(ids.size(), absl::UnknownError("unanswered"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 8 * ids.size(); ++i) {
    threads.emplace_back([&, i] {
      OwnerAnswer got = store->FindSubjectOwner(0, ids[i % ids.size()], Soon());
      if (i < ids.size()) answers[i] = std::move(got);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(*answers[0], "1");
  EXPECT_EQ(*answers[1], "2");
  EXPECT_EQ(*answers[2], std::nullopt);
  EXPECT_EQ(*answers[3], "1");
  EXPECT_EQ(answers[4].status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SociSubjectLookupTest, OpenRefusesASubjectQueryWithoutId) {
  SociStoreOptions options;
  options.connection_string = "sqlite3://db=" + path_;
  options.subject_queries = {"SELECT user_id FROM accounts WHERE account = :account"};
  absl::StatusOr<std::unique_ptr<SociOwnershipStore>> store = SociOwnershipStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(":id"));
  options.subject_queries = {"SELECT user_id FROM no_such_table WHERE account = :id"};
  EXPECT_EQ(SociOwnershipStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hookguard

// The SOCI store against a real PostgreSQL: lookups, the database going away
// (UNAVAILABLE within the deadline, never a hang) and coming back (the store
// recovers without being reopened). threat-table rows 10 and 11.
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ownership/soci_ownership_store.h"
#include "tests/support/fixtures.h"
#include "tests/support/postgres_for_test.h"

namespace hookguard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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
    // The same tables at other sizes, each in its own schema: calls,
    // assistants and phone numbers (each of `owners` users has one).
    for (const auto& [schema, calls, owners] : kSizes) {
      ASSERT_TRUE(server_
                      ->RunSql(absl::StrCat(
                          "CREATE SCHEMA ", schema, "; SET search_path = ", schema, ";\n",
                          *testing::ReadFile(testing::FixturePath("django_schema.sql")),
                          "INSERT INTO api_assistant SELECT g, 'asst_' || g, g FROM "
                          "generate_series(1, ",
                          owners,
                          ") g;"
                          "INSERT INTO api_phonenumber SELECT g, 'phone_' || g, g FROM "
                          "generate_series(1, ",
                          owners,
                          ") g;"
                          "INSERT INTO api_interviewcall SELECT g, 'call_' || g, 1 + g % ",
                          owners, ", 1 + g % ", owners,
                          ", CASE WHEN g % 3 = 0 THEN NULL "
                          "ELSE 1 + g % ",
                          owners, " END FROM generate_series(1, ", calls, ") g; ANALYZE;"))
                      .ok())
          << schema;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }

  struct Size {
    const char* schema;
    int calls, owners;
  };
  static constexpr Size kSizes[] = {
      {"medium", 3000, 30}, {"mixed", 100000, 2}, {"large", 100000, 1000}};

  // `schema`: the search path of the store's sessions (the tables of kSizes).
  static std::unique_ptr<SociOwnershipStore> OpenStore(std::string query = "",
                                                       std::string schema = "", int pool_size = 2,
                                                       int max_batch = 16,
                                                       std::function<void(int)> on_batch = nullptr,
                                                       absl::Duration timeout = absl::Seconds(2)) {
    SociStoreOptions options;
    options.connection_string = server_->ConnectionString();
    if (!schema.empty()) {
      absl::StrAppend(&options.connection_string, " options='-c search_path=", schema, "'");
    }
    options.pool_size = pool_size;
    options.max_batch = max_batch;
    options.on_batch = std::move(on_batch);
    options.call_query = std::move(query);
    options.query_timeout = timeout;
    auto store = SociOwnershipStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static testing::PostgresForTest* server_;
};
testing::PostgresForTest* SociOwnershipStorePgTest::server_ = nullptr;

absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

// A call lookup's answer as one comparable string.
std::string Show(const CallAnswer& got) {
  if (!got.ok()) return got.status().ToString();
  if (!got->has_value()) return "not found";
  const CallOwnership& c = **got;
  return absl::StrCat(
      c.owner_id, "|", c.assistant_id.value_or("NULL"), "|", c.assistant_owner_id.value_or("NULL"),
      "|", c.phone_number_id.value_or("NULL"), "|", c.phone_number_owner_id.value_or("NULL"));
}

// 16 threads each look up `rounds` of `ids` (ids[pick(thread, round)]) at
// once on `store`; returns how many answers were not `want`'s (the answers
// the same ids get alone), each also reported as a failure.
int WrongAnswersUnderLoad(SociOwnershipStore& store, const std::vector<std::string>& ids,
                          const std::vector<std::string>& want, int rounds,
                          const std::function<size_t(int, int)>& pick) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        const size_t k = pick(t, i) % ids.size();
        const std::string got = Show(store.FindCall(ids[k], Soon()));
        if (got != want[k]) {
          ++wrong;
          ADD_FAILURE() << ids[k] << ": " << got << " != " << want[k];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return wrong.load();
}

// Prepares the store's SQL `text` for `n` ids (:id0 ..) as statement `name`
// with PostgreSQL's own placeholders.
void PrepareWithPlaceholders(soci::session& sql, const std::string& name, std::string text, int n) {
  for (int i = n - 1; i >= 0; --i) {
    text = absl::StrReplaceAll(text, {{absl::StrCat(":id", i), absl::StrCat("$", i + 1)}});
  }
  const std::vector<std::string> types(n, "text");
  sql << "PREPARE " << name << "(" << absl::StrJoin(types, ",") << ") AS " << text;
}

// The plan of statement `name` (from PrepareWithPlaceholders) for `n` ids:
// call_1, call_8, call_15, ...
std::string ExplainPlan(soci::session& sql, const std::string& name, int n) {
  std::vector<std::string> args;
  for (int i = 0; i < n; ++i) args.push_back(absl::StrCat("'call_", i * 7 + 1, "'"));
  soci::rowset<std::string> rows =
      (sql.prepare << "EXPLAIN EXECUTE " << name << "(" << absl::StrJoin(args, ",") << ")");
  std::string plan;
  for (const std::string& line : rows) absl::StrAppend(&plan, line, "\n");
  return plan;
}

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

// The plans of the batched default queries, as PostgreSQL makes them for
// the store's prepared statements (generic and custom), on tables of every
// size: one lookup per id, never a hash or merge join, and the index of
// every table larger than a page. (The plain join of the ids with the call
// table is hashed on small tables and then reads the whole table for every
// batch; the one-id query per id is what keeps the plan a lookup.)
TEST_F(SociOwnershipStorePgTest, BatchedPlansStayIndexLookupsOnTablesOfEverySize) {
  soci::session sql(*soci::factory_postgresql(),
                    server_->ConnectionString().substr(std::string("postgresql://").size()));
  const struct {
    LookupQuery query;
    const char* table;
    const char* key_index;
  } lookups[] = {
      {LookupQuery::kCall, "api_interviewcall", "api_interviewcall_vapi_call_id_key"},
      {LookupQuery::kPhoneNumber, "api_phonenumber", "api_phonenumber_vapi_phone_number_id_key"},
      {LookupQuery::kAssistant, "api_assistant", "api_assistant_vapi_assistant_id_key"},
  };
  int statement = 0;
  for (const char* schema : {"public", "medium", "mixed", "large"}) {
    sql << "SET search_path = " << schema;
    const bool tiny = std::string(schema) == "public";
    // Assistants and phone numbers fill more than a page only in "large".
    const bool many_owners = std::string(schema) == "large";
    for (const auto& lookup : lookups) {
      for (int n : {1, 16}) {
        const std::string name = absl::StrCat("q", ++statement);
        PrepareWithPlaceholders(sql, name, DefaultBatchQuery(lookup.query, n, /*postgresql=*/true),
                                n);
        for (const char* mode : {"force_generic_plan", "force_custom_plan"}) {
          SCOPED_TRACE(absl::StrCat(schema, " ", lookup.table, " n=", n, " ", mode));
          sql << "SET plan_cache_mode = " << mode;
          const std::string plan = ExplainPlan(sql, name, n);
          EXPECT_THAT(plan, Not(HasSubstr("Hash"))) << plan;
          EXPECT_THAT(plan, Not(HasSubstr("Merge"))) << plan;
          if (n > 1) {
            EXPECT_THAT(plan, HasSubstr("Nested Loop")) << plan;
          }
          if (tiny) continue;  // one-page tables are read, not looked up
          if (lookup.query == LookupQuery::kCall || many_owners) {
            EXPECT_THAT(plan, HasSubstr(absl::StrCat("Index Scan using ", lookup.key_index)))
                << plan;
            EXPECT_THAT(plan, Not(HasSubstr(absl::StrCat("Seq Scan on ", lookup.table)))) << plan;
          }
          if (lookup.query == LookupQuery::kCall && many_owners) {
            EXPECT_THAT(plan, HasSubstr("Index Scan using api_assistant_pkey")) << plan;
            EXPECT_THAT(plan, HasSubstr("Index Scan using api_phonenumber_pkey")) << plan;
          }
        }
      }
    }
  }
}

// Many threads, few connections: lookups of found and unknown ids (and the
// same id at once) go out in batches, and every answer is the one the same
// id gets alone.
TEST_F(SociOwnershipStorePgTest, ConcurrentBatchedLookupsMatchOneByOne) {
  std::atomic<int> batched{0}, largest{0};
  auto store = OpenStore("", "large", 2, 16, [&](int size) {
    if (size > 1) ++batched;
    int seen = largest.load();
    while (size > seen && !largest.compare_exchange_weak(seen, size)) {
    }
  });
  auto alone = OpenStore("", "large", 1, 1);
  ASSERT_NE(store, nullptr);
  ASSERT_NE(alone, nullptr);
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) {
    ids.push_back(absl::StrCat(i % 4 == 3 ? "missing_" : "call_", i * 1543 % 100000 + 1));
  }
  ids.push_back("x' OR '1'='1");
  std::vector<std::string> want;
  int found = 0;
  for (const std::string& id : ids) {
    want.push_back(Show(alone->FindCall(id, Soon())));
    if (want.back() != "not found") ++found;
  }
  ASSERT_GT(found, 30);
  EXPECT_EQ(WrongAnswersUnderLoad(*store, ids, want, 150,
                                  [](int t, int i) { return t * 7 + i * (t % 3 == 0 ? 1 : 13); }),
            0);
  EXPECT_GT(batched.load(), 0) << "16 threads on 2 connections never formed a batch";
  EXPECT_LE(largest.load(), 16);
}

// A configured call query (here with LEFT JOINs and '::' casts, as users
// write them) is batched as UNION ALL of copies of itself: the answers are
// the one-by-one answers, and each copy still finds its call by the index.
TEST_F(SociOwnershipStorePgTest, AConfiguredQueryIsBatchedAsCopiesOfItself) {
  const std::string query =
      "SELECT c.user_id::text, a.vapi_assistant_id, a.user_id::text,"
      " CASE WHEN c.phone_number_id IS NULL THEN NULL"
      " ELSE COALESCE(p.vapi_phone_number_id, '') END, p.user_id::text"
      " FROM api_interviewcall c"
      " LEFT JOIN api_assistant a ON a.id = c.assistant_id"
      " LEFT JOIN api_phonenumber p ON p.id = c.phone_number_id"
      " WHERE c.vapi_call_id = :call_id";
  std::atomic<int> batched{0};
  auto store = OpenStore(query, "large", 2, 16, [&](int size) {
    if (size > 1) ++batched;
  });
  auto alone = OpenStore("", "large", 1, 1);
  ASSERT_NE(store, nullptr);
  ASSERT_NE(alone, nullptr);
  EXPECT_EQ(store->unbatched(), "");
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    ids.push_back(absl::StrCat(i % 4 == 3 ? "missing_" : "call_", i * 2389 % 100000 + 1));
  }
  std::vector<std::string> want;
  for (const std::string& id : ids) want.push_back(Show(alone->FindCall(id, Soon())));
  EXPECT_EQ(
      WrongAnswersUnderLoad(*store, ids, want, 100, [](int t, int i) { return t * 5 + i * 11; }),
      0);
  EXPECT_GT(batched.load(), 0) << "16 threads on 2 connections never formed a batch";

  // The plan of 16 copies: 16 index lookups of the call, never a scan of it.
  soci::session sql(*soci::factory_postgresql(),
                    server_->ConnectionString().substr(std::string("postgresql://").size()));
  sql << "SET search_path = large";
  PrepareWithPlaceholders(sql, "configured",
                          *ConfiguredBatchQuery(query, "call_id", 16, SqlDialect::kPostgresql), 16);
  for (const char* mode : {"force_generic_plan", "force_custom_plan"}) {
    SCOPED_TRACE(mode);
    sql << "SET plan_cache_mode = " << mode;
    const std::string plan = ExplainPlan(sql, "configured", 16);
    EXPECT_THAT(plan, Not(HasSubstr("Seq Scan on api_interviewcall"))) << plan;
    size_t lookups = 0;
    for (size_t at = plan.find("api_interviewcall_vapi_call_id_key"); at != std::string::npos;
         at = plan.find("api_interviewcall_vapi_call_id_key", at + 1)) {
      ++lookups;
    }
    EXPECT_EQ(lookups, 16u) << plan;
  }
}

// A configured query the database prepares alone but not as UNION ALL of
// copies runs one lookup per query, and the store says why. (SELECT INTO is
// no lookup anyone would configure: it is the statement found that
// PostgreSQL prepares alone but not inside a subquery.)
TEST_F(SociOwnershipStorePgTest, AConfiguredQueryThatCannotBeBatchedRunsAlone) {
  auto store = OpenStore(
      "SELECT CAST(user_id AS TEXT), NULL, NULL, NULL, NULL INTO TEMP copied"
      " FROM api_interviewcall WHERE vapi_call_id = :call_id");
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->unbatched(), HasSubstr("ownership.call_query: runs one lookup per query"));
  auto batchable = OpenStore(
      "SELECT CAST(user_id AS TEXT), NULL, NULL, NULL, NULL FROM api_interviewcall"
      " WHERE vapi_call_id = :call_id");
  ASSERT_NE(batchable, nullptr);
  EXPECT_EQ(batchable->unbatched(), "");
}

// A batch whose query fails answers the error to each of its lookups, and
// none of them is ever a row: here the table stays locked by another
// session past the statement timeout, for the first lookup and then for the
// batch queued behind it. Afterwards the store answers again.
TEST_F(SociOwnershipStorePgTest, AFailedBatchFailsEachOfItsLookupsClosed) {
  std::vector<int> sizes;
  absl::Mutex mu;
  auto store = OpenStore(
      "", "large", 1, 16,
      [&](int size) {
        absl::MutexLock lock(&mu);
        sizes.push_back(size);
      },
      absl::Seconds(1));
  ASSERT_NE(store, nullptr);
  soci::session locker(*soci::factory_postgresql(),
                       server_->ConnectionString().substr(std::string("postgresql://").size()));
  locker << "BEGIN";
  locker << "LOCK TABLE large.api_interviewcall IN ACCESS EXCLUSIVE MODE";
  std::vector<absl::StatusOr<std::optional<CallOwnership>>> got(6, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  threads.emplace_back([&] { got[0] = store->FindCall("call_1", Soon()); });
  absl::SleepFor(absl::Milliseconds(100));
  for (int i = 1; i < 6; ++i) {
    threads.emplace_back([&, i] { got[i] = store->FindCall(absl::StrCat("call_", i), Soon()); });
  }
  absl::SleepFor(absl::Milliseconds(2500));  // both queries time out (1 s each)
  locker << "ROLLBACK";
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].status().code(), absl::StatusCode::kUnavailable)
        << i << ": " << got[i].status();
  }
  {
    absl::MutexLock lock(&mu);
    EXPECT_THAT(sizes, ::testing::ElementsAre(1, 5));
  }
  auto again = store->FindCall("call_1", Soon());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->has_value());
}

}  // namespace
}  // namespace hookguard

namespace hookguard {
namespace {

// The fixture's connection string, to database `dbname`.
std::string ToDatabase(const std::string& connection_string, const std::string& dbname) {
  return absl::StrReplaceAll(connection_string, {{"dbname=postgres", "dbname=" + dbname}});
}

// Threat row 27: ids that the column's type (uuid) or the database's
// encoding (LATIN1) cannot hold, coalesced with other tenants' lookups
// (1 in 4): every other id gets its own owner, and each poison id is not
// found (PostgreSQL refused it while binding: no row can have it).
TEST_F(SociOwnershipStorePgTest, APoisonedIdFailsNoOtherLookupOfItsBatch) {
  ASSERT_TRUE(server_
                  ->RunSql("CREATE TABLE uuid_calls (id uuid PRIMARY KEY, owner text);\n"
                           "INSERT INTO uuid_calls SELECT md5(g::text)::uuid, 'owner_' || g"
                           " FROM generate_series(1, 12) g;\n"
                           "CREATE DATABASE latin TEMPLATE template0 ENCODING 'LATIN1'"
                           " LC_COLLATE 'C' LC_CTYPE 'C';\n")
                  .ok());
  const std::string latin =
      ToDatabase(server_->ConnectionString(), "latin").substr(std::string("postgresql://").size());
  {
    soci::session sql(*soci::factory_postgresql(), latin + " client_encoding=UTF8");
    sql << "CREATE TABLE latin_calls (id text PRIMARY KEY, owner text)";
    sql << "INSERT INTO latin_calls SELECT 'call_' || g, 'owner_' || g FROM generate_series(1, 11) "
           "g";
    sql << "INSERT INTO latin_calls VALUES ('call_\xc3\xa9', 'owner_12')";  // call_é
  }
  std::vector<std::string> uuids;
  {
    soci::session sql(*soci::factory_postgresql(),
                      server_->ConnectionString().substr(std::string("postgresql://").size()));
    soci::rowset<std::string> rows =
        (sql.prepare << "SELECT id::text FROM uuid_calls ORDER BY substr(owner, 7)::int");
    for (const std::string& id : rows) uuids.push_back(id);
  }
  ASSERT_EQ(uuids.size(), 12u);
  std::vector<std::string> names;
  for (int g = 1; g <= 11; ++g) names.push_back(absl::StrCat("call_", g));
  names.push_back("call_\xc3\xa9");
  const struct {
    const char* name;
    std::string database;
    const char* query;
    std::vector<std::string> good;    // good[g - 1] is owner_g's
    std::vector<std::string> poison;  // not found
  } cases[] = {
      {"uuid",
       "postgres",
       "SELECT owner, NULL, NULL, NULL, NULL FROM uuid_calls WHERE id = :call_id",
       uuids,
       {"not-a-uuid", "x' OR '1'='1", "", "call_1"}},
      {"latin1",
       "latin",
       "SELECT owner, NULL, NULL, NULL, NULL FROM latin_calls WHERE id = :call_id -- it's",
       names,
       {"call_\xe2\x82\xac", "call_\xe2\x9c\x93", "\xf0\x9f\x98\x80"}},  // €, ✓, 😀
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    SociStoreOptions options;
    options.connection_string = ToDatabase(server_->ConnectionString(), c.database);
    options.pool_size = 1;
    options.max_batch = 16;
    options.call_query = c.query;
    options.phone_number_query = "SELECT CAST(:phone_number_id AS TEXT) WHERE false";
    options.assistant_query = "SELECT CAST(:assistant_id AS TEXT) WHERE false";
    std::atomic<int> batched{0};
    options.on_batch = [&](int size) {
      if (size > 1) ++batched;
    };
    absl::StatusOr<std::unique_ptr<SociOwnershipStore>> store = SociOwnershipStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<std::string> ids, want;
    for (size_t i = 0; i < 48; ++i) {
      if (i % 4 == 3) {
        ids.push_back(c.poison[i / 4 % c.poison.size()]);
        want.push_back("not found");
      } else {
        const size_t g = i % c.good.size();
        ids.push_back(c.good[g]);
        want.push_back(absl::StrCat("owner_", g + 1, "|NULL|NULL|NULL|NULL"));
      }
    }
    // Alone, too.
    for (const std::string& poison : c.poison) {
      EXPECT_EQ(Show((*store)->FindCall(poison, Soon())), "not found") << poison;
    }
    EXPECT_EQ(
        WrongAnswersUnderLoad(**store, ids, want, 30, [](int t, int i) { return t * 7 + i * 13; }),
        0);
    EXPECT_GT(batched.load(), 0) << "16 threads on 1 connection never formed a batch";
  }
}

// Subject queries share the call lookups' batch path: batched through the
// dialect-aware rewriter (:id), and an id the column's type cannot hold,
// coalesced with other tenants' lookups, is not found while every other id
// of its batch gets its own owner (the batch is asked again one id at a
// time).
TEST_F(SociOwnershipStorePgTest, APoisonedSubjectIdFailsNoOtherLookupOfItsBatch) {
  ASSERT_TRUE(server_
                  ->RunSql("CREATE TABLE subject_accounts (id uuid PRIMARY KEY, owner text);\n"
                           "INSERT INTO subject_accounts SELECT md5('s' || g)::uuid, 'owner_' || g"
                           " FROM generate_series(1, 12) g;\n")
                  .ok());
  std::vector<std::string> accounts;
  {
    soci::session sql(*soci::factory_postgresql(),
                      server_->ConnectionString().substr(std::string("postgresql://").size()));
    soci::rowset<std::string> rows =
        (sql.prepare << "SELECT id::text FROM subject_accounts ORDER BY substr(owner, 7)::int");
    for (const std::string& id : rows) accounts.push_back(id);
  }
  ASSERT_EQ(accounts.size(), 12u);
  SociStoreOptions options;
  options.connection_string = server_->ConnectionString();
  options.pool_size = 1;
  options.max_batch = 16;
  options.subject_queries = {"SELECT owner FROM subject_accounts WHERE id = :id"};
  options.call_lookup = options.phone_number_lookup = options.assistant_lookup = false;
  std::atomic<int> batched{0};
  options.on_batch = [&](int size) {
    if (size > 1) ++batched;
  };
  absl::StatusOr<std::unique_ptr<SociOwnershipStore>> store = SociOwnershipStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<std::string> poison = {"not-a-uuid", "x' OR '1'='1", "acct_1"};
  for (const std::string& id : poison) {
    OwnerAnswer alone = (*store)->FindSubjectOwner(0, id, Soon());
    ASSERT_TRUE(alone.ok()) << id << ": " << alone.status();
    EXPECT_FALSE(alone->has_value()) << id;
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        const int k = (t * 7 + i * 13) % 48;
        const bool poisoned = k % 4 == 3;
        const std::string id = poisoned ? poison[k / 4 % poison.size()] : accounts[k % 12];
        const std::string want = poisoned ? "not found" : absl::StrCat("owner_", k % 12 + 1);
        OwnerAnswer got = (*store)->FindSubjectOwner(0, id, Soon());
        const std::string shown = !got.ok()           ? got.status().ToString()
                                  : !got->has_value() ? std::string("not found")
                                                      : **got;
        if (shown != want) {
          ++wrong;
          ADD_FAILURE() << id << ": " << shown << " != " << want;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(batched.load(), 0) << "16 threads on 1 connection never formed a batch";
}

// Threat row 31 on PostgreSQL's own parser: configured queries with quotes,
// names and comments that could hide a parameter from the rewriter answer
// exactly as one by one (rewritten correctly, or refused and run alone).
TEST_F(SociOwnershipStorePgTest, TrickyConfiguredQueriesAnswerAsOneByOne) {
  ASSERT_TRUE(server_
                  ->RunSql("CREATE TABLE tricky (k text, o text, \"own'r\" int);\n"
                           "CREATE TABLE \"rev'd\" (k text);\n"
                           "INSERT INTO tricky VALUES ('a', 'alice', 1), ('b', 'bob', 1),"
                           " ('c', 'carol', 0), ('d', 'it''s', 1);\n"
                           "INSERT INTO \"rev'd\" VALUES ('b');\n")
                  .ok());
  const char* queries[] = {
      "SELECT o, NULL, NULL, NULL, NULL FROM tricky WHERE NOT EXISTS (SELECT 1 FROM \"rev'd\" r"
      " WHERE r.k = :call_id) AND \"own'r\" = 1 AND k = :call_id",
      "SELECT o, NULL, NULL, NULL, NULL FROM tricky WHERE k = :call_id -- the provider's id",
      "SELECT o, NULL, NULL, NULL, NULL /* its */ FROM tricky WHERE k = :call_id"
      " AND o <> $$it's$$",
      "SELECT o, NULL, NULL, NULL, NULL FROM tricky WHERE k = :call_id -- it's\r"
      " AND o = 'alice'\n",
      "SELECT o, NULL, NULL, NULL, NULL FROM tricky WHERE k = :call_id AND o <> E'it\\'s'",
      "SELECT o, NULL, NULL, NULL, NULL FROM tricky /* a /* b */ '' */ WHERE k = :call_id",
      "SELECT o, NULL, NULL, NULL, NULL FROM tricky WHERE k = :call_id OR o = ':call_id'",
  };
  const std::vector<std::string> ids = {"a", "b", "c", "d", "x", "a'", ""};
  for (const char* query : queries) {
    SCOPED_TRACE(query);
    auto alone = OpenStore(query, "", 1, 1);
    auto batched = OpenStore(query, "", 1, 16);
    ASSERT_NE(alone, nullptr);
    ASSERT_NE(batched, nullptr);
    std::vector<std::string> want;
    for (const std::string& id : ids) want.push_back(Show(alone->FindCall(id, Soon())));
    EXPECT_EQ(want[0], "alice|NULL|NULL|NULL|NULL");
    EXPECT_EQ(
        WrongAnswersUnderLoad(*batched, ids, want, 20, [](int t, int i) { return t * 3 + i * 5; }),
        0);
  }
}

// The database down at start, then up: a configured query whose batched
// form does not prepare (a data-modifying WITH must be at the top level)
// falls back to one lookup per query then, as Open would have, instead of
// failing every lookup for good; one with a commented apostrophe is
// batched. Both answer right.
TEST_F(SociOwnershipStorePgTest, DownAtStartThenUpEndsAnsweringRight) {
  const struct {
    const char* query;
    bool batched;
  } cases[] = {
      {"WITH d AS (UPDATE api_interviewcall SET id = id WHERE false RETURNING id)"
       " SELECT CAST(user_id AS TEXT), NULL, NULL, NULL, NULL FROM api_interviewcall"
       " WHERE vapi_call_id = :call_id",
       false},
      {"SELECT CAST(user_id AS TEXT), NULL, NULL, NULL, NULL FROM api_interviewcall"
       " WHERE vapi_call_id = :call_id -- the provider's id",
       true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.query);
    ASSERT_TRUE(server_->Stop().ok());
    std::atomic<int> batched{0};
    auto store = OpenStore(c.query, "", 1, 16, [&](int size) {
      if (size > 1) ++batched;
    });
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(store->Ping(Soon()).ok());
    ASSERT_TRUE(server_->Restart().ok());
    EXPECT_TRUE(store->Ping(Soon()).ok());
    const std::vector<std::string> ids = {"call_alice_1", "call_bob_1", "call_nobody"};
    std::vector<std::string> want = {"1|NULL|NULL|NULL|NULL", "2|NULL|NULL|NULL|NULL", "not found"};
    EXPECT_EQ(WrongAnswersUnderLoad(*store, ids, want, 20, [](int t, int i) { return t + i; }), 0);
    EXPECT_GT(batched.load(), 0);  // the coalescer still forms batches
    if (c.batched) {
      EXPECT_EQ(store->unbatched(), "");
    } else {
      EXPECT_THAT(store->unbatched(), HasSubstr("ownership.call_query: runs one lookup per query"));
    }
  }
}

}  // namespace
}  // namespace hookguard

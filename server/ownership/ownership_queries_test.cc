#include "server/ownership/ownership_queries.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

TEST(CompileOwnershipQueries, FillsTheDefaultSchemaForWhatIsNotSet) {
  absl::StatusOr<OwnershipQueries> none = CompileOwnershipQueries(config::v1::Ownership());
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->call, kDefaultCallQuery);
  EXPECT_EQ(none->phone_number, kDefaultPhoneNumberQuery);
  EXPECT_EQ(none->assistant, kDefaultAssistantQuery);
  EXPECT_EQ(none->audit_assistant, kDefaultAuditAssistantQuery);
  EXPECT_EQ(none->audit_phone_number, kDefaultAuditPhoneNumberQuery);
  EXPECT_EQ(*none, OwnershipQueries());

  config::v1::Ownership some;
  some.set_assistant_query("SELECT owner FROM bots WHERE id = :assistant_id");
  some.set_audit_phone_number_query("SELECT 1");
  absl::StatusOr<OwnershipQueries> queries = CompileOwnershipQueries(some);
  ASSERT_TRUE(queries.ok()) << queries.status();
  EXPECT_EQ(queries->assistant, some.assistant_query());
  EXPECT_EQ(queries->audit_phone_number, "SELECT 1");
  EXPECT_EQ(queries->call, kDefaultCallQuery);
  EXPECT_NE(*queries, OwnershipQueries());
}

// An own schema (call_query set) reads no table of the default schema: the
// lookups it does not configure are off (empty), those it does are on.
TEST(CompileOwnershipQueries, AnOwnCallQueryLeavesUnsetLookupsOff) {
  config::v1::Ownership own;
  own.set_call_query("SELECT o, a, ao, p, po FROM calls WHERE id = :call_id");
  absl::StatusOr<OwnershipQueries> queries = CompileOwnershipQueries(own);
  ASSERT_TRUE(queries.ok()) << queries.status();
  EXPECT_EQ(queries->call, own.call_query());
  EXPECT_EQ(queries->phone_number, "");
  EXPECT_EQ(queries->assistant, "");
  EXPECT_FALSE(queries->phone_number_on());
  EXPECT_FALSE(queries->assistant_on());
  EXPECT_EQ(queries->audit_assistant, kDefaultAuditAssistantQuery);

  own.set_phone_number_query("SELECT owner FROM lines WHERE id = :phone_number_id");
  queries = CompileOwnershipQueries(own);
  ASSERT_TRUE(queries.ok()) << queries.status();
  EXPECT_TRUE(queries->phone_number_on());
  EXPECT_EQ(queries->phone_number, own.phone_number_query());
  EXPECT_FALSE(queries->assistant_on());

  EXPECT_TRUE(OwnershipQueries().phone_number_on());
  EXPECT_TRUE(OwnershipQueries().assistant_on());
}

TEST(CompileOwnershipQueries, EveryLookupMustBindItsParameter) {
  const struct {
    void (config::v1::Ownership::*set)(const std::string&);
    const char* key;
    const char* parameter;
  } cases[] = {
      {&config::v1::Ownership::set_call_query, "ownership.call_query", ":call_id"},
      {&config::v1::Ownership::set_phone_number_query, "ownership.phone_number_query",
       ":phone_number_id"},
      {&config::v1::Ownership::set_assistant_query, "ownership.assistant_query", ":assistant_id"},
  };
  for (const auto& c : cases) {
    config::v1::Ownership ownership;
    (ownership.*c.set)("SELECT owner FROM t WHERE id = ?");
    absl::StatusOr<OwnershipQueries> queries = CompileOwnershipQueries(ownership);
    ASSERT_FALSE(queries.ok()) << c.key;
    EXPECT_EQ(queries.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(queries.status().message().find(c.key), absl::string_view::npos) << queries.status();
    EXPECT_NE(queries.status().message().find(c.parameter), absl::string_view::npos);
  }
}

// The default queries bind exactly what the lookups bind.
TEST(OwnershipQueries, DefaultsBindTheirParameters) {
  EXPECT_NE(std::string(kDefaultCallQuery).find(":call_id"), std::string::npos);
  EXPECT_NE(std::string(kDefaultPhoneNumberQuery).find(":phone_number_id"), std::string::npos);
  EXPECT_NE(std::string(kDefaultAssistantQuery).find(":assistant_id"), std::string::npos);
  EXPECT_EQ(std::string(kDefaultAuditAssistantQuery).find(':'), std::string::npos);
  EXPECT_EQ(std::string(kDefaultAuditPhoneNumberQuery).find(':'), std::string::npos);
}

}  // namespace
}  // namespace hookguard

namespace hookguard {
namespace {

constexpr SqlDialect kPg = SqlDialect::kPostgresql;
constexpr SqlDialect kLite = SqlDialect::kSqlite;

TEST(ConfiguredBatchQuery, UnionsOneCopyPerIdWithItsSlotAndParameter) {
  for (SqlDialect dialect : {kPg, kLite}) {
    EXPECT_EQ(ConfiguredBatchQuery("SELECT o FROM t WHERE k = :call_id", "call_id", 2, dialect),
              "SELECT 0 AS slot, q0.* FROM (SELECT o FROM t WHERE k = :id0\n) q0"
              " UNION ALL SELECT 1 AS slot, q1.* FROM (SELECT o FROM t WHERE k = :id1\n) q1");
  }
}

// What each dialect's lexer reads as quotes and comments: the parameter is
// renamed where it is SQL, quoted text is kept, comments are dropped.
TEST(ConfiguredBatchQuery, RenamesOnlyTheParameterAndDropsComments) {
  const struct {
    SqlDialect dialect;
    const char* query;
    const char* copy;  // copy 0 of the batch; nullptr: refused
  } cases[] = {
      {kPg, "SELECT CAST(o AS TEXT)::text FROM t WHERE k = :call_id OR k2 = :call_id::text",
       "SELECT CAST(o AS TEXT)::text FROM t WHERE k = :id0 OR k2 = :id0::text"},
      {kPg, "SELECT o FROM t WHERE s = 'it''s' AND k = :call_id;  ",
       "SELECT o FROM t WHERE s = 'it''s' AND k = :id0"},
      // The comment with an apostrophe: dropped, so SOCI's scan
      // (which knows no comments) never opens a string there.
      {kPg, "SELECT o FROM t WHERE vapi_call_id = :call_id -- the provider's id",
       "SELECT o FROM t WHERE vapi_call_id = :id0  "},
      {kLite, "SELECT o FROM t -- the provider's id\nWHERE k = :call_id",
       "SELECT o FROM t  \nWHERE k = :id0"},
      // Nested: PostgreSQL and SQLite read it differently.
      {kPg, "SELECT o /* it's /* nested */ still */ FROM t WHERE k = :call_id", nullptr},
      {kPg, "SELECT o /* it's */ FROM t WHERE k = :call_id", "SELECT o   FROM t WHERE k = :id0"},
      {kPg, "SELECT o FROM t WHERE k = :call_id -- it's\r\n", "SELECT o FROM t WHERE k = :id0  "},
      {kPg, "SELECT o FROM \"own'r\" WHERE k = :call_id", nullptr},  // SOCI 4.0 may read a string
      {kPg, "SELECT o FROM \"own''r\" WHERE k = :call_id",
       "SELECT o FROM \"own''r\" WHERE k = :id0"},
      {kPg, "SELECT o FROM t WHERE s = $q$it's$q$ AND k = :call_id", nullptr},  // SOCI's scan
      {kPg, "SELECT o FROM t WHERE s = $$a''b$$ AND k = :call_id",
       "SELECT o FROM t WHERE s = $$a''b$$ AND k = :id0"},
      {kPg, "SELECT o FROM t WHERE s = E'a\\'''b' AND k = :call_id", nullptr},  // SOCI's scan
      {kPg, "SELECT o FROM t WHERE s = E'a\\\\' AND k = :call_id",
       "SELECT o FROM t WHERE s = E'a\\\\' AND k = :id0"},
      {kLite, "SELECT o FROM [rev] WHERE `k` = :call_id", "SELECT o FROM [rev] WHERE `k` = :id0"},
      {kLite, "SELECT o FROM t WHERE s = 'a\\' AND k = :call_id",
       "SELECT o FROM t WHERE s = 'a\\' AND k = :id0"},
  };
  for (const auto& c : cases) {
    std::optional<std::string> batch = ConfiguredBatchQuery(c.query, "call_id", 1, c.dialect);
    if (c.copy == nullptr) {
      EXPECT_EQ(batch, std::nullopt) << c.query;
    } else {
      EXPECT_EQ(batch, absl::StrCat("SELECT 0 AS slot, q0.* FROM (", c.copy, "\n) q0")) << c.query;
    }
  }
}

TEST(ConfiguredBatchQuery, RefusesWhatItCannotRewriteForSure) {
  const struct {
    SqlDialect dialect;
    const char* query;
  } cases[] = {
      {kPg, "SELECT o FROM t WHERE k = :call_id; DELETE FROM t"},  // two statements
      {kPg, "SELECT o FROM t WHERE k = :call_idx"},                // the parameter nowhere
      {kPg, "SELECT o FROM t WHERE s = ':call_id'"},               // only in a string
      {kPg, "SELECT o FROM t WHERE k = :call_id AND s = 'open"},   // unterminated
      {kPg, "SELECT o FROM t WHERE k = :call_id /* open"},
      {kPg, "SELECT o FROM t WHERE k = $1 AND j = :call_id"},     // positional
      {kPg, "SELECT o FROM t WHERE s = 'a\\' AND k = :call_id"},  // standard_conforming_strings
      // Parameter text left anywhere: refused, even where it is quoted.
      {kPg, "SELECT o FROM t WHERE k = :call_id OR s = 'x:call_id'"},
      {kPg, "SELECT o FROM t WHERE k = :call_id OR k2 = :other"},
      {kPg, "SELECT o FROM t WHERE k = :call_id OR \"c:call_id\" = 1"},
      {kPg, "SELECT o FROM t WHERE k = :call_id OR s = ':id1'"},
      {kLite, "SELECT o FROM t WHERE k = :call_id OR [c:call_id] = 1"},
      // The query read as PostgreSQL: [rev'd] opens a string.
      {kPg,
       "SELECT o FROM t WHERE NOT EXISTS (SELECT 1 FROM [rev'd] r WHERE r.k = :call_id)"
       " AND [own'r] = 1 AND k = :call_id"},
      // A bare '\r' ends a -- comment on PostgreSQL, not on SQLite.
      {kPg, "SELECT o FROM t -- x\r AND k = :call_id\nWHERE k = :call_id"},
      {kLite, "SELECT o FROM t -- x\r AND k = :call_id\nWHERE k = :call_id"},
      {kLite, "SELECT o FROM t WHERE k = :call_id AND j = ?"},
      {kLite, "SELECT o FROM t WHERE k = :call_id AND j = $x"},
      {kLite, "SELECT o FROM t WHERE k = :call_id AND j = @x"},
      {kLite, "SELECT o FROM [t WHERE k = :call_id"},
      // The parameter's name after a cast's `::` (config_fuzzer found it).
      {kPg, "SELECT o FROM t WHERE k = :call_id AND j = ::call_id"},
      {kLite, "SELECT o FROM t WHERE k = :call_id AND j = ::call_id"},
      {kLite, "SELECT o FROM t WHERE k = :call_id AND j = ::call_idx"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ConfiguredBatchQuery(c.query, "call_id", 2, c.dialect), std::nullopt) << c.query;
  }
}

// The query on SQLite: both parameters renamed.
TEST(ConfiguredBatchQuery, KnowsSqliteBracketAndBacktickNames) {
  EXPECT_EQ(ConfiguredBatchQuery(
                "SELECT o FROM t WHERE NOT EXISTS (SELECT 1 FROM [rev'd] r WHERE r.k = :call_id)"
                " AND [own'r] = 1 AND `it's` = :call_id",
                "call_id", 1, kLite),
            "SELECT 0 AS slot, q0.* FROM (SELECT o FROM t WHERE NOT EXISTS (SELECT 1 FROM [rev'd] "
            "r WHERE r.k = :id0) AND [own'r] = 1 AND `it's` = :id0\n) q0");
}

}  // namespace
}  // namespace hookguard

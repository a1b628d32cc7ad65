#include "server/ownership/ownership_queries.h"

#include <string>

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

TEST(ConfiguredBatchQuery, UnionsOneCopyPerIdWithItsSlotAndParameter) {
  EXPECT_EQ(ConfiguredBatchQuery("SELECT o FROM t WHERE k = :call_id", "call_id", 2),
            "SELECT 0 AS slot, q0.* FROM (SELECT o FROM t WHERE k = :id0\n) q0"
            " UNION ALL SELECT 1 AS slot, q1.* FROM (SELECT o FROM t WHERE k = :id1\n) q1");
}

TEST(ConfiguredBatchQuery, RenamesOnlyTheParameterItself) {
  // Twice, beside a cast, a longer name, a string, a quoted name and comments.
  EXPECT_EQ(ConfiguredBatchQuery("SELECT CAST(o AS TEXT)::text FROM t WHERE k = :call_id"
                                 " OR k2 = :call_id::text OR k3 = :call_idx"
                                 " OR s = 'it''s :call_id' OR \"col:call_id\" = 1"
                                 " /* :call_id */ -- :call_id\n;  ",
                                 "call_id", 1),
            "SELECT 0 AS slot, q0.* FROM (SELECT CAST(o AS TEXT)::text FROM t WHERE k = :id0"
            " OR k2 = :id0::text OR k3 = :call_idx"
            " OR s = 'it''s :call_id' OR \"col:call_id\" = 1"
            " /* :call_id */ -- :call_id\n) q0");
  // A comment that ends the text ends before the wrapper's parenthesis.
  EXPECT_EQ(ConfiguredBatchQuery("SELECT o FROM t WHERE k = :call_id -- the key", "call_id", 1),
            "SELECT 0 AS slot, q0.* FROM (SELECT o FROM t WHERE k = :id0 -- the key\n) q0");
}

TEST(ConfiguredBatchQuery, LeavesWhatItCannotWrapToOneLookupPerQuery) {
  for (const char* query : {
           "SELECT o FROM t WHERE k = :call_id; DELETE FROM t",    // two statements
           "SELECT o FROM t WHERE k = :call_idx",                  // the parameter nowhere
           "SELECT o FROM t WHERE s = ':call_id'",                 // only in a string
           "SELECT o FROM t WHERE k = :call_id AND s = 'open",     // unterminated
           "SELECT o FROM t WHERE k = :call_id AND s = E'a\\'b'",  // backslash escapes
           "SELECT o FROM t WHERE k = :call_id AND s = $$x$$",     // dollar quoting
           "SELECT o FROM t WHERE k = :call_id /* open",
       }) {
    EXPECT_EQ(ConfiguredBatchQuery(query, "call_id", 2), std::nullopt) << query;
  }
}

}  // namespace
}  // namespace hookguard

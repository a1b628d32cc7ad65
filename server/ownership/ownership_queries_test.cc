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

#include "server/ownership/subject_query.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(NamedParameters, SkipsLiteralsCommentsAndCasts) {
  EXPECT_THAT(NamedParameters("SELECT CAST(user_id AS TEXT) FROM t WHERE k = :id"),
              ElementsAre("id"));
  EXPECT_THAT(NamedParameters("SELECT user_id::text FROM t WHERE k = :id::text"),
              ElementsAre("id"));
  EXPECT_THAT(NamedParameters("SELECT ':x', \":y\" FROM t -- :z\n WHERE /* :w */ k = :id"),
              ElementsAre("id"));
  EXPECT_THAT(NamedParameters("SELECT 'it''s :x' WHERE k = :id AND j = :other"),
              ElementsAre("id", "other"));
  EXPECT_THAT(NamedParameters("SELECT '12:30'"), IsEmpty());
}

TEST(CheckSubjectQuery, AcceptsQueriesBindingOnlyId) {
  for (const char* q : {"SELECT CAST(user_id AS TEXT) FROM payments_connectedaccount WHERE "
                        "stripe_account_id = :id",
                        "SELECT owner FROM t WHERE a = :id OR b = :id"}) {
    EXPECT_TRUE(CheckSubjectQuery(q).ok()) << q;
  }
}

TEST(CheckSubjectQuery, RefusesMissingOrOtherParameters) {
  const struct {
    const char* query;
    const char* why;
  } cases[] = {
      {"", "required"},
      {"   ", "required"},
      {"SELECT owner FROM t WHERE k = 'x'", "must bind :id"},
      {"SELECT owner FROM t WHERE k = ':id'", "must bind :id"},
      {"SELECT owner FROM t WHERE k = :ident", "must bind :id"},
      {"SELECT owner FROM t WHERE k = :id AND tenant = :tenant", ":tenant"},
      {"SELECT owner FROM t WHERE k = :call_id", "must bind :id"},
  };
  for (const auto& c : cases) {
    absl::Status s = CheckSubjectQuery(c.query);
    EXPECT_FALSE(s.ok()) << c.query;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.why)) << c.query;
  }
}

}  // namespace
}  // namespace hookguard

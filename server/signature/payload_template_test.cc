#include "server/signature/payload_template.h"

#include <string>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

std::string ExpandToString(absl::string_view format) {
  absl::StatusOr<PayloadTemplate> t = PayloadTemplate::Parse(format);
  EXPECT_TRUE(t.ok()) << t.status();
  if (!t.ok()) return "";
  const PayloadTemplate::Values values{"BODY", "TS", "POST", "https://x/y", "ID"};
  return absl::StrJoin(t->Expand(values), "");
}

TEST(PayloadTemplate, SubstitutesEveryPlaceholder) {
  struct Case {
    const char* format;
    const char* expanded;
  };
  const Case cases[] = {
      {"{body}", "BODY"},
      {"{timestamp}.{body}", "TS.BODY"},
      {"v0:{timestamp}:{body}", "v0:TS:BODY"},
      {"{id}.{timestamp}.{body}", "ID.TS.BODY"},
      {"{method} {url}\n{body}", "POST https://x/y\nBODY"},
      {"{body}.{body}", "BODY.BODY"},
      {"literal}only", "literal}only"},
  };
  for (const Case& c : cases) EXPECT_EQ(ExpandToString(c.format), c.expanded) << c.format;
}

TEST(PayloadTemplate, ReportsWhichPlaceholdersItUses) {
  absl::StatusOr<PayloadTemplate> t = PayloadTemplate::Parse("{timestamp}.{body}");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->Uses(Placeholder::kTimestamp));
  EXPECT_TRUE(t->Uses(Placeholder::kBody));
  EXPECT_FALSE(t->Uses(Placeholder::kId));
  EXPECT_FALSE(t->Uses(Placeholder::kMethod));
  EXPECT_FALSE(t->Uses(Placeholder::kUrl));
}

TEST(PayloadTemplate, RejectsUnknownOrBrokenPlaceholders) {
  for (const char* bad : {"", "{Body}", "{bdy}", "{body", "{timestamp}.{", "{}", "{{body}}"}) {
    absl::StatusOr<PayloadTemplate> t = PayloadTemplate::Parse(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_NE(t.status().message().find("payload_format"), absl::string_view::npos) << bad;
    }
  }
}

// With "{id}{timestamp}{body}", x-id "msg_10" + x-timestamp "T" and x-id
// "msg_1" + x-timestamp "0T" sign the same bytes: a replay passes the
// dedup under another delivery's key (threat row 28).
TEST(PayloadTemplate, RejectsAdjacentPlaceholders) {
  for (const char* bad : {"{id}{timestamp}{body}", "{timestamp}{body}", "{id}.{timestamp}{body}",
                          "v1:{method}{url}.{body}", "{body}{body}"}) {
    absl::StatusOr<PayloadTemplate> t = PayloadTemplate::Parse(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_NE(t.status().message().find("adjacent placeholders"), absl::string_view::npos)
        << t.status().message();
  }
  for (const char* good : {"{id}.{timestamp}.{body}", "{timestamp}:{body}", "{method} {url}"}) {
    EXPECT_TRUE(PayloadTemplate::Parse(good).ok()) << good;
    EXPECT_FALSE(PayloadTemplate::Parse(good)->TimestampFollowsBody()) << good;
  }
}

// Retell signs the body then the timestamp: the one adjacency taken, and
// marked so that the verifier takes milliseconds only.
TEST(PayloadTemplate, TakesTheTimestampRightAfterTheBody) {
  absl::StatusOr<PayloadTemplate> t = PayloadTemplate::Parse("{body}{timestamp}");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->TimestampFollowsBody());
  for (const char* bad : {"{body}{timestamp}{id}", "{id}{body}{timestamp}"}) {
    EXPECT_FALSE(PayloadTemplate::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace hookguard

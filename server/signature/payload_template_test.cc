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
      {"{body}{body}", "BODYBODY"},
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

}  // namespace
}  // namespace hookguard

#include "server/audit/audit_log.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

std::vector<std::string> LinesOf(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string all;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) all.append(buf, n);
  std::vector<std::string> lines = absl::StrSplit(all, '\n', absl::SkipEmpty());
  return lines;
}

audit::v1::AuditRecord Parse(const std::string& line) {
  audit::v1::AuditRecord record;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &record).ok()) << line;
  return record;
}

TEST(AuditLog, AllowWritesOneInfoLine) {
  std::FILE* f = std::tmpfile();
  AuditLog log(f);
  audit::v1::AuditRecord record;
  record.set_decision_id("abc");
  record.set_decision("DECISION_ALLOW");
  log.Decision(record);
  auto lines = LinesOf(f);
  ASSERT_EQ(lines.size(), 1u);
  auto parsed = Parse(lines[0]);
  EXPECT_EQ(parsed.kind(), "decision");
  EXPECT_EQ(parsed.level(), "info");
  EXPECT_EQ(parsed.decision_id(), "abc");
  EXPECT_FALSE(parsed.time().empty());
  std::fclose(f);
}

TEST(AuditLog, DenyAddsAWarningSecurityEvent) {
  std::FILE* f = std::tmpfile();
  AuditLog log(f);
  audit::v1::AuditRecord record;
  record.set_decision_id("d1");
  record.set_decision("DECISION_DENY");
  record.set_reason("DENY_REASON_ASSISTANT_MISMATCH");
  log.Decision(record);
  auto lines = LinesOf(f);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(Parse(lines[0]).kind(), "decision");
  EXPECT_EQ(Parse(lines[0]).level(), "warning");
  EXPECT_EQ(Parse(lines[1]).kind(), "security_event");
  EXPECT_EQ(Parse(lines[1]).decision_id(), "d1");
  std::fclose(f);
}

TEST(AuditLog, FailedRpcIsASecurityEvent) {
  std::FILE* f = std::tmpfile();
  AuditLog log(f);
  audit::v1::AuditRecord record;
  record.set_grpc_code("UNAVAILABLE");
  log.Decision(record);
  EXPECT_EQ(LinesOf(f).size(), 2u);
  std::fclose(f);
}

TEST(AuditLog, ValidSignatureAloneIsAllowed) {
  std::FILE* f = std::tmpfile();
  AuditLog log(f);
  audit::v1::AuditRecord record;
  record.set_signature("SIGNATURE_RESULT_VALID");
  log.Decision(record);
  EXPECT_EQ(LinesOf(f).size(), 1u);
  std::fclose(f);
}

}  // namespace
}  // namespace hookguard

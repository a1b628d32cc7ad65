#include "server/audit/audit_log.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace hookguard {

std::string AuditLog::ToJson(const audit::v1::AuditRecord& record) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  // Printing a message without Any fields cannot fail.
  (void)google::protobuf::util::MessageToJsonString(record, &json, options);
  return json;
}

void AuditLog::Write(audit::v1::AuditRecord& record) {
  if (out_ == nullptr) return;
  record.set_time(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()));
  std::string line = ToJson(record);
  line.push_back('\n');
  absl::MutexLock lock(&mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

void AuditLog::Decision(audit::v1::AuditRecord record) {
  const bool allowed = record.decision() == "DECISION_ALLOW" ||
                       (record.decision().empty() && record.grpc_code().empty() &&
                        record.signature() == "SIGNATURE_RESULT_VALID");
  record.set_kind("decision");
  record.set_level(allowed ? "info" : "warning");
  Write(record);
  if (!allowed) {
    record.set_kind("security_event");
    record.set_level("warning");
    Write(record);
  }
}

void AuditLog::Server(absl::string_view level, absl::string_view detail) {
  audit::v1::AuditRecord record;
  record.set_kind("server");
  record.set_level(std::string(level));
  record.set_detail(std::string(detail));
  Write(record);
}

}  // namespace hookguard

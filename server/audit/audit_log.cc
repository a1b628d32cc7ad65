#include "server/audit/audit_log.h"

#include <cstdio>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace hookguard {
namespace {

// Appends `value` as a JSON string. Escapes what Protobuf's JSON printer
// escapes in ASCII (quote, backslash, control characters, DEL, '<', '>'),
// so that a log line can never be split or closed early by a value. Other
// bytes are copied: proto3 string fields hold valid UTF-8.
void AppendJsonString(std::string* out, const std::string& value) {
  out->push_back('"');
  for (const char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f || c == '<' || c == '>') {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out->append(escaped);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void AppendField(std::string* out, const char* name, const std::string& value) {
  if (value.empty()) return;  // proto3 JSON omits default values
  out->append(out->size() > 1 ? ",\"" : "\"");
  out->append(name);
  out->append("\":");
  AppendJsonString(out, value);
}

// RFC 3339 UTC with microseconds, e.g. 2026-11-02T10:00:00.123456Z.
std::string FormatUtcMicros(absl::Time now) {
  const int64_t micros = absl::ToUnixMicros(now);
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(micros % 1000000));
  return buf;
}

}  // namespace

// Written by hand: Protobuf's reflective JSON printer took a quarter of the
// CPU time of a VerifySignature call (docs/performance.md). The output is
// the printer's: proto field names in field-number order, default values
// omitted, int64 as a JSON string; audit_log_test.cc compares the two for
// every field of the record, so a new field cannot be forgotten here.
std::string AuditLog::ToJson(const audit::v1::AuditRecord& r) {
  std::string out;
  out.reserve(384);
  out.push_back('{');
  AppendField(&out, "kind", r.kind());
  AppendField(&out, "level", r.level());
  AppendField(&out, "time", r.time());
  AppendField(&out, "decision_id", r.decision_id());
  AppendField(&out, "rpc", r.rpc());
  AppendField(&out, "profile", r.profile());
  AppendField(&out, "key_id", r.key_id());
  AppendField(&out, "signature", r.signature());
  AppendField(&out, "decision", r.decision());
  AppendField(&out, "reason", r.reason());
  AppendField(&out, "call_id", r.call_id());
  AppendField(&out, "owner_id", r.owner_id());
  AppendField(&out, "caller", r.caller());
  if (r.latency_us() != 0) AppendField(&out, "latency_us", absl::StrCat(r.latency_us()));
  AppendField(&out, "grpc_code", r.grpc_code());
  AppendField(&out, "detail", r.detail());
  AppendField(&out, "message_id", r.message_id());
  out.push_back('}');
  return out;
}

void AuditLog::Write(audit::v1::AuditRecord& record) {
  if (out_ == nullptr) return;
  record.set_time(FormatUtcMicros(absl::Now()));
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

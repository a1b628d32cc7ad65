#include "server/audit/audit_log.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/audit/json_string.h"

namespace hookguard {
namespace {

void AppendField(std::string* out, const char* name, absl::string_view value) {
  if (value.empty()) return;  // proto3 JSON omits default values
  out->append(out->size() > 1 ? ",\"" : "\"");
  out->append(name);
  out->append("\":");
  AppendJsonString(out, value);
}

// Writes `value` as `width` decimal digits, zero-padded, ending before `end`.
void PutDigits(char* end, int width, int64_t value) {
  for (int i = 0; i < width; ++i) {
    *--end = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// RFC 3339 UTC with microseconds, e.g. 2026-11-02T10:00:00.123456Z.
std::string FormatUtcMicros(absl::Time now) {
  const int64_t micros = absl::ToUnixMicros(now);
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[] = "0000-00-00T00:00:00.000000Z";
  PutDigits(buf + 4, 4, tm.tm_year + 1900);
  PutDigits(buf + 7, 2, tm.tm_mon + 1);
  PutDigits(buf + 10, 2, tm.tm_mday);
  PutDigits(buf + 13, 2, tm.tm_hour);
  PutDigits(buf + 16, 2, tm.tm_min);
  PutDigits(buf + 19, 2, tm.tm_sec);
  PutDigits(buf + 26, 6, micros % 1000000);
  return std::string(buf, sizeof(buf) - 1);
}

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Written by hand: Protobuf's reflective JSON printer took a quarter of the
// CPU time of a VerifySignature call (docs/dev/benchmark-history.md). The output is
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
  AppendField(&out, "resolved_by", r.resolved_by());
  AppendField(&out, "mode", r.mode());
  AppendField(&out, "event_type", r.event_type());
  AppendField(&out, "assistant_id", r.assistant_id());
  AppendField(&out, "phone_number_id", r.phone_number_id());
  AppendField(&out, "subjects", r.subjects());
  AppendField(&out, "resolved_subject", r.resolved_subject());
  out.push_back('}');
  return out;
}

void AuditLog::AppendLine(audit::v1::AuditRecord& record, std::string* lines) {
  record.set_time(FormatUtcMicros(absl::Now()));
  lines->append(ToJson(record));
  lines->push_back('\n');
}

// Lines are appended to `pending_`; the first thread that must write and
// finds no write in progress writes the whole queue, and keeps writing until
// it is empty; threads that come while it writes only queue their lines.
// A caller that says more work is queued behind it (`more_coming`) leaves
// its line queued unless kBatchBytes have gathered: the thread that finishes
// the last queued request writes them all. So at rest every line is written
// before its answer leaves, and under load one write(2) carries many lines.
void AuditLog::WriteLines(const std::string& lines, bool more_coming) {
  if (out_ == nullptr) return;
  mu_.Lock();
  // Backpressure: when stdout is stalled (a full pipe, a stuck log
  // collector), the writer is blocked and the queue is full, callers wait
  // here, and so do their answers: no decision goes unlogged while the log
  // cannot take it, and memory stays bounded.
  // (A Flush, adding nothing, never waits: the health loop calls it.)
  if (!lines.empty()) {
    mu_.Await(absl::Condition(
        +[](AuditLog* log) ABSL_EXCLUSIVE_LOCKS_REQUIRED(log->mu_) {
          return log->pending_.size() < kMaxQueuedBytes;
        },
        this));
  }
  pending_.append(lines);
  if (writing_ || (more_coming && pending_.size() < kBatchBytes)) {
    mu_.Unlock();
    return;
  }
  writing_ = true;
  while (!pending_.empty()) {
    std::string batch;
    batch.swap(pending_);
    mu_.Unlock();
    write_started_ns_.store(std::max<int64_t>(1, SteadyNanos()), std::memory_order_relaxed);
    std::fwrite(batch.data(), 1, batch.size(), out_);
    std::fflush(out_);
    write_started_ns_.store(0, std::memory_order_relaxed);
    mu_.Lock();
  }
  writing_ = false;
  mu_.Unlock();
}

void AuditLog::Flush() { WriteLines(std::string(), /*more_coming=*/false); }

void AuditLog::Decision(RequestOutcome outcome, bool more_coming) {
  const bool allowed = outcome.allowed();
  audit::v1::AuditRecord record = ToAuditRecord(std::move(outcome));
  std::string lines;
  lines.reserve(512);
  record.set_kind("decision");
  record.set_level(allowed ? "info" : "warning");
  AppendLine(record, &lines);
  if (!allowed) {
    record.set_kind("security_event");
    record.set_level("warning");
    AppendLine(record, &lines);
  }
  WriteLines(lines, more_coming);
}

void AuditLog::Server(absl::string_view level, absl::string_view detail, bool queue_only) {
  audit::v1::AuditRecord record;
  record.set_kind("server");
  record.set_level(std::string(level));
  record.set_detail(std::string(detail));
  std::string line;
  AppendLine(record, &line);
  if (queue_only) {
    if (out_ == nullptr) return;
    absl::MutexLock lock(&mu_);
    pending_.append(line);
    return;
  }
  WriteLines(line, /*more_coming=*/false);
}

absl::Duration AuditLog::StalledFor() const {
  const int64_t started = write_started_ns_.load(std::memory_order_relaxed);
  if (started == 0) return absl::ZeroDuration();
  return absl::Nanoseconds(std::max<int64_t>(0, SteadyNanos() - started));
}

}  // namespace hookguard

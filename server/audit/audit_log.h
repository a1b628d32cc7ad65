// The audit log: one JSON line per decision on an output stream (stdout).
#ifndef HOOKGUARD_SERVER_AUDIT_AUDIT_LOG_H_
#define HOOKGUARD_SERVER_AUDIT_AUDIT_LOG_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "hookguard/audit/v1/audit.pb.h"
#include "server/audit/request_outcome.h"

namespace hookguard {

// Writes AuditRecords as JSON lines (the output of Protobuf's JSON printer,
// proto field names). What goes in a record is the caller's responsibility; the record
// type has no field for a secret, a signature or a body, which is the point.
// Thread-safe: lines are written whole, never interleaved.
class AuditLog {
 public:
  // `out` is not owned and must outlive the log. nullptr discards all lines.
  explicit AuditLog(std::FILE* out) : out_(out) {}

  // Writes the "decision" line of `outcome` (ToAuditRecord; level "info"
  // when outcome.allowed(), "warning" otherwise) and, for every deny or
  // failure, a "security_event" line at level "warning" with the same ids.
  //
  // `more_coming`: the caller has more requests queued behind this one. The
  // line may then wait in memory (up to kBatchBytes of lines) for the next
  // write, made by the call that finds no work queued, by a full batch, or
  // by Flush(). Without it, the line is written before Decision returns
  // (or by the thread writing at that moment, which writes until no line
  // is queued).
  void Decision(RequestOutcome outcome, bool more_coming = false);

  // Writes every queued line. The server calls it periodically and at exit.
  void Flush();

  // Lines gathered at most before they are written even under load.
  static constexpr size_t kBatchBytes = size_t{16} * 1024;
  // Lines queued at most behind a write in progress; beyond it, Decision and
  // Server wait for the write (a stalled stdout stalls the answers).
  static constexpr size_t kMaxQueuedBytes = size_t{1024} * 1024;

  // Writes a "server" line: start, stop, reloads and their failures.
  // `queue_only`: the line is queued and written by the next write (a
  // decision, Flush), and the call never waits, not even for a stalled
  // output: for the health loop, which must keep answering while the log is
  // stuck. Such lines may exceed kMaxQueuedBytes; keep them rare.
  void Server(absl::string_view level, absl::string_view detail, bool queue_only = false);

  // How long the write in progress has been blocked (a stalled stdout: a
  // full pipe nobody reads, a stuck log collector); zero when no write is in
  // progress. On a monotonic clock. Never waits; thread-safe.
  absl::Duration StalledFor() const;

  // Formats `record` as the JSON line the log prints (no newline).
  static std::string ToJson(const audit::v1::AuditRecord& record);

 private:
  // Sets the record's time and appends its line to `lines`.
  static void AppendLine(audit::v1::AuditRecord& record, std::string* lines);
  // Queues whole lines and writes them to `out_` (see the .cc).
  void WriteLines(const std::string& lines, bool more_coming);

  std::FILE* const out_;
  absl::Mutex mu_;
  std::string pending_ ABSL_GUARDED_BY(mu_);  // lines queued behind the write in progress
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // steady_clock nanoseconds at which the write in progress began; 0: none.
  std::atomic<int64_t> write_started_ns_{0};
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_AUDIT_AUDIT_LOG_H_

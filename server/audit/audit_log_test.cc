#include "server/audit/audit_log.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
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
  RequestOutcome record;
  record.decision_id = "abc";
  record.decision = v1::DECISION_ALLOW;
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
  RequestOutcome record;
  record.decision_id = "d1";
  record.decision = v1::DECISION_DENY;
  record.reason = v1::DENY_REASON_ASSISTANT_MISMATCH;
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
  RequestOutcome record;
  record.code = absl::StatusCode::kUnavailable;
  log.Decision(record);
  EXPECT_EQ(LinesOf(f).size(), 2u);
  std::fclose(f);
}

TEST(AuditLog, ValidSignatureAloneIsAllowed) {
  std::FILE* f = std::tmpfile();
  AuditLog log(f);
  RequestOutcome record;
  record.signature = v1::SIGNATURE_RESULT_VALID;
  log.Decision(record);
  EXPECT_EQ(LinesOf(f).size(), 1u);
  std::fclose(f);
}

// ToJson is written by hand for speed; it must print what Protobuf's JSON
// printer prints, for every field (a field added to audit.proto and not to
// ToJson fails here) and for values that need escaping.
TEST(AuditLog, ToJsonMatchesProtobufsJsonPrinterForEveryField) {
  const google::protobuf::Descriptor* descriptor = audit::v1::AuditRecord::descriptor();
  const google::protobuf::Reflection* reflection = audit::v1::AuditRecord::GetReflection();
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // C1 controls, U+2028 and U+2029 too (escaped), and their neighbours and
  // cut-off lead bytes (copied): U+00A0, U+2027, U+202A, a lone C2 and E2.
  const std::string tricky =
      std::string("q\"b\\s<a>\n\r\t\b\f\x01\x1f\x7f/ok") + "\xc3\xa9" +
      "\xc2\x80\xc2\x85\xc2\x9f\xc2\xa0\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xa7" +
      "\xe2\x80\xaa\xe2\x82\xac";
  for (int only = -1; only < descriptor->field_count(); ++only) {
    audit::v1::AuditRecord record;
    for (int i = 0; i < descriptor->field_count(); ++i) {
      if (only >= 0 && i != only) continue;
      const google::protobuf::FieldDescriptor* field = descriptor->field(i);
      switch (field->cpp_type()) {
        case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
          reflection->SetString(&record, field, field->name() + tricky);
          break;
        case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
          reflection->SetInt64(&record, field, 1234567890123);
          break;
        default:
          FAIL() << "ToJson does not know the type of field " << field->name();
      }
    }
    std::string expected;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(record, &expected, options).ok());
    EXPECT_EQ(AuditLog::ToJson(record), expected) << "field " << only;
  }
  EXPECT_EQ(AuditLog::ToJson(audit::v1::AuditRecord()), "{}");
}

// Threat: an id with U+0085 (NEL), U+2028 or U+2029 split the audit line for
// line tools (JSON allows them raw). They are written as \\uXXXX escapes.
TEST(AuditLog, EscapesC1ControlsAndUnicodeLineSeparatorsInIds) {
  struct Case {
    const char* id;
    const char* written;
  };
  const Case cases[] = {
      {"call\xc2\x85x", "call\\u0085x"},
      {"call\xc2\x80x", "call\\u0080x"},
      {"call\xc2\x9fx", "call\\u009fx"},
      {"call\xe2\x80\xa8x", "call\\u2028x"},
      {"call\xe2\x80\xa9x", "call\\u2029x"},
      {"call\xc2\xa0x", "call\xc2\xa0x"},  // NBSP: kept
      {"call\xc2", "call\xc2"},
      {"call\xe2\x80", "call\xe2\x80"},  // cut off
  };
  for (const Case& c : cases) {
    std::FILE* f = std::tmpfile();
    AuditLog log(f);
    RequestOutcome record;
    record.decision_id = "d";
    record.call_id = c.id;
    record.message_id = c.id;
    record.decision = v1::DECISION_ALLOW;
    log.Decision(record);
    const std::vector<std::string> lines = LinesOf(f);
    ASSERT_EQ(lines.size(), 1u) << c.written;
    for (const char* raw : {"\xc2\x80", "\xc2\x85", "\xc2\x9f", "\xe2\x80\xa8", "\xe2\x80\xa9"}) {
      EXPECT_EQ(lines[0].find(raw), std::string::npos) << lines[0];
    }
    EXPECT_NE(lines[0].find(absl::StrCat("\"call_id\":\"", c.written, "\"")), std::string::npos)
        << lines[0];
    std::fclose(f);
  }
}

// Every code point above ASCII, 256 at a time: ToJson escapes exactly what
// Protobuf's JSON printer escapes (kEscapedAboveAscii in audit_log.cc).
TEST(AuditLog, ToJsonEscapesWhatProtobufsPrinterEscapesForEveryCodePoint) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  const auto utf8 = [](uint32_t c, std::string* out) {
    if (c < 0x800) {
      out->push_back(static_cast<char>(0xc0 | c >> 6));
    } else if (c < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | c >> 12));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | c >> 18));
      out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    }
    out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
  };
  for (uint32_t first = 0x80; first < 0x110000; first += 256) {
    std::string text;
    for (uint32_t c = first; c < first + 256 && c < 0x110000; ++c) {
      if (c < 0xd800 || c > 0xdfff) utf8(c, &text);  // surrogates are not UTF-8
    }
    audit::v1::AuditRecord record;
    record.set_call_id(text);
    std::string expected;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(record, &expected, options).ok());
    ASSERT_EQ(AuditLog::ToJson(record), expected) << "code points from U+" << std::hex << first;
  }
}

TEST(AuditLog, TimeIsRfc3339UtcWithMicroseconds) {
  std::FILE* f = std::tmpfile();
  AuditLog log(f);
  log.Server("info", "x");
  const std::string time = Parse(LinesOf(f)[0]).time();
  ASSERT_EQ(time.size(), 27u) << time;
  EXPECT_EQ(time[4], '-');
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time[19], '.');
  EXPECT_EQ(time.back(), 'Z');
  absl::Time parsed;
  std::string error;
  ASSERT_TRUE(absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*SZ", time, &parsed, &error)) << error;
  EXPECT_LT(absl::AbsDuration(parsed - absl::Now()), absl::Seconds(5)) << time;
  std::fclose(f);
}

TEST(AuditLog, LinesWithMoreComingWaitForTheNextWrite) {
  std::FILE* f = std::tmpfile();
  AuditLog log(f);
  RequestOutcome record;
  record.decision = v1::DECISION_ALLOW;
  record.decision_id = "first";
  log.Decision(record, /*more_coming=*/true);
  EXPECT_EQ(LinesOf(f).size(), 0u) << "written although more work was queued";
  record.decision_id = "second";
  log.Decision(record, /*more_coming=*/false);
  const std::vector<std::string> lines = LinesOf(f);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(Parse(lines[0]).decision_id(), "first");
  EXPECT_EQ(Parse(lines[1]).decision_id(), "second");

  record.decision_id = "third";
  log.Decision(record, /*more_coming=*/true);
  EXPECT_EQ(LinesOf(f).size(), 2u);
  log.Flush();
  EXPECT_EQ(LinesOf(f).size(), 3u) << "Flush left a line queued";

  // A server line is never held back, and takes queued lines with it.
  log.Decision(record, /*more_coming=*/true);
  log.Server("info", "stopped");
  EXPECT_EQ(LinesOf(f).size(), 5u);
  std::fclose(f);
}

TEST(AuditLog, AFullBatchIsWrittenEvenWithMoreComing) {
  std::FILE* f = std::tmpfile();
  AuditLog log(f);
  RequestOutcome record;
  record.decision = v1::DECISION_ALLOW;
  record.detail = std::string(1000, 'x');
  size_t queued_bytes = 0;  // what was handed to the log before the first write
  std::vector<std::string> lines;
  for (int i = 0; i < 40 && lines.empty(); ++i) {
    log.Decision(record, /*more_coming=*/true);
    lines = LinesOf(f);
    if (lines.empty()) queued_bytes += AuditLog::ToJson(ToAuditRecord(record)).size() + 1;
  }
  ASSERT_FALSE(lines.empty()) << "40 KB of lines and still nothing written";
  EXPECT_LT(queued_bytes, AuditLog::kBatchBytes) << "a full batch was held back";
  size_t written = 0;
  for (const std::string& line : lines) written += line.size() + 1;
  EXPECT_GE(written, AuditLog::kBatchBytes) << "written before the batch was full";
  std::fclose(f);
}

TEST(AuditLog, AStalledOutputStallsCallersInsteadOfQueueingWithoutBound) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::FILE* out = fdopen(fds[1], "w");
  ASSERT_NE(out, nullptr);
  constexpr int kLines = 5000;  // ~5 MB: far more than the pipe and the queue hold
  std::atomic<int> logged{0};
  {
    AuditLog log(out);
    RequestOutcome big;
    big.decision = v1::DECISION_ALLOW;
    big.detail = std::string(200 * 1024, 'b');
    // Nobody reads the pipe: this thread's write blocks once 64 KB are in it.
    std::thread writer([&log, big] { log.Decision(big); });
    // Wait until the pipe is full, so that the writer is surely blocked in
    // its write and the caller below only queues behind it.
    for (int queued = 0; queued < 60 * 1024;) {
      absl::SleepFor(absl::Milliseconds(5));
      ASSERT_EQ(ioctl(fds[0], FIONREAD, &queued), 0);
    }
    std::thread caller([&log, &logged] {
      RequestOutcome record;
      record.decision = v1::DECISION_ALLOW;
      record.detail = std::string(1000, 'x');
      for (int i = 0; i < kLines; ++i) {
        log.Decision(record);
        logged.fetch_add(1);
      }
    });
    absl::SleepFor(absl::Milliseconds(500));
    // Unbounded, the caller would have queued all 5 MB in a few ms.
    const int before_reading = logged.load();
    log.Flush();  // returns at once: a flush adds nothing to wait for
    EXPECT_LT(before_reading, kLines) << "the queue grew without bound";
    EXPECT_LE(static_cast<size_t>(before_reading) * 1000, AuditLog::kMaxQueuedBytes + 2000);
    // Now read everything: both threads finish and every line comes out whole.
    std::string all;
    std::thread reader([&all, fd = fds[0]] {
      char buf[65536];
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0) all.append(buf, static_cast<size_t>(n));
    });
    writer.join();
    caller.join();
    std::fclose(out);  // EOF for the reader
    reader.join();
    close(fds[0]);
    const std::vector<std::string> lines = absl::StrSplit(all, '\n', absl::SkipEmpty());
    EXPECT_EQ(lines.size(), static_cast<size_t>(kLines + 1));
    for (const std::string& line : lines) Parse(line);
  }
}

// Health reads StalledFor() to report a log stuck behind a pipe nobody
// reads; the health loop's own lines must not wait for that pipe.
TEST(AuditLog, ReportsHowLongAWriteHasBeenBlockedAndQueuedLinesNeverWait) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::FILE* out = fdopen(fds[1], "w");
  ASSERT_NE(out, nullptr);
  {
    AuditLog log(out);
    EXPECT_EQ(log.StalledFor(), absl::ZeroDuration());
    RequestOutcome big;
    big.decision = v1::DECISION_ALLOW;
    big.detail = std::string(200 * 1024, 'b');
    std::thread writer([&log, big] { log.Decision(big); });
    for (int queued = 0; queued < 60 * 1024;) {
      absl::SleepFor(absl::Milliseconds(5));
      ASSERT_EQ(ioctl(fds[0], FIONREAD, &queued), 0);
    }
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_GE(log.StalledFor(), absl::Milliseconds(250));
    const absl::Time before = absl::Now();
    log.Server("error", "audit log stalled", /*queue_only=*/true);
    EXPECT_LT(absl::Now() - before, absl::Milliseconds(100)) << "a queued line waited";
    std::string all;
    std::thread reader([&all, fd = fds[0]] {
      char buf[65536];
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0) all.append(buf, static_cast<size_t>(n));
    });
    writer.join();
    EXPECT_EQ(log.StalledFor(), absl::ZeroDuration());
    std::fclose(out);
    reader.join();
    close(fds[0]);
    EXPECT_NE(all.find("audit log stalled"), std::string::npos)
        << "the queued line went out with the write after it";
  }
}

TEST(AuditLog, LinesFromManyThreadsAreAllWrittenWhole) {
  // Group commit: lines queued while another thread writes must all come
  // out, each whole, none lost or cut.
  std::FILE* f = std::tmpfile();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  {
    AuditLog log(f);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kPerThread; ++i) {
          RequestOutcome record;
          record.decision = i % 2 == 0 ? v1::DECISION_ALLOW : v1::DECISION_DENY;
          record.decision_id = absl::StrCat(t, "-", i);
          log.Decision(record, /*more_coming=*/i % 3 != 0);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    log.Flush();
  }
  const std::vector<std::string> lines = LinesOf(f);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread * 3 / 2));
  std::set<std::string> decisions;
  for (const std::string& line : lines) {
    const audit::v1::AuditRecord record = Parse(line);
    if (record.kind() == "decision") decisions.insert(record.decision_id());
  }
  EXPECT_EQ(decisions.size(), static_cast<size_t>(kThreads * kPerThread));
  std::fclose(f);
}

}  // namespace
}  // namespace hookguard

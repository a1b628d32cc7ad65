#include "server/service/metrics.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

TEST(Metrics, CountsRequestsByDecisionAndReason) {
  Metrics metrics;
  audit::v1::AuditRecord record;
  record.set_rpc("AuthorizeWebhook");
  record.set_decision("DECISION_DENY");
  record.set_reason("DENY_REASON_ASSISTANT_MISMATCH");
  metrics.ObserveRequest(record, absl::Microseconds(300));
  metrics.ObserveRequest(record, absl::Microseconds(300));
  const std::string text = metrics.Render();
  EXPECT_TRUE(absl::StrContains(
      text,
      "hookguard_requests_total{rpc=\"AuthorizeWebhook\",decision=\"DECISION_DENY\","
      "reason=\"DENY_REASON_ASSISTANT_MISMATCH\",code=\"OK\"} 2"))
      << text;
}

TEST(Metrics, CountsSignatureResultsPerKeyId) {
  Metrics metrics;
  audit::v1::AuditRecord record;
  record.set_rpc("VerifySignature");
  record.set_profile("vapi");
  record.set_key_id("2026-10");
  record.set_signature("SIGNATURE_RESULT_VALID");
  metrics.ObserveRequest(record, absl::Microseconds(10));
  EXPECT_TRUE(absl::StrContains(metrics.Render(),
                                "hookguard_signature_results_total{profile=\"vapi\",key_id=\"2026-"
                                "10\",result=\"SIGNATURE_RESULT_VALID\"} 1"));
}

TEST(Metrics, LatencyHistogramIsCumulative) {
  Metrics metrics;
  audit::v1::AuditRecord record;
  record.set_rpc("VerifySignature");
  metrics.ObserveRequest(record, absl::Microseconds(200));  // <= 0.00025
  metrics.ObserveRequest(record, absl::Milliseconds(2));    // <= 0.0025
  const std::string text = metrics.Render();
  EXPECT_TRUE(absl::StrContains(
      text, "hookguard_request_duration_seconds_bucket{rpc=\"VerifySignature\",le=\"0.0001\"} 0"));
  EXPECT_TRUE(absl::StrContains(
      text, "hookguard_request_duration_seconds_bucket{rpc=\"VerifySignature\",le=\"0.00025\"} 1"));
  EXPECT_TRUE(absl::StrContains(
      text, "hookguard_request_duration_seconds_bucket{rpc=\"VerifySignature\",le=\"0.0025\"} 2"));
  EXPECT_TRUE(absl::StrContains(
      text, "hookguard_request_duration_seconds_bucket{rpc=\"VerifySignature\",le=\"+Inf\"} 2"));
  EXPECT_TRUE(absl::StrContains(
      text, "hookguard_request_duration_seconds_count{rpc=\"VerifySignature\"} 2"));
}

TEST(Metrics, DatabaseErrorsAndReloadsAreCounted) {
  Metrics metrics;
  metrics.ObserveDatabaseQuery(absl::Milliseconds(1), absl::UnavailableError("down"));
  metrics.ObserveReload(false);
  const std::string text = metrics.Render();
  EXPECT_TRUE(absl::StrContains(text, "hookguard_db_errors_total{code=\"UNAVAILABLE\"} 1"));
  EXPECT_TRUE(absl::StrContains(text, "\nhookguard_db_query_duration_seconds_count 1\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "hookguard_config_reloads_total{result=\"error\"} 1"));
  EXPECT_TRUE(absl::StrContains(text, "hookguard_config_last_reload_success 0"));
}

TEST(Metrics, BatchSizeHistogramIsCumulative) {
  Metrics m;
  for (int size : {1, 1, 3, 16, 40}) m.ObserveDatabaseBatch(size);
  const std::string text = m.Render();
  for (const char* line :
       {"hookguard_db_batch_size_bucket{le=\"1\"} 2\n",
        "hookguard_db_batch_size_bucket{le=\"2\"} 2\n",
        "hookguard_db_batch_size_bucket{le=\"4\"} 3\n",
        "hookguard_db_batch_size_bucket{le=\"16\"} 4\n",
        "hookguard_db_batch_size_bucket{le=\"32\"} 4\n",
        "hookguard_db_batch_size_bucket{le=\"64\"} 5\n",
        "hookguard_db_batch_size_bucket{le=\"+Inf\"} 5\n", "hookguard_db_batch_size_sum 61\n",
        "hookguard_db_batch_size_count 5\n"}) {
    EXPECT_TRUE(absl::StrContains(text, line)) << line << text;
  }
}

TEST(Metrics, MissingSecretsArePerProfileAndReplaced) {
  Metrics metrics;
  metrics.SetMissingSecrets({{"vapi", 1}, {"legacy", 0}});
  std::string text = metrics.Render();
  EXPECT_TRUE(absl::StrContains(text, "hookguard_secrets_missing{profile=\"vapi\"} 1")) << text;
  EXPECT_TRUE(absl::StrContains(text, "hookguard_secrets_missing{profile=\"legacy\"} 0")) << text;
  metrics.SetMissingSecrets({{"vapi", 0}});
  text = metrics.Render();
  EXPECT_TRUE(absl::StrContains(text, "hookguard_secrets_missing{profile=\"vapi\"} 0")) << text;
  EXPECT_FALSE(absl::StrContains(text, "profile=\"legacy\"")) << text;
}

TEST(Metrics, EscapesLabelValues) {
  Metrics metrics;
  audit::v1::AuditRecord record;
  record.set_rpc("VerifySignature");
  record.set_profile("a\"b\\c");
  record.set_signature("SIGNATURE_RESULT_VALID");
  metrics.ObserveRequest(record, absl::Microseconds(1));
  EXPECT_TRUE(absl::StrContains(metrics.Render(), "profile=\"a\\\"b\\\\c\""));
}

}  // namespace
}  // namespace hookguard

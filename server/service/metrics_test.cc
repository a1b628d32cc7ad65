#include "server/service/metrics.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

TEST(Metrics, CountsRequestsByDecisionAndReason) {
  Metrics metrics;
  RequestOutcome record;
  record.rpc = Rpc::kAuthorizeWebhook;
  record.decision = v1::DECISION_DENY;
  record.reason = v1::DENY_REASON_ASSISTANT_MISMATCH;
  record.latency = absl::Microseconds(300);
  metrics.ObserveRequest(record);
  record.latency = absl::Microseconds(300);
  metrics.ObserveRequest(record);
  const std::string text = metrics.Render();
  EXPECT_TRUE(absl::StrContains(
      text,
      "hookguard_requests_total{rpc=\"AuthorizeWebhook\",decision=\"DECISION_DENY\","
      "reason=\"DENY_REASON_ASSISTANT_MISMATCH\",code=\"OK\"} 2"))
      << text;
}

TEST(Metrics, CountsFailuresByCodeAndShadowDeniesAndOwnerSources) {
  Metrics metrics;
  RequestOutcome failed;
  failed.rpc = Rpc::kAuthorizeCallEvent;
  failed.code = absl::StatusCode::kUnavailable;
  metrics.ObserveRequest(failed);
  RequestOutcome shadow;
  shadow.rpc = Rpc::kAuthorizeWebhook;
  shadow.profile = "vapi";
  shadow.signature = v1::SIGNATURE_RESULT_VALID;
  shadow.decision = v1::DECISION_DENY;
  shadow.reason = v1::DENY_REASON_OWNER_MISMATCH;
  shadow.shadow = true;
  metrics.ObserveRequest(shadow);
  RequestOutcome early;
  early.rpc = Rpc::kAuthorizeCallEvent;
  early.decision = v1::DECISION_ALLOW;
  early.resolved_by = v1::OWNER_SOURCE_PHONE_NUMBER;
  metrics.ObserveRequest(early);
  const std::string text = metrics.Render();
  for (const char* line : {
           "hookguard_requests_total{rpc=\"AuthorizeCallEvent\",decision=\"\",reason=\"\","
           "code=\"UNAVAILABLE\"} 1",
           "hookguard_requests_total{rpc=\"AuthorizeWebhook\",decision=\"DECISION_DENY\","
           "reason=\"DENY_REASON_OWNER_MISMATCH\",code=\"OK\"} 1",
           "hookguard_shadow_denies_total{rpc=\"AuthorizeWebhook\",profile=\"vapi\","
           "reason=\"DENY_REASON_OWNER_MISMATCH\"} 1",
           "hookguard_owner_resolved_total{rpc=\"AuthorizeCallEvent\","
           "resolved_by=\"OWNER_SOURCE_PHONE_NUMBER\"} 1",
           "hookguard_requests_total{rpc=\"AuthorizeCallEvent\",decision=\"DECISION_ALLOW\","
           "reason=\"\",code=\"OK\"} 1",
       }) {
    EXPECT_TRUE(absl::StrContains(text, line)) << line << " not in\n" << text;
  }
  // Only a checked signature is counted as one.
  EXPECT_FALSE(absl::StrContains(text, "result=\"SIGNATURE_RESULT_UNSPECIFIED\"")) << text;
}

TEST(Metrics, CountsSignatureResultsPerKeyId) {
  Metrics metrics;
  RequestOutcome record;
  record.rpc = Rpc::kVerifySignature;
  record.profile = "vapi";
  record.key_id = "2026-10";
  record.signature = v1::SIGNATURE_RESULT_VALID;
  record.latency = absl::Microseconds(10);
  metrics.ObserveRequest(record);
  EXPECT_TRUE(absl::StrContains(metrics.Render(),
                                "hookguard_signature_results_total{profile=\"vapi\",key_id=\"2026-"
                                "10\",result=\"SIGNATURE_RESULT_VALID\"} 1"));
}

TEST(Metrics, LatencyHistogramIsCumulative) {
  Metrics metrics;
  RequestOutcome record;
  record.rpc = Rpc::kVerifySignature;
  record.latency = absl::Microseconds(200);
  metrics.ObserveRequest(record);  // <= 0.00025
  record.latency = absl::Milliseconds(2);
  metrics.ObserveRequest(record);  // <= 0.0025
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

// The read-replica series exist only once a replica reports (--db_read).
TEST(Metrics, ReplicaSeriesAppearWithAReplicaOnly) {
  Metrics metrics;
  EXPECT_FALSE(absl::StrContains(metrics.Render(), "hookguard_db_replica"));
  metrics.SetReplicaLag(absl::Milliseconds(250), true);
  metrics.ObserveLookupTarget("replica");
  metrics.ObserveLookupTarget("replica");
  metrics.ObserveLookupTarget("primary");
  metrics.ObserveAbsenceConfirmation(true);
  metrics.ObserveAbsenceConfirmation(false);
  metrics.ObserveAbsenceConfirmation(false);
  std::string text = metrics.Render();
  EXPECT_TRUE(absl::StrContains(text, "hookguard_db_lookups_total{target=\"replica\"} 2")) << text;
  EXPECT_TRUE(absl::StrContains(text, "hookguard_db_lookups_total{target=\"primary\"} 1")) << text;
  EXPECT_TRUE(absl::StrContains(
      text, "hookguard_db_absence_confirmations_total{result=\"found_on_primary\"} 1"))
      << text;
  EXPECT_TRUE(
      absl::StrContains(text, "hookguard_db_absence_confirmations_total{result=\"confirmed\"} 2"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "hookguard_db_replica_lag_seconds 0.25\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "hookguard_db_replica_in_use 1\n")) << text;
  metrics.SetReplicaLag(std::nullopt, false);
  text = metrics.Render();
  EXPECT_TRUE(absl::StrContains(text, "hookguard_db_replica_lag_seconds -1\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "hookguard_db_replica_in_use 0\n")) << text;
}

TEST(Metrics, EscapesLabelValues) {
  Metrics metrics;
  RequestOutcome record;
  record.rpc = Rpc::kVerifySignature;
  record.profile = "a\"b\\c";
  record.signature = v1::SIGNATURE_RESULT_VALID;
  record.latency = absl::Microseconds(1);
  metrics.ObserveRequest(record);
  EXPECT_TRUE(absl::StrContains(metrics.Render(), "profile=\"a\\\"b\\\\c\""));
}

}  // namespace
}  // namespace hookguard

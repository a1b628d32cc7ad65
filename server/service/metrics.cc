#include "server/service/metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

#ifndef HOOKGUARD_VERSION
#define HOOKGUARD_VERSION "dev"
#endif

namespace hookguard {
namespace {

std::string Escape(const std::string& value) {
  return absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

std::string LabelSet(const std::vector<const char*>& names, const std::vector<std::string>& values,
                     const std::string& extra = "") {
  if (names.empty() && extra.empty()) return "";  // `name value`, not `name{} value`
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", names[i], "=\"", Escape(values[i]), "\"");
  }
  if (!extra.empty()) absl::StrAppend(&out, names.empty() ? "" : ",", extra);
  out += "}";
  return out;
}

void Header(std::string* out, const char* name, const char* type, const char* help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

void Metrics::Histogram::Observe(double value) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (value <= bounds[i]) ++counts[i];
  }
  ++count;
  sum += value;
}

void Metrics::ObserveRequest(const RequestOutcome& o) {
  const absl::string_view rpc = RpcName(o.rpc);
  // Unset enums are empty labels, as they are empty in the audit line.
  // (Decision_Name returns a reference to a static string.)
  const absl::string_view decision = o.decision == v1::DECISION_UNSPECIFIED
                                         ? absl::string_view()
                                         : absl::string_view(v1::Decision_Name(o.decision));
  const absl::string_view reason = o.reason == v1::DENY_REASON_UNSPECIFIED
                                       ? absl::string_view()
                                       : absl::string_view(v1::DenyReason_Name(o.reason));
  const std::string code = absl::StatusCodeToString(o.code);
  absl::MutexLock lock(&mu_);
  ++At(requests_, std::array<absl::string_view, 4>{rpc, decision, reason, code});
  if (o.signature != v1::SIGNATURE_RESULT_UNSPECIFIED) {
    ++At(signatures_, std::array<absl::string_view, 3>{o.profile, o.key_id,
                                                       v1::SignatureResult_Name(o.signature)});
  }
  if (o.resolved_by != v1::OWNER_SOURCE_UNSPECIFIED) {
    ++At(resolved_, std::array<absl::string_view, 2>{rpc, v1::OwnerSource_Name(o.resolved_by)});
  }
  if (o.shadow && !reason.empty()) {
    ++At(shadow_denies_, std::array<absl::string_view, 3>{rpc, o.profile, reason});
  }
  At(latency_, std::array<absl::string_view, 1>{rpc}).Observe(absl::ToDoubleSeconds(o.latency));
}

void Metrics::ObserveDatabaseQuery(absl::Duration latency, const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  db_latency_.Observe(absl::ToDoubleSeconds(latency));
  if (!status.ok()) ++db_errors_[{absl::StatusCodeToString(status.code())}];
}

void Metrics::SetDatabaseConnectionsInUse(int64_t in_use) {
  absl::MutexLock lock(&mu_);
  db_in_use_ = in_use;
}

void Metrics::ObserveDatabaseBatch(int size) {
  absl::MutexLock lock(&mu_);
  batch_sizes_.Observe(size);
}

void Metrics::SetDatabaseUp(bool up) {
  absl::MutexLock lock(&mu_);
  db_up_ = up ? 1 : 0;
}

void Metrics::ObserveLookupTarget(absl::string_view target) {
  absl::MutexLock lock(&mu_);
  ++At(lookup_targets_, std::array<absl::string_view, 1>{target});
}

void Metrics::ObserveAbsenceConfirmation(bool found) {
  absl::MutexLock lock(&mu_);
  ++At(absence_confirmations_,
       std::array<absl::string_view, 1>{found ? "found_on_primary" : "confirmed"});
}

void Metrics::SetReplicaLag(std::optional<absl::Duration> lag, bool in_use) {
  absl::MutexLock lock(&mu_);
  has_replica_ = true;
  replica_lag_seconds_ = lag.has_value() ? absl::ToDoubleSeconds(*lag) : -1;
  replica_in_use_ = in_use ? 1 : 0;
}

void Metrics::ObserveReload(bool ok) {
  absl::MutexLock lock(&mu_);
  ++reloads_[{ok ? "ok" : "error"}];
  last_reload_ok_ = ok ? 1 : 0;
}

void Metrics::SetShadowProfiles(int64_t count) {
  absl::MutexLock lock(&mu_);
  shadow_profiles_ = count;
}

void Metrics::SetWorkQueueDepth(int64_t depth) {
  absl::MutexLock lock(&mu_);
  queue_depth_ = depth;
}

void Metrics::SetAuditLogStalled(absl::Duration stalled) {
  absl::MutexLock lock(&mu_);
  log_stalled_seconds_ = absl::ToDoubleSeconds(stalled);
}

void Metrics::SetMissingSecrets(const std::map<std::string, int64_t>& by_profile) {
  absl::MutexLock lock(&mu_);
  missing_secrets_.clear();
  for (const auto& [profile, count] : by_profile) missing_secrets_[{profile}] = count;
}

std::string Metrics::Render() const {
  std::string out;
  auto histogram = [&out](const char* name, const std::vector<const char*>& names,
                          const Labels& values, const Histogram& h) {
    for (size_t i = 0; i < h.bounds.size(); ++i) {
      absl::StrAppend(&out, name, "_bucket",
                      LabelSet(names, values, absl::StrCat("le=\"", h.bounds[i], "\"")), " ",
                      h.counts[i], "\n");
    }
    absl::StrAppend(&out, name, "_bucket", LabelSet(names, values, "le=\"+Inf\""), " ", h.count,
                    "\n");
    absl::StrAppend(&out, name, "_sum", LabelSet(names, values), " ", h.sum, "\n");
    absl::StrAppend(&out, name, "_count", LabelSet(names, values), " ", h.count, "\n");
  };
  auto gauge = [&out](const char* name, const char* help, auto value) {
    Header(&out, name, "gauge", help);
    absl::StrAppend(&out, name, " ", value, "\n");
  };
  auto counters = [&out](const char* name, const std::vector<const char*>& names,
                         const auto& series) {
    for (const auto& [labels, value] : series) {
      absl::StrAppend(&out, name, LabelSet(names, labels), " ", value, "\n");
    }
  };

  absl::MutexLock lock(&mu_);
  Header(&out, "hookguard_build_info", "gauge", "Build information; always 1.");
  absl::StrAppend(&out, "hookguard_build_info{version=\"", HOOKGUARD_VERSION, "\"} 1\n");

  Header(&out, "hookguard_requests_total", "counter",
         "Answered RPCs by rpc, decision, deny reason and gRPC code.");
  counters("hookguard_requests_total", {"rpc", "decision", "reason", "code"}, requests_);

  Header(&out, "hookguard_signature_results_total", "counter",
         "Signature checks by profile, matching key id and result.");
  counters("hookguard_signature_results_total", {"profile", "key_id", "result"}, signatures_);

  Header(&out, "hookguard_owner_resolved_total", "counter",
         "Allowed events by rpc and how their owner was found (OWNER_SOURCE_CALL, or "
         "_PHONE_NUMBER / _ASSISTANT when the app had no call row, _SUBJECT for a profile's "
         "subjects).");
  counters("hookguard_owner_resolved_total", {"rpc", "resolved_by"}, resolved_);

  gauge("hookguard_shadow_profiles", "Profiles in shadow mode: their denies are answered ALLOW.",
        shadow_profiles_);

  Header(&out, "hookguard_shadow_denies_total", "counter",
         "Requests a shadow-mode profile answered ALLOW that enforcement would have denied, "
         "by rpc, profile and reason.");
  counters("hookguard_shadow_denies_total", {"rpc", "profile", "reason"}, shadow_denies_);

  Header(&out, "hookguard_request_duration_seconds", "histogram",
         "Time spent in the service per RPC.");
  for (const auto& [labels, h] : latency_) {
    histogram("hookguard_request_duration_seconds", {"rpc"}, labels, h);
  }

  Header(&out, "hookguard_db_query_duration_seconds", "histogram",
         "Time of one ownership lookup, including the wait for a connection or a batch.");
  histogram("hookguard_db_query_duration_seconds", {}, {}, db_latency_);

  Header(&out, "hookguard_db_batch_size", "histogram",
         "Ownership lookups per database query (1: a lookup sent alone; more: lookups that "
         "waited while every connection was busy, sent together).");
  histogram("hookguard_db_batch_size", {}, {}, batch_sizes_);

  Header(&out, "hookguard_db_errors_total", "counter", "Failed ownership lookups by code.");
  counters("hookguard_db_errors_total", {"code"}, db_errors_);

  gauge("hookguard_db_connections_in_use",
        "Ownership lookups in progress now: sent, or waiting for a connection.", db_in_use_);

  gauge("hookguard_db_up", "1 while the database answers the health ping.", db_up_);

  if (has_replica_) {
    Header(&out, "hookguard_db_lookups_total", "counter",
           "Ownership lookups sent to each database (--db_read): target \"replica\" or "
           "\"primary\" (misses of the replica, absences to confirm, and every lookup while "
           "the replica is out of use).");
    counters("hookguard_db_lookups_total", {"target"}, lookup_targets_);
    Header(&out, "hookguard_db_absence_confirmations_total", "counter",
           "Absences on the replica asked of the primary, by result: \"confirmed\" (no row "
           "there either) or \"found_on_primary\" (the replica lagged).");
    counters("hookguard_db_absence_confirmations_total", {"result"}, absence_confirmations_);
    gauge("hookguard_db_replica_lag_seconds",
          "The read replica's replay lag as it reports it; -1 when unknown or unreachable.",
          replica_lag_seconds_);
    gauge("hookguard_db_replica_in_use",
          "1 while lookups go to the read replica (its lag within --db_read_max_lag_ms).",
          replica_in_use_);
  }

  gauge("hookguard_work_queue_depth", "Requests waiting for a worker thread.", queue_depth_);

  gauge("hookguard_audit_log_stalled_seconds",
        "How long the audit log's write to stdout has been blocked; 0 when it is not.",
        log_stalled_seconds_);

  Header(&out, "hookguard_config_reloads_total", "counter",
         "Reloads of the configuration and secret files, by result.");
  counters("hookguard_config_reloads_total", {"result"}, reloads_);

  gauge("hookguard_config_last_reload_success",
        "0 after a failed reload (the previous configuration stays in force).", last_reload_ok_);

  Header(&out, "hookguard_secrets_missing", "gauge",
         "Configured secret files of a profile that could not be read at the last reload; "
         "those secrets verify nothing.");
  counters("hookguard_secrets_missing", {"profile"}, missing_secrets_);
  return out;
}

}  // namespace hookguard

// Prometheus metrics, rendered in the text exposition format.
#ifndef HOOKGUARD_SERVER_SERVICE_METRICS_H_
#define HOOKGUARD_SERVER_SERVICE_METRICS_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/audit/request_outcome.h"

namespace hookguard {

// Counters, gauges and latency histograms of the service. Label values come
// from enum names, profile names and key ids, never from request content
// beyond them, so the series stay few. Thread-safe.
class Metrics {
 public:
  // Latency bucket bounds, in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.25,   1};

  // One answered RPC: requests by rpc, decision, deny reason and gRPC code;
  // signature results by profile and key id; allowed events by how their
  // owner was found; shadow-mode denies by profile and reason; latency.
  // Label values are the enums' proto names ("" when unset, "OK" for the
  // code of a succeeded RPC).
  void ObserveRequest(const RequestOutcome& outcome);

  // One database lookup: its latency and, when it failed, its error code.
  void ObserveDatabaseQuery(absl::Duration latency, const absl::Status& status);
  void SetDatabaseConnectionsInUse(int64_t in_use);
  // One query sent for `size` lookups (1: a lookup sent alone).
  void ObserveDatabaseBatch(int size);
  // Upper bounds of the batch size buckets.
  static constexpr std::array<double, 7> kBatchBuckets = {1, 2, 4, 8, 16, 32, 64};
  void SetDatabaseUp(bool up);

  // With a read replica (--db_read): one lookup sent to `target` ("replica"
  // or "primary"); one absence the replica gave that the primary was asked
  // to confirm (`found`: it had the row after all); the replica's measured
  // replay lag (nullopt: unknown or unreachable) and whether lookups go to
  // it now.
  void ObserveLookupTarget(absl::string_view target);
  void ObserveAbsenceConfirmation(bool found);
  void SetReplicaLag(std::optional<absl::Duration> lag, bool in_use);

  // A reload of the configuration or secret files: "ok" or "error".
  void ObserveReload(bool ok);

  void SetWorkQueueDepth(int64_t depth);

  // The number of profiles in shadow mode (at start and after each reload).
  void SetShadowProfiles(int64_t count);

  // How long the audit log's write in progress has been blocked (0: none).
  void SetAuditLogStalled(absl::Duration stalled);

  // Per profile, how many of its configured secret files could not be read
  // at the last reload (those secrets are left out: they verify nothing).
  // Replaces the previous values; give every profile, 0 included.
  void SetMissingSecrets(const std::map<std::string, int64_t>& by_profile);

  // The whole exposition, e.g. for GET /metrics.
  std::string Render() const;

 private:
  // Cumulative buckets with the upper bounds `bounds` (kBuckets by
  // default), as Prometheus renders them.
  struct Histogram {
    explicit Histogram(absl::Span<const double> bounds = kBuckets)
        : bounds(bounds), counts(bounds.size()) {}
    absl::Span<const double> bounds;
    std::vector<uint64_t> counts;
    uint64_t count = 0;
    double sum = 0;
    void Observe(double value);
  };
  using Labels = std::vector<std::string>;
  // Orders label values, and lets a series be found from string_views, so
  // that counting a request copies no string.
  struct LabelsLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::lexicographical_compare(
          std::begin(a), std::end(a), std::begin(b), std::end(b),
          [](absl::string_view x, absl::string_view y) { return x < y; });
    }
  };
  template <typename V>
  using Series = std::map<Labels, V, LabelsLess>;

  // The value of the series with these label values, added (zero) if new.
  template <typename V, size_t N>
  static V& At(Series<V>& series, const std::array<absl::string_view, N>& values) {
    auto it = series.find(values);
    if (it == series.end()) it = series.emplace(Labels(values.begin(), values.end()), V{}).first;
    return it->second;
  }

  mutable absl::Mutex mu_;
  Series<uint64_t> requests_ ABSL_GUARDED_BY(mu_);    // rpc, decision, reason, code
  Series<uint64_t> signatures_ ABSL_GUARDED_BY(mu_);  // profile, key_id, result
  Series<Histogram> latency_ ABSL_GUARDED_BY(mu_);    // rpc
  Histogram db_latency_ ABSL_GUARDED_BY(mu_);
  Histogram batch_sizes_ ABSL_GUARDED_BY(mu_){kBatchBuckets};
  Series<uint64_t> db_errors_ ABSL_GUARDED_BY(mu_);       // code
  Series<uint64_t> reloads_ ABSL_GUARDED_BY(mu_);         // result
  Series<int64_t> missing_secrets_ ABSL_GUARDED_BY(mu_);  // profile
  Series<uint64_t> resolved_ ABSL_GUARDED_BY(mu_);        // rpc, resolved_by
  Series<uint64_t> shadow_denies_ ABSL_GUARDED_BY(mu_);   // rpc, profile, reason
  int64_t shadow_profiles_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t db_in_use_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t db_up_ ABSL_GUARDED_BY(mu_) = 0;
  Series<uint64_t> lookup_targets_ ABSL_GUARDED_BY(mu_);         // target
  Series<uint64_t> absence_confirmations_ ABSL_GUARDED_BY(mu_);  // result
  bool has_replica_ ABSL_GUARDED_BY(mu_) = false;
  double replica_lag_seconds_ ABSL_GUARDED_BY(mu_) = -1;  // -1: unknown
  int64_t replica_in_use_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t queue_depth_ ABSL_GUARDED_BY(mu_) = 0;
  double log_stalled_seconds_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_reload_ok_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SERVICE_METRICS_H_

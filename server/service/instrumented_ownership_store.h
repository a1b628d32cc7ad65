// Measures every ownership lookup for the metrics without touching the store.
#ifndef HOOKGUARD_SERVER_SERVICE_INSTRUMENTED_OWNERSHIP_STORE_H_
#define HOOKGUARD_SERVER_SERVICE_INSTRUMENTED_OWNERSHIP_STORE_H_

#include <atomic>
#include <functional>
#include <utility>

#include "absl/time/clock.h"
#include "server/ownership/ownership_store.h"
#include "server/service/metrics.h"

namespace hookguard {

// Decorates an OwnershipStore: lookup latency, errors by code, lookups in
// flight (sent or queued for a connection). `inner` and `metrics` are not owned and
// must outlive it. Thread-safe.
class InstrumentedOwnershipStore final : public OwnershipStore {
 public:
  InstrumentedOwnershipStore(OwnershipStore& inner, Metrics& metrics)
      : inner_(inner), metrics_(metrics) {}

  absl::StatusOr<std::optional<CallOwnership>> FindCall(absl::string_view call_id,
                                                        absl::Time deadline) override {
    return Measure([&] { return inner_.FindCall(call_id, deadline); });
  }

  absl::StatusOr<std::optional<std::string>> FindOwner(OwnerLookup what, absl::string_view id,
                                                       absl::Time deadline) override {
    return Measure([&] { return inner_.FindOwner(what, id, deadline); });
  }

  void FindCallAsync(absl::string_view call_id, absl::Time deadline,
                     std::function<void(CallAnswer)> done) override {
    inner_.FindCallAsync(call_id, deadline, Measured(std::move(done)));
  }

  void FindOwnerAsync(OwnerLookup what, absl::string_view id, absl::Time deadline,
                      std::function<void(OwnerAnswer)> done) override {
    inner_.FindOwnerAsync(what, id, deadline, Measured(std::move(done)));
  }

  absl::StatusOr<std::optional<std::string>> FindSubjectOwner(int query, absl::string_view id,
                                                              absl::Time deadline) override {
    return Measure([&] { return inner_.FindSubjectOwner(query, id, deadline); });
  }

  void FindSubjectOwnerAsync(int query, absl::string_view id, absl::Time deadline,
                             std::function<void(OwnerAnswer)> done) override {
    inner_.FindSubjectOwnerAsync(query, id, deadline, Measured(std::move(done)));
  }

  absl::Status Ping(absl::Time deadline) override { return inner_.Ping(deadline); }

 private:
  // A lookup starts: counted in flight. Returns its start time.
  absl::Time Begin() {
    metrics_.SetDatabaseConnectionsInUse(in_flight_.fetch_add(1) + 1);
    return absl::Now();
  }
  // The lookup begun at `start` ended with `status`.
  void End(absl::Time start, const absl::Status& status) {
    metrics_.ObserveDatabaseQuery(absl::Now() - start, status);
    metrics_.SetDatabaseConnectionsInUse(in_flight_.fetch_sub(1) - 1);
  }

  // Measures a lookup from now until `done` runs.
  template <typename Answer>
  std::function<void(Answer)> Measured(std::function<void(Answer)> done) {
    return [this, start = Begin(), done = std::move(done)](Answer found) {
      End(start, found.status());
      done(std::move(found));
    };
  }

  template <typename LookupFn>
  auto Measure(LookupFn lookup) -> decltype(lookup()) {
    const absl::Time start = Begin();
    auto found = lookup();
    End(start, found.status());
    return found;
  }

  OwnershipStore& inner_;
  Metrics& metrics_;
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SERVICE_INSTRUMENTED_OWNERSHIP_STORE_H_

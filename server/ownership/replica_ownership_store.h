// Lookups on a read replica, with the primary as the source of truth for
// absences (--db_read). A replica can lag behind the primary: a row it
// returns is used (its staleness is bounded by the measured replay lag), but
// an answer that rests on a row being absent is asked of the primary before
// anyone acts on it, so a call the app stored a moment ago is never denied
// because the replica has not replayed it yet.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_REPLICA_OWNERSHIP_STORE_H_
#define HOOKGUARD_SERVER_OWNERSHIP_REPLICA_OWNERSHIP_STORE_H_

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/ownership/ownership_store.h"

namespace hookguard {

// Where a lookup was sent (for the metrics).
enum class LookupTarget { kReplica, kPrimary };

// "replica" or "primary".
const char* LookupTargetName(LookupTarget target);

// The replica's replay lag as the replica itself reports it: zero when it
// has replayed everything it received, nullopt when it cannot tell (nothing
// replayed since it started). An error when it cannot be asked (down, timed
// out) or is no standby (promoted): the replica is then left out. Called on the probe thread only;
// it may block (its own bound: the replica's connect and statement timeouts).
using ReplayLagFn = std::function<absl::StatusOr<std::optional<absl::Duration>>()>;

struct ReplicaStoreOptions {
  // While the replica's measured lag is above this (or unknown, or the
  // replica fails), every lookup goes to the primary.
  absl::Duration max_lag = absl::Seconds(5);
  // How often the lag is measured, on the store's own thread; a replica
  // whose lookup failed is tried again after the next good measurement.
  // Zero: no thread; the owner calls Probe().
  absl::Duration probe_interval = absl::Seconds(1);
  // Told each lookup sent to a target. May be empty. Any thread.
  std::function<void(LookupTarget)> on_lookup;
  // Told the primary's answer to each absence it was asked to confirm: true
  // when it found the row after all (the replica lagged). May be empty.
  std::function<void(bool found)> on_absence_checked;
  // Told every measurement: the lag (nullopt: unknown or unreachable) and
  // whether lookups go to the replica now. May be empty. Probe thread.
  std::function<void(std::optional<absl::Duration> lag, bool replica_in_use)> on_lag;
  // Told when lookups move to the primary or back, with the reason, for the
  // log. May be empty.
  std::function<void(bool replica_in_use, const std::string& why)> on_switch;
};

// Thread-safe. Neither store is owned; both must outlive this one. The
// replica is not used until a measurement says it is within max_lag. The
// probe thread (if any) starts in the constructor and stops in the
// destructor.
//
// Faults: the replica down -> every lookup goes to the primary; the primary
// down -> rows the replica has are answered, and an answer that needs an
// absence confirmed fails UNAVAILABLE (fail closed, never an unconfirmed
// "not found"). Any error of the replica (unavailable, timed out, a row that
// breaks the contract) is answered by the primary instead.
class ReplicaOwnershipStore final : public OwnershipStore {
 public:
  ReplicaOwnershipStore(OwnershipStore& replica, OwnershipStore& primary, ReplayLagFn replay_lag,
                        ReplicaStoreOptions options);
  ~ReplicaOwnershipStore() override;
  ReplicaOwnershipStore(const ReplicaOwnershipStore&) = delete;
  ReplicaOwnershipStore& operator=(const ReplicaOwnershipStore&) = delete;

  CallAnswer FindCall(absl::string_view call_id, absl::Time deadline) override;
  OwnerAnswer FindOwner(OwnerLookup what, absl::string_view id, absl::Time deadline) override;
  void FindCallAsync(absl::string_view call_id, absl::Time deadline,
                     std::function<void(CallAnswer)> done) override;
  void FindOwnerAsync(OwnerLookup what, absl::string_view id, absl::Time deadline,
                      std::function<void(OwnerAnswer)> done) override;
  // A subject's owner, routed as FindOwner: a row on the replica is used, a
  // subject absent there is asked of the primary (SUBJECT_NOT_FOUND is
  // never given unconfirmed). Both stores must have the same subject
  // queries.
  OwnerAnswer FindSubjectOwner(int query, absl::string_view id, absl::Time deadline) override;
  void FindSubjectOwnerAsync(int query, absl::string_view id, absl::Time deadline,
                             std::function<void(OwnerAnswer)> done) override;

  // OK while the primary answers, or, with the primary down, while the
  // replica is in use and answers (found rows are still served).
  absl::Status Ping(absl::Time deadline) override;

  // Measures the replica's lag once and routes lookups by it.
  void Probe();

  // Whether lookups go to the replica now.
  bool replica_in_use() const { return in_use_.load(std::memory_order_acquire); }

 private:
  // Sends one lookup (kind chosen by the caller through `ask`) to the
  // replica when it is in use, confirming an absence on the primary.
  template <typename Answer>
  void Route(const std::function<void(OwnershipStore&, std::function<void(Answer)>)>& ask,
             std::function<void(Answer)> done);
  // Records a measurement (or a failed lookup on the replica: `failed`).
  void Update(std::optional<absl::Duration> lag, bool failed, const std::string& why);

  OwnershipStore& replica_;
  OwnershipStore& primary_;
  const ReplayLagFn replay_lag_;
  const ReplicaStoreOptions options_;
  std::atomic<bool> in_use_{false};
  absl::Mutex mu_;  // serialises Update, so on_switch sees every change once
  absl::Notification stopping_;
  std::thread probe_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_REPLICA_OWNERSHIP_STORE_H_

// Reads a PostgreSQL read replica's replay lag from the replica itself, on a
// session of its own (never one of the lookup pool's), for
// ReplicaOwnershipStore.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_REPLAY_LAG_PROBE_H_
#define HOOKGUARD_SERVER_OWNERSHIP_REPLAY_LAG_PROBE_H_

#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/ownership/soci_session.h"

namespace soci {
class session;
}

namespace hookguard {

// The query, for the tests and the docs: whether the server is in recovery
// (a standby), and its lag in milliseconds: zero when it has replayed all the
// WAL it received, otherwise the age of the last transaction it replayed;
// NULL when it has replayed none since it started.
extern const char kReplayLagQuery[];

// Thread-safe (one measurement at a time). Connects on first use and again
// after a failure.
class ReplayLagProbe {
 public:
  // `database` must be PostgreSQL.
  explicit ReplayLagProbe(SociDatabase database);
  ~ReplayLagProbe();

  // The lag (nullopt: the replica cannot tell); FAILED_PRECONDITION when the
  // server is not a standby (promoted, or a primary: it does not follow
  // --db); UNAVAILABLE naming the driver's error (scrubbed). Bounded by the
  // database's connect_timeout and statement_timeout (SociDatabase::Open).
  absl::StatusOr<std::optional<absl::Duration>> Measure();

 private:
  const SociDatabase database_;
  absl::Mutex mu_;
  std::unique_ptr<soci::session> session_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_REPLAY_LAG_PROBE_H_

#include "server/ownership/replay_lag_probe.h"

#include <soci/soci.h>

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hookguard {

const char kReplayLagQuery[] =
    "SELECT pg_is_in_recovery()::int,"
    " CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8"
    " ELSE 1000 * EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8"
    " END";

ReplayLagProbe::ReplayLagProbe(SociDatabase database) : database_(std::move(database)) {}

ReplayLagProbe::~ReplayLagProbe() = default;

absl::StatusOr<std::optional<absl::Duration>> ReplayLagProbe::Measure() {
  absl::MutexLock lock(&mu_);
  if (session_ == nullptr) {
    absl::StatusOr<std::unique_ptr<soci::session>> opened = database_.Open();
    if (!opened.ok()) return opened.status();
    session_ = *std::move(opened);
  }
  try {
    int in_recovery = 0;
    double ms = 0;
    soci::indicator known = soci::i_ok;
    *session_ << kReplayLagQuery, soci::into(in_recovery), soci::into(ms, known);
    if (in_recovery == 0) {
      // Promoted, or a primary reached through a multi-host string: it no
      // longer follows --db, so how far behind it is cannot be told.
      return absl::FailedPreconditionError(
          "the --db_read server is not a standby (pg_is_in_recovery() is false: promoted, or "
          "a primary)");
    }
    if (known != soci::i_ok) return std::optional<absl::Duration>();
    return std::optional<absl::Duration>(absl::Milliseconds(ms < 0 ? 0 : ms));
  } catch (const std::exception& e) {
    session_.reset();
    return absl::UnavailableError(
        absl::StrCat("replay lag query failed: ", database_.Scrub(e.what())));
  }
}

}  // namespace hookguard

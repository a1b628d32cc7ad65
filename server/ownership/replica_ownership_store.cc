#include "server/ownership/replica_ownership_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace hookguard {

const char* LookupTargetName(LookupTarget target) {
  return target == LookupTarget::kReplica ? "replica" : "primary";
}

ReplicaOwnershipStore::ReplicaOwnershipStore(OwnershipStore& replica, OwnershipStore& primary,
                                             ReplayLagFn replay_lag, ReplicaStoreOptions options)
    : replica_(replica),
      primary_(primary),
      replay_lag_(std::move(replay_lag)),
      options_(std::move(options)) {
  if (options_.probe_interval > absl::ZeroDuration()) {
    probe_ = std::thread([this] {
      do Probe();
      while (!stopping_.WaitForNotificationWithTimeout(options_.probe_interval));
    });
  }
}

ReplicaOwnershipStore::~ReplicaOwnershipStore() {
  stopping_.Notify();
  if (probe_.joinable()) probe_.join();
}

void ReplicaOwnershipStore::Probe() {
  absl::StatusOr<std::optional<absl::Duration>> lag = replay_lag_();
  if (!lag.ok()) {
    Update(std::nullopt, /*failed=*/true,
           absl::StrCat("the replica's replay lag cannot be read: ", lag.status().message()));
  } else if (!lag->has_value()) {
    Update(std::nullopt, /*failed=*/false,
           "the replica cannot tell its replay lag (nothing replayed since it started)");
  } else {
    Update(*lag, /*failed=*/false,
           absl::StrCat("replica replay lag ", absl::FormatDuration(**lag)));
  }
}

void ReplicaOwnershipStore::Update(std::optional<absl::Duration> lag, bool failed,
                                   const std::string& why) {
  const bool use = !failed && lag.has_value() && *lag <= options_.max_lag;
  absl::MutexLock lock(&mu_);
  const bool was = in_use_.exchange(use, std::memory_order_acq_rel);
  if (options_.on_lag) options_.on_lag(lag, use);
  if (was != use && options_.on_switch) {
    options_.on_switch(use, use ? absl::StrCat("lookups go to the read replica (", why, ")")
                                : absl::StrCat("lookups go to the primary (", why, "; bound ",
                                               absl::FormatDuration(options_.max_lag), ")"));
  }
}

template <typename Answer>
void ReplicaOwnershipStore::Route(
    const std::function<void(OwnershipStore&, std::function<void(Answer)>)>& ask,
    std::function<void(Answer)> done) {
  auto count = [this](LookupTarget target) {
    if (options_.on_lookup) options_.on_lookup(target);
  };
  if (!replica_in_use()) {
    count(LookupTarget::kPrimary);
    ask(primary_, std::move(done));
    return;
  }
  count(LookupTarget::kReplica);
  ask(replica_, [this, ask, count, done = std::move(done)](Answer on_replica) mutable {
    if (on_replica.ok() && on_replica->has_value()) {
      done(std::move(on_replica));  // a row: the replica's answer stands
      return;
    }
    count(LookupTarget::kPrimary);
    if (!on_replica.ok()) {
      // The replica failed this lookup: the primary answers it instead. A
      // replica that cannot be reached is left out until it measures well.
      if (absl::IsUnavailable(on_replica.status())) {
        Update(std::nullopt, /*failed=*/true,
               absl::StrCat("a lookup on the replica failed: ", on_replica.status().message()));
      }
      ask(primary_, std::move(done));
      return;
    }
    // No row on the replica: only the primary may say so.
    ask(primary_, [this, done = std::move(done)](Answer on_primary) {
      if (on_primary.ok() && options_.on_absence_checked) {
        options_.on_absence_checked(on_primary->has_value());
      }
      done(std::move(on_primary));
    });
  });
}

void ReplicaOwnershipStore::FindCallAsync(absl::string_view call_id, absl::Time deadline,
                                          std::function<void(CallAnswer)> done) {
  Route<CallAnswer>(
      [call_id, deadline](OwnershipStore& store, std::function<void(CallAnswer)> then) {
        store.FindCallAsync(call_id, deadline, std::move(then));
      },
      std::move(done));
}

void ReplicaOwnershipStore::FindOwnerAsync(OwnerLookup what, absl::string_view id,
                                           absl::Time deadline,
                                           std::function<void(OwnerAnswer)> done) {
  Route<OwnerAnswer>(
      [what, id, deadline](OwnershipStore& store, std::function<void(OwnerAnswer)> then) {
        store.FindOwnerAsync(what, id, deadline, std::move(then));
      },
      std::move(done));
}

namespace {

// The blocking form of an asynchronous lookup.
template <typename Answer, typename Start>
Answer Wait(Start start) {
  absl::Notification answered;
  std::optional<Answer> answer;
  start([&](Answer a) {
    answer.emplace(std::move(a));
    answered.Notify();
  });
  answered.WaitForNotification();
  return *std::move(answer);
}

}  // namespace

CallAnswer ReplicaOwnershipStore::FindCall(absl::string_view call_id, absl::Time deadline) {
  return Wait<CallAnswer>([&](std::function<void(CallAnswer)> done) {
    FindCallAsync(call_id, deadline, std::move(done));
  });
}

OwnerAnswer ReplicaOwnershipStore::FindOwner(OwnerLookup what, absl::string_view id,
                                             absl::Time deadline) {
  return Wait<OwnerAnswer>([&](std::function<void(OwnerAnswer)> done) {
    FindOwnerAsync(what, id, deadline, std::move(done));
  });
}

void ReplicaOwnershipStore::FindSubjectOwnerAsync(int query, absl::string_view id,
                                                  absl::Time deadline,
                                                  std::function<void(OwnerAnswer)> done) {
  Route<OwnerAnswer>(
      [query, id, deadline](OwnershipStore& store, std::function<void(OwnerAnswer)> then) {
        store.FindSubjectOwnerAsync(query, id, deadline, std::move(then));
      },
      std::move(done));
}

OwnerAnswer ReplicaOwnershipStore::FindSubjectOwner(int query, absl::string_view id,
                                                    absl::Time deadline) {
  return Wait<OwnerAnswer>([&](std::function<void(OwnerAnswer)> done) {
    FindSubjectOwnerAsync(query, id, deadline, std::move(done));
  });
}

absl::Status ReplicaOwnershipStore::Ping(absl::Time deadline) {
  absl::Status primary = primary_.Ping(deadline);
  if (primary.ok() || !replica_in_use()) return primary;
  // The primary is down: found rows are still answered from the replica.
  if (replica_.Ping(deadline).ok()) return absl::OkStatus();
  return primary;
}

}  // namespace hookguard

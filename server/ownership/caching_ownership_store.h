// An optional, short-lived cache of found ownership rows in front of an
// OwnershipStore (the database). Off by default (hookguard-server
// --ownership_cache_ttl_ms=0).
//
// The trade-off: a call whose row changes (revoked, deleted, moved to
// another user or assistant) can be answered from the old row for up to the
// TTL. Only rows that were found are cached; not-found answers and errors
// always go to the database again, so a new call is never denied from the
// cache and an outage is never hidden from the caller's retries. Denials are
// not cached either: the ownership rules run on every request, on the
// (possibly cached) row and the event's own ids.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_CACHING_OWNERSHIP_STORE_H_
#define HOOKGUARD_SERVER_OWNERSHIP_CACHING_OWNERSHIP_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/ownership/ownership_store.h"

namespace hookguard {

struct OwnershipCacheOptions {
  // How long a found row is served without asking the database. <= 0: the
  // cache is off and every lookup goes to the inner store.
  absl::Duration ttl = absl::ZeroDuration();
  // Most rows held; when full, expired rows go first, then the oldest.
  size_t max_entries = 10000;
};

// The time since an arbitrary fixed point on a monotonic clock
// (std::chrono::steady_clock): what the cache ages rows on, so that a step
// of the wall clock (NTP, a VM resumed) neither keeps a row past its TTL nor
// drops it early.
absl::Duration MonotonicNow();

// Decorates an OwnershipStore. `inner` is not owned and must outlive it.
// `clock` returns monotonic time as MonotonicNow() does (tests pass a fake
// one). Thread-safe: one mutex guards the map, held for a hash lookup or an
// insert only, never while the inner store runs (concurrent misses for one
// call id may all query).
class CachingOwnershipStore final : public OwnershipStore {
 public:
  CachingOwnershipStore(OwnershipStore& inner, OwnershipCacheOptions options,
                        std::function<absl::Duration()> clock = MonotonicNow);

  // A found row younger than the TTL comes from the cache (the deadline is
  // then not consulted); anything else asks the inner store, and a found row
  // it returns is cached. A row whose stored time is ahead of the clock (a
  // clock that went back, which a monotonic one never does) counts as
  // expired.
  absl::StatusOr<std::optional<CallOwnership>> FindCall(absl::string_view call_id,
                                                        absl::Time deadline) override;

  // As FindCall: a hit answers on this thread; a miss goes to the inner
  // store's FindCallAsync and caches what it finds before passing it on.
  void FindCallAsync(absl::string_view call_id, absl::Time deadline,
                     std::function<void(CallAnswer)> done) override;

  // Always the inner store: these lookups run only for events without a
  // call row (early events), which are rare and must see new rows at once.
  absl::StatusOr<std::optional<std::string>> FindOwner(OwnerLookup what, absl::string_view id,
                                                       absl::Time deadline) override {
    return inner_.FindOwner(what, id, deadline);
  }

  // Always the inner store: health must reflect the database, not the cache.
  void FindOwnerAsync(OwnerLookup what, absl::string_view id, absl::Time deadline,
                      std::function<void(OwnerAnswer)> done) override {
    inner_.FindOwnerAsync(what, id, deadline, std::move(done));
  }

  // Subject owners are cached as call rows are (found owners only, for the
  // TTL): a subject lookup is every request of its profiles, the hot path.
  absl::StatusOr<std::optional<std::string>> FindSubjectOwner(int query, absl::string_view id,
                                                              absl::Time deadline) override;
  void FindSubjectOwnerAsync(int query, absl::string_view id, absl::Time deadline,
                             std::function<void(OwnerAnswer)> done) override;

  absl::Status Ping(absl::Time deadline) override { return inner_.Ping(deadline); }

  size_t size() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  struct Entry {
    CallOwnership row;
    absl::Duration stored;  // on the clock
    uint64_t generation;    // matches the Order entry that inserted it
  };
  struct Order {
    std::string call_id;
    absl::Duration stored;
    uint64_t generation;
  };

  // The cache key of subject query `query`'s id: it starts with a control
  // character, which no call id holds (CheckEventId), so the two never meet.
  static std::string SubjectKey(int query, absl::string_view id);

  // Serves `call_id` from the cache when fresh (nullopt: a miss, counted).
  std::optional<CallOwnership> Cached(absl::string_view call_id);
  // Caches a found row.
  void Remember(absl::string_view call_id, const CallAnswer& found);
  bool enabled() const { return options_.ttl > absl::ZeroDuration() && options_.max_entries > 0; }

  void Insert(absl::string_view call_id, const CallOwnership& row, absl::Duration now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the front of order_ (the oldest insert), and its map entry when it
  // is still the one that insert made.
  void PopOldest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether a row stored at `stored` may still be served at `now`: younger
  // than the TTL, and not from the future.
  bool Fresh(absl::Duration stored, absl::Duration now) const {
    const absl::Duration age = now - stored;
    return age >= absl::ZeroDuration() && age < options_.ttl;
  }

  OwnershipStore& inner_;
  const OwnershipCacheOptions options_;
  const std::function<absl::Duration()> clock_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<Order> order_ ABSL_GUARDED_BY(mu_);  // insertion order = age order
  uint64_t next_generation_ ABSL_GUARDED_BY(mu_) = 0;
  // Counters outside the lock: a hit takes the lock shared only.
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_CACHING_OWNERSHIP_STORE_H_

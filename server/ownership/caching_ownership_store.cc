#include "server/ownership/caching_ownership_store.h"

#include <chrono>
#include <utility>

namespace hookguard {

absl::Duration MonotonicNow() {
  return absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

CachingOwnershipStore::CachingOwnershipStore(OwnershipStore& inner, OwnershipCacheOptions options,
                                             std::function<absl::Duration()> clock)
    : inner_(inner), options_(options), clock_(std::move(clock)) {}

absl::StatusOr<std::optional<CallOwnership>> CachingOwnershipStore::FindCall(
    absl::string_view call_id, absl::Time deadline) {
  if (options_.ttl <= absl::ZeroDuration() || options_.max_entries == 0) {
    return inner_.FindCall(call_id, deadline);
  }
  {
    const absl::Duration now = clock_();
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(call_id);
    if (it != entries_.end() && Fresh(it->second.stored, now)) {
      ++hits_;
      return std::optional<CallOwnership>(it->second.row);
    }
    ++misses_;
  }
  absl::StatusOr<std::optional<CallOwnership>> found = inner_.FindCall(call_id, deadline);
  // Errors and not-found are never cached.
  if (found.ok() && found->has_value()) {
    const absl::Duration now = clock_();
    absl::MutexLock lock(&mu_);
    Insert(call_id, **found, now);
  }
  return found;
}

void CachingOwnershipStore::Insert(absl::string_view call_id, const CallOwnership& row,
                                   absl::Duration now) {
  // Expired rows leave first (order_ is sorted by age), so that order_ never
  // grows beyond what the TTL window holds.
  while (!order_.empty() && !Fresh(order_.front().stored, now)) PopOldest();
  auto it = entries_.find(call_id);
  if (it == entries_.end()) {
    while (entries_.size() >= options_.max_entries && !order_.empty()) PopOldest();
    it = entries_.emplace(std::string(call_id), Entry{}).first;
  }
  const uint64_t generation = next_generation_++;
  it->second = Entry{row, now, generation};
  order_.push_back(Order{it->first, now, generation});
}

void CachingOwnershipStore::PopOldest() {
  const Order& oldest = order_.front();
  auto it = entries_.find(oldest.call_id);
  if (it != entries_.end() && it->second.generation == oldest.generation) entries_.erase(it);
  order_.pop_front();
}

size_t CachingOwnershipStore::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

uint64_t CachingOwnershipStore::hits() const { return hits_.load(std::memory_order_relaxed); }

uint64_t CachingOwnershipStore::misses() const { return misses_.load(std::memory_order_relaxed); }

}  // namespace hookguard

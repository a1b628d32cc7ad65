#include "server/ownership/caching_ownership_store.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace hookguard {

absl::Duration MonotonicNow() {
  return absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

CachingOwnershipStore::CachingOwnershipStore(OwnershipStore& inner, OwnershipCacheOptions options,
                                             std::function<absl::Duration()> clock)
    : inner_(inner), options_(options), clock_(std::move(clock)) {}

std::optional<CallOwnership> CachingOwnershipStore::Cached(absl::string_view call_id) {
  const absl::Duration now = clock_();
  absl::ReaderMutexLock lock(&mu_);
  auto it = entries_.find(call_id);
  if (it != entries_.end() && Fresh(it->second.stored, now)) {
    ++hits_;
    return it->second.row;
  }
  ++misses_;
  return std::nullopt;
}

void CachingOwnershipStore::Remember(absl::string_view call_id, const CallAnswer& found) {
  // Errors and not-found are never cached.
  if (!found.ok() || !found->has_value()) return;
  const absl::Duration now = clock_();
  absl::MutexLock lock(&mu_);
  Insert(call_id, **found, now);
}

absl::StatusOr<std::optional<CallOwnership>> CachingOwnershipStore::FindCall(
    absl::string_view call_id, absl::Time deadline) {
  if (!enabled()) return inner_.FindCall(call_id, deadline);
  if (std::optional<CallOwnership> row = Cached(call_id); row.has_value()) return row;
  CallAnswer found = inner_.FindCall(call_id, deadline);
  Remember(call_id, found);
  return found;
}

void CachingOwnershipStore::FindCallAsync(absl::string_view call_id, absl::Time deadline,
                                          std::function<void(CallAnswer)> done) {
  if (!enabled()) return inner_.FindCallAsync(call_id, deadline, std::move(done));
  if (std::optional<CallOwnership> row = Cached(call_id); row.has_value()) {
    return done(std::move(row));
  }
  // `call_id` stays valid until `done` runs.
  inner_.FindCallAsync(call_id, deadline,
                       [this, call_id, done = std::move(done)](CallAnswer found) {
                         Remember(call_id, found);
                         done(std::move(found));
                       });
}

std::string CachingOwnershipStore::SubjectKey(int query, absl::string_view id) {
  return absl::StrCat("\x01", query, "\x01", id);
}

namespace {

// A subject's owner travels through the cache as a call row with only the
// owner set.
CallAnswer AsRow(const OwnerAnswer& found) {
  if (!found.ok()) return found.status();
  if (!found->has_value()) return std::optional<CallOwnership>();
  CallOwnership row;
  row.owner_id = **found;
  return std::optional<CallOwnership>(std::move(row));
}

}  // namespace

absl::StatusOr<std::optional<std::string>> CachingOwnershipStore::FindSubjectOwner(
    int query, absl::string_view id, absl::Time deadline) {
  if (!enabled()) return inner_.FindSubjectOwner(query, id, deadline);
  const std::string key = SubjectKey(query, id);
  if (std::optional<CallOwnership> row = Cached(key); row.has_value()) {
    return std::optional<std::string>(std::move(row->owner_id));
  }
  OwnerAnswer found = inner_.FindSubjectOwner(query, id, deadline);
  Remember(key, AsRow(found));
  return found;
}

void CachingOwnershipStore::FindSubjectOwnerAsync(int query, absl::string_view id,
                                                  absl::Time deadline,
                                                  std::function<void(OwnerAnswer)> done) {
  if (!enabled()) return inner_.FindSubjectOwnerAsync(query, id, deadline, std::move(done));
  std::string key = SubjectKey(query, id);
  if (std::optional<CallOwnership> row = Cached(key); row.has_value()) {
    return done(std::optional<std::string>(std::move(row->owner_id)));
  }
  inner_.FindSubjectOwnerAsync(
      query, id, deadline, [this, key = std::move(key), done = std::move(done)](OwnerAnswer found) {
        Remember(key, AsRow(found));
        done(std::move(found));
      });
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

// The live configuration snapshot (profiles and resolution chain), swapped
// whole on reload.
#ifndef HOOKGUARD_SERVER_DECISION_PROFILE_HOLDER_H_
#define HOOKGUARD_SERVER_DECISION_PROFILE_HOLDER_H_

#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/config/profile_set.h"

namespace hookguard {

// Holds the current ProfileSet: the profiles and the whole compiled
// configuration they came from (spec(), with the resolution chain), swapped
// as one snapshot on reload. A request takes a reference with Get() once and
// keeps using that set even if a reload swaps in a new one meanwhile, so a
// request never sees half of a rotation, nor the profiles of one reload with
// the chain of another. Thread-safe.
class ProfileHolder {
 public:
  explicit ProfileHolder(std::shared_ptr<const ProfileSet> profiles)
      : profiles_(std::move(profiles)) {}

  std::shared_ptr<const ProfileSet> Get() const {
    absl::ReaderMutexLock lock(&mu_);
    return profiles_;
  }

  void Set(std::shared_ptr<const ProfileSet> profiles) {
    absl::MutexLock lock(&mu_);
    profiles_.swap(profiles);
  }

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const ProfileSet> profiles_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_DECISION_PROFILE_HOLDER_H_

// The secrets of an HMAC-based profile, and the one place a signature is
// matched against them.
#ifndef HOOKGUARD_SERVER_SIGNATURE_KEY_RING_H_
#define HOOKGUARD_SERVER_SIGNATURE_KEY_RING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/signature/mac.h"
#include "server/signature/verifier.h"

namespace hookguard {

// One PrekeyedHmac per secret, keyed once. Immutable after Create; Match is
// thread-safe. Movable, not copyable.
class KeyRing {
 public:
  // `keys` hold raw key bytes (non-empty; key_ids unique, as Compile makes
  // them). InvalidArgument for an empty key, Internal if OpenSSL fails; the
  // message names the key_id, never the key.
  static absl::StatusOr<KeyRing> Create(HashAlgorithm algorithm, std::vector<SecretKey> keys);

  // The key_id of the first secret (in configuration order) whose MAC of the
  // concatenation of `parts` equals one of `candidates`; nullptr when none
  // does. The MAC of every secret is computed and compared with every
  // candidate in constant time (ConstantTimeEquals), with no early exit, so
  // the time taken does not tell which secret matched, or how much of a
  // candidate was right. Internal when OpenSSL fails: the caller must fail
  // closed with that error, never treat it as a mismatch. The pointer lives
  // as long as the ring.
  absl::StatusOr<const std::string*> Match(absl::Span<const absl::string_view> parts,
                                           absl::Span<const std::string> candidates) const;

 private:
  struct Key {
    std::string key_id;
    PrekeyedHmac mac;
  };
  explicit KeyRing(std::vector<Key> keys) : keys_(std::move(keys)) {}

  std::vector<Key> keys_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_KEY_RING_H_

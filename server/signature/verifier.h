// Signature verification: the contract every scheme keeps.
//
// A Verifier checks one profile's signature scheme on the raw bytes of a
// request, before anything parses them. Implementations are immutable after
// construction and safe to use from many threads at once.
#ifndef HOOKGUARD_SERVER_SIGNATURE_VERIFIER_H_
#define HOOKGUARD_SERVER_SIGNATURE_VERIFIER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hookguard/v1/hookguard.pb.h"

namespace hookguard {

// How far a signed timestamp may be from the server's clock, either way,
// when a profile does not say (config tolerance_seconds).
inline constexpr absl::Duration kDefaultTolerance = absl::Seconds(300);

// One secret of a profile: `key` holds the raw key bytes, already decoded
// from base64 or "whsec_" when the profile says so (DecodeSecretKey in
// signature_scheme.h). Never logged.
struct SecretKey {
  std::string key_id;
  std::string key;
};

// What a verification found. `detail` is short, human-readable, and never
// contains a secret, a signature or any part of the body.
struct VerifyOutcome {
  v1::SignatureResult result = v1::SIGNATURE_RESULT_UNSPECIFIED;
  std::string key_id;              // set when VALID or STALE: the secret that matched
  std::string message_id;          // the scheme's message id, when it has one (only
                                   // trustworthy when VALID)
  bool message_id_signed = false;  // the MAC covers message_id (set when VALID)
  int64_t timestamp_unix = 0;      // signed timestamp in seconds, when it has one
  std::string detail;
};

// For implementations: sets `out` to the failing `result` with `detail`
// (never a secret, signature or body) and no key id. Returns `out`.
inline VerifyOutcome& FailOutcome(VerifyOutcome& out, v1::SignatureResult result,
                                  std::string detail) {
  out.result = result;
  out.detail = std::move(detail);
  out.key_id.clear();
  return out;
}

class Verifier {
 public:
  virtual ~Verifier() = default;

  // Verifies `request` at time `now` (the tolerance window is measured from
  // it). Every comparison of a MAC or secret is constant-time. Internal when
  // the check itself could not be made (OpenSSL failed): an error, never a
  // result, so the caller fails closed with it. Thread-safe.
  virtual absl::StatusOr<VerifyOutcome> Verify(const v1::HttpRequest& request,
                                               absl::Time now) const = 0;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_VERIFIER_H_

// The `shared_secret` kind: a header carries the secret itself.
#ifndef HOOKGUARD_SERVER_SIGNATURE_SHARED_SECRET_VERIFIER_H_
#define HOOKGUARD_SERVER_SIGNATURE_SHARED_SECRET_VERIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/signature/verifier.h"

namespace hookguard {

// The options of a shared_secret profile (the member initializers are the
// defaults).
struct SharedSecretScheme {
  std::string header = "x-vapi-secret";
  // The value is "Bearer <secret>" (scheme word case-insensitive), as in
  // `Authorization: Bearer <secret>`.
  bool bearer_prefix = false;
};

// Compares the presented value with each secret through their SHA-256
// digests (CRYPTO_memcmp on 32 bytes), so the time taken depends neither on
// how much of the secret was guessed nor on its length. Carries no timestamp
// and no message id. Immutable and thread-safe.
class SharedSecretVerifier final : public Verifier {
 public:
  // `scheme.header` non-empty; `keys` non-empty, unique key_ids. Internal if
  // OpenSSL fails.
  static absl::StatusOr<std::unique_ptr<const SharedSecretVerifier>> Create(
      SharedSecretScheme scheme, std::vector<SecretKey> keys);

  absl::StatusOr<VerifyOutcome> Verify(const v1::HttpRequest& request,
                                       absl::Time now) const override;

 private:
  struct Key {
    std::string key_id;
    std::string digest;  // SHA-256 of the secret; the secret is not kept
  };
  SharedSecretVerifier(SharedSecretScheme scheme, std::vector<Key> keys);

  const SharedSecretScheme scheme_;
  const std::vector<Key> keys_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_SHARED_SECRET_VERIFIER_H_

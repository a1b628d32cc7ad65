// The `standard_webhooks` kind (https://www.standardwebhooks.com/).
#ifndef HOOKGUARD_SERVER_SIGNATURE_STANDARD_WEBHOOKS_VERIFIER_H_
#define HOOKGUARD_SERVER_SIGNATURE_STANDARD_WEBHOOKS_VERIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/signature/key_ring.h"
#include "server/signature/verifier.h"

namespace hookguard {

// The options of a standard_webhooks profile (the member initializers are
// the defaults).
struct StandardWebhooksScheme {
  absl::Duration tolerance = kDefaultTolerance;  // either way from `now`; positive
};

// Headers webhook-id, webhook-timestamp (Unix seconds; milliseconds are also
// recognised), webhook-signature (space-separated "v1,<base64>" entries, any
// of which may match; entries of other versions are ignored). The MAC is
// HMAC-SHA256 of "{id}.{timestamp}.{body}". message_id = webhook-id.
// MAC first, then the window (STALE = authentic but old/new). Immutable and
// thread-safe.
class StandardWebhooksVerifier final : public Verifier {
 public:
  // `keys` hold the decoded key bytes (the base64 after "whsec_"),
  // non-empty, key_ids unique. Internal if OpenSSL fails.
  static absl::StatusOr<std::unique_ptr<const StandardWebhooksVerifier>> Create(
      StandardWebhooksScheme scheme, std::vector<SecretKey> keys);

  absl::StatusOr<VerifyOutcome> Verify(const v1::HttpRequest& request,
                                       absl::Time now) const override;

 private:
  StandardWebhooksVerifier(absl::Duration tolerance, KeyRing keys);

  const absl::Duration tolerance_;
  const KeyRing keys_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_STANDARD_WEBHOOKS_VERIFIER_H_

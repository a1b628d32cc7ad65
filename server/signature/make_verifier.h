// Builds the Verifier of one configuration profile: applies its preset and
// the defaults of its kind, validates every option, decodes its secrets.
#ifndef HOOKGUARD_SERVER_SIGNATURE_MAKE_VERIFIER_H_
#define HOOKGUARD_SERVER_SIGNATURE_MAKE_VERIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hookguard/config/v1/config.pb.h"
#include "server/signature/verifier.h"

namespace hookguard {

// Returns `profile` with its preset expanded ("vapi", "stripe", "github",
// "slack": fields set beside the preset win) and every unset option of its
// kind given its default, `preset` cleared. The secrets are copied unchanged.
// InvalidArgument (naming the profile and the field) for an unknown preset,
// kind, algorithm or encoding, a kind that contradicts the preset, or an
// option set that does not belong to the kind (e.g. `header` on hmac).
absl::StatusOr<config::v1::Profile> ResolveProfile(const config::v1::Profile& profile);

// Checks everything MakeVerifier checks that does not need the secrets'
// values: ResolveProfile's checks, then the resolved options (unknown
// placeholder, {timestamp} without a timestamp source, tolerance <= 0)
// and the secret list (at least one, key_id non-empty and unique). Used when a
// configuration is loaded, before any secret is read.
absl::Status ValidateProfile(const config::v1::Profile& profile);

// What a valid profile leaves unprotected, one sentence each, for the server
// log at start: no signed timestamp (a captured request verifies again at any
// later time), a message id that is read but not signed (not fit for
// deduplication), sha1, and shared_secret (nothing signed at all). Each
// starts with `profile "<name>": `. Empty for a profile ResolveProfile
// refuses.
std::vector<std::string> ProfileWarnings(const config::v1::Profile& profile);

// The Verifier for `profile`. `secrets` are the profile's secrets as read
// from their sources (SecretSource), in the profile's order; they are decoded
// here when the scheme says so (hmac with secret_is_base64, and always for
// standard_webhooks: "whsec_" removed, then base64). Errors are
// InvalidArgument and name the profile and the field or key_id, never a
// secret's value. The result is immutable and thread-safe.
absl::StatusOr<std::unique_ptr<const Verifier>> MakeVerifier(const config::v1::Profile& profile,
                                                             std::vector<SecretKey> secrets);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_MAKE_VERIFIER_H_

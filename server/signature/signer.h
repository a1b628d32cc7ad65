// Signing a delivery as the platform does: the headers a profile's scheme
// verifies, made with the verifiers' own pieces (PayloadTemplate,
// PrekeyedHmac, the scheme structs), so that what is signed is exactly what
// is checked. For developers' test deliveries (`hookguard sign` and
// `hookguard send`); the server itself never signs.
#ifndef HOOKGUARD_SERVER_SIGNATURE_SIGNER_H_
#define HOOKGUARD_SERVER_SIGNATURE_SIGNER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/signature/signature_scheme.h"

namespace hookguard {

// What a delivery carries besides its signature. Views; not owned.
struct SignInput {
  absl::string_view body;
  absl::string_view method;  // for {method}
  absl::string_view url;     // for {url}
  // The timestamp exactly as sent and signed (decimal digits, seconds or
  // milliseconds). Required when the scheme has one (SignNeeds).
  absl::string_view timestamp;
  // The message id to send (and sign, when the scheme signs it). Required
  // when the scheme has a message id header, and for standard_webhooks.
  absl::string_view message_id;
};

// What SignDelivery needs in SignInput for `scheme`, besides the body.
struct SignNeeds {
  bool timestamp = false;
  bool message_id = false;
  bool method = false;
  bool url = false;
  // The timestamp is sent in milliseconds (what VAPI's x-timestamp carries;
  // required when it is signed right after the body, as Retell does).
  bool timestamp_in_milliseconds = false;
};
SignNeeds NeedsOf(const SignatureScheme& scheme);

// The headers the platform sends, in order: (name, value), names as the
// scheme names them (lowercase for the presets). `key` is the secret's key
// bytes as DecodeSecretKey gives them (for shared_secret: the secret that
// is sent). hmac: the signature header (with its prefix, hex or base64, or
// `t=<ts>,v1=<mac>` in key=value mode), then the timestamp and message id
// headers the scheme reads; shared_secret: its header (`Bearer <secret>`
// with bearer_prefix); standard_webhooks: webhook-id, webhook-timestamp,
// webhook-signature `v1,<base64>`; twilio: x-twilio-signature over the URL
// and the form body's sorted parameters (or the URL alone when it carries
// the body's bodySHA256), as TwilioVerifier checks it. InvalidArgument when an input the scheme
// needs is empty (naming it) or the timestamp is not a Unix time; Internal
// if OpenSSL fails. Pure; thread-safe. The result holds a secret (or a MAC):
// never log it.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> SignDelivery(
    const SignatureScheme& scheme, absl::string_view key, const SignInput& input);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_SIGNER_H_

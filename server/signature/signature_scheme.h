// The signature scheme of one configuration profile: the one parser of a
// profile's options (config.proto's Profile), with its presets, the
// defaults of each kind and every check; and the Verifier built from it.
#ifndef HOOKGUARD_SERVER_SIGNATURE_SIGNATURE_SCHEME_H_
#define HOOKGUARD_SERVER_SIGNATURE_SIGNATURE_SCHEME_H_

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hookguard/config/v1/config.pb.h"
#include "server/signature/hmac_verifier.h"
#include "server/signature/shared_secret_verifier.h"
#include "server/signature/standard_webhooks_verifier.h"
#include "server/signature/twilio_verifier.h"
#include "server/signature/verifier.h"

namespace hookguard {

// A profile's scheme, one alternative per kind ("hmac", "shared_secret",
// "standard_webhooks", "twilio"). The structs' member initializers are the
// defaults.
using SignatureScheme =
    std::variant<HmacScheme, SharedSecretScheme, StandardWebhooksScheme, TwilioScheme>;

// The scheme of `profile`: its kind (or its preset's: "vapi-hmac" (what a
// VAPI HMAC credential sends by default: x-signature over
// "{timestamp}.{body}", x-timestamp), "vapi-secret" (shared_secret
// x-vapi-secret), "vapi-bearer" (shared_secret `Authorization: Bearer`),
// "vapi" (hmac x-vapi-signature over the body), "stripe", "github",
// "slack", "retell", "elevenlabs"), the defaults of the kind, then every option the
// profile sets (options set beside a preset override it). Reads every field
// but name, secrets and mode. Checks everything that needs no secret: an
// unknown preset, kind, algorithm or encoding; a kind that contradicts the
// preset; an option that does not belong to the kind (e.g. `header` on
// hmac); tolerance_seconds <= 0; and, for hmac, a payload_format that does
// not parse, uses {timestamp} or {id} without their header, does not sign the
// body, or does not sign a timestamp that is read, and signature_key /
// signature_timestamp_key without each other or beside timestamp_header.
// InvalidArgument, naming the profile and the field.
absl::StatusOr<SignatureScheme> ParseSignatureScheme(const config::v1::Profile& profile);

// What a scheme leaves unprotected, one sentence each (without the
// profile's name): no signed timestamp (a captured request verifies again
// at any later time), a message id that is read but not signed (not fit for
// deduplication), sha1, shared_secret (nothing signed at all), and twilio
// (sha1, no timestamp, a URL the app must rebuild as Twilio called it).
std::vector<std::string> SchemeWarnings(const SignatureScheme& scheme);

// The key bytes of a secret as read from its source (SecretSource): the
// text itself, or decoded from base64 when the scheme says so (hmac with
// secret_is_base64, where a "whsec_" prefix is removed first, and always
// for standard_webhooks: "whsec_<base64>"). InvalidArgument "not valid
// base64 (...)" without the value.
absl::StatusOr<std::string> DecodeSecretKey(const SignatureScheme& scheme, absl::string_view text);

// The Verifier of `scheme` with `keys` (raw key bytes, as DecodeSecretKey
// gives them; key ids unique). Fails only when OpenSSL does (Internal). The
// result is immutable and thread-safe.
absl::StatusOr<std::unique_ptr<const Verifier>> MakeVerifier(const SignatureScheme& scheme,
                                                             std::vector<SecretKey> keys);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_SIGNATURE_SCHEME_H_

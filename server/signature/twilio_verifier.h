// The `twilio` kind: Twilio's X-Twilio-Signature
// (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
#ifndef HOOKGUARD_SERVER_SIGNATURE_TWILIO_VERIFIER_H_
#define HOOKGUARD_SERVER_SIGNATURE_TWILIO_VERIFIER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/payload/form_body.h"
#include "server/signature/key_ring.h"
#include "server/signature/verifier.h"

namespace hookguard {

// The options of a twilio profile: none. Everything Twilio signs is fixed;
// the secrets are the account's auth tokens (primary and secondary during a
// rotation), used as they are.
struct TwilioScheme {};

// What Twilio signs for one request, read with the strict form parser
// (TwilioVerifier below states the rules). Shared by TwilioVerifier and
// SignDelivery (signer.h), so that what is signed is what is checked.
struct TwilioSignedRequest {
  // The URL with its scheme's default port spelled the other way (":443"
  // added or removed); nullopt for a non-default port.
  std::optional<std::string> url_variant;
  // The 32 bytes the URL's bodySHA256 names, when it has one (then nothing
  // of the body is signed and `parameters` is empty).
  std::optional<std::string> body_sha256;
  // The form body's parameters, sorted by name then value, identical pairs
  // once.
  std::vector<FormParameter> parameters;

  // The pieces whose concatenation is signed with `url` (the request's URL
  // or url_variant): url, then each parameter's name and value. Views into
  // `url` and this struct.
  std::vector<absl::string_view> Parts(absl::string_view url) const;
  // True when there is no bodySHA256, or `body` hashes to it (constant time).
  bool BodyMatchesHash(absl::string_view body) const;
};

// Reads `url` (absolute http or https; its query strictly form-encoded, with
// bodySHA256 at most once, of 64 hex digits) and, when the URL has no
// bodySHA256, `body` as form parameters (refused when `body_is_form` is
// false and the body is not empty). InvalidArgument with a message that
// names the problem and never quotes the body.
absl::StatusOr<TwilioSignedRequest> ReadTwilioRequest(absl::string_view url, absl::string_view body,
                                                      bool body_is_form);

// Verifies X-Twilio-Signature: the base64 HMAC-SHA1, keyed with the auth
// token, of the full URL Twilio requested (HttpRequest.url, exactly as sent,
// query included) followed by
//   - when the URL's query carries bodySHA256 (Twilio's JSON webhooks):
//     nothing; the body's SHA-256 must then equal that hex value;
//   - otherwise the body's form parameters (SortedFormParameters: the one
//     strict form parser) sorted by name, then value, each written as
//     name + value with nothing between; a pair that occurs twice is written
//     once, as Twilio's SDKs do. A body whose Content-Type is given and is
//     not application/x-www-form-urlencoded is MALFORMED: nothing of it
//     would be signed.
// The URL is tried as given and, as Twilio's SDKs do, with its scheme's
// default port written out when it has none ("https://h/p" and
// "https://h:443/p") or removed when it is written (":443" for https, ":80"
// for http). Any other port is signed as it is: the SDKs' habit of also
// dropping a non-default port would let a signature for one port verify on
// another. The query is read with the strict form parser (bodySHA256 once at
// most).
//
// MISSING: no X-Twilio-Signature. MALFORMED: no url, a url that is not
// absolute http(s), a query or form body the strict parser refuses, a
// signature that is not base64 of 20 bytes, a bodySHA256 that is not 64 hex
// digits. MISMATCH: no auth token gives the signature, or the body does not
// hash to bodySHA256. Twilio signs no timestamp: there is no STALE, and a
// captured request verifies again later (SchemeWarnings says so). Immutable
// and thread-safe.
class TwilioVerifier final : public Verifier {
 public:
  // `keys` hold the auth tokens' bytes, non-empty, key_ids unique. Internal
  // if OpenSSL fails.
  static absl::StatusOr<std::unique_ptr<const TwilioVerifier>> Create(TwilioScheme scheme,
                                                                      std::vector<SecretKey> keys);

  absl::StatusOr<VerifyOutcome> Verify(const v1::HttpRequest& request,
                                       absl::Time now) const override;

 private:
  explicit TwilioVerifier(KeyRing keys) : keys_(std::move(keys)) {}

  const KeyRing keys_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_TWILIO_VERIFIER_H_

// The `twilio` kind: Twilio's X-Twilio-Signature
// (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
#ifndef HOOKGUARD_SERVER_SIGNATURE_TWILIO_VERIFIER_H_
#define HOOKGUARD_SERVER_SIGNATURE_TWILIO_VERIFIER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/signature/key_ring.h"
#include "server/signature/verifier.h"

namespace hookguard {

// The options of a twilio profile: none. Everything Twilio signs is fixed;
// the secrets are the account's auth tokens (primary and secondary during a
// rotation), used as they are.
struct TwilioScheme {};

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

// The `hmac` kind: a MAC of a templated payload, carried in one header.
#ifndef HOOKGUARD_SERVER_SIGNATURE_HMAC_VERIFIER_H_
#define HOOKGUARD_SERVER_SIGNATURE_HMAC_VERIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/signature/key_ring.h"
#include "server/signature/mac.h"
#include "server/signature/payload_template.h"
#include "server/signature/verifier.h"

namespace hookguard {

enum class SignatureEncoding {
  kHex,     // case-insensitive
  kBase64,  // standard alphabet, padding optional
};

// The options of an hmac profile (config.proto documents each one; the
// member initializers are the defaults). ParseSignatureScheme
// (signature_scheme.h) makes them from a profile and checks how they fit
// together.
struct HmacScheme {
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  std::string signature_header = "x-vapi-signature";
  std::string signature_prefix;  // literal, case-sensitive; before each MAC
  SignatureEncoding encoding = SignatureEncoding::kHex;
  std::string payload_format = "{body}";
  std::string timestamp_header;   // empty: no timestamp (unless key=value mode)
  std::string message_id_header;  // empty: no message id
  // Both set: the signature header is "t=<ts>,v1=<mac>,v1=<mac>..." (Stripe);
  // the timestamp comes from its `signature_timestamp_key` part, and each
  // `signature_key` part is a candidate MAC.
  std::string signature_timestamp_key;
  std::string signature_key;
  absl::Duration tolerance = kDefaultTolerance;  // either way from `now`
  // The secrets are base64 text (ParseSignatureScheme's DecodeSecretKey
  // decodes them); the verifier gets the decoded key bytes.
  bool secret_is_base64 = false;
};

// Verifies an hmac profile. Order of checks: headers parsed (MISSING /
// MALFORMED), then the MAC of every secret against every candidate
// (MISMATCH), then the timestamp window (STALE): STALE means "authentic but
// outside the window", never "forged". Immutable and thread-safe.
class HmacVerifier final : public Verifier {
 public:
  // `scheme` as ParseSignatureScheme makes it (checked there); `keys` hold
  // raw key bytes (non-empty), key_ids unique. InvalidArgument for a
  // payload_format that does not parse, Internal if OpenSSL fails.
  static absl::StatusOr<std::unique_ptr<const HmacVerifier>> Create(HmacScheme scheme,
                                                                    std::vector<SecretKey> keys);

  absl::StatusOr<VerifyOutcome> Verify(const v1::HttpRequest& request,
                                       absl::Time now) const override;

 private:
  HmacVerifier(HmacScheme scheme, PayloadTemplate payload, KeyRing keys);

  const HmacScheme scheme_;
  const PayloadTemplate payload_;
  const KeyRing keys_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_HMAC_VERIFIER_H_

// The `hmac` kind: a MAC of a templated payload, carried in one header.
#ifndef HOOKGUARD_SERVER_SIGNATURE_HMAC_VERIFIER_H_
#define HOOKGUARD_SERVER_SIGNATURE_HMAC_VERIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/signature/mac.h"
#include "server/signature/payload_template.h"
#include "server/signature/verifier.h"

namespace hookguard {

enum class SignatureEncoding {
  kHex,     // case-insensitive
  kBase64,  // standard alphabet, padding optional
};

// The options of an hmac profile, already resolved (config.proto documents
// each one; the defaults here are the contract's).
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
  absl::Duration tolerance = absl::Seconds(300);  // either way from `now`
};

// Verifies an hmac profile. Order of checks: headers parsed (MISSING /
// MALFORMED), then the MAC of every secret against every candidate
// (MISMATCH), then the timestamp window (STALE): STALE means "authentic but
// outside the window", never "forged". Immutable and thread-safe.
class HmacVerifier final : public Verifier {
 public:
  // `keys` hold raw key bytes (non-empty), at least one, key_ids unique.
  // InvalidArgument names the offending option by its config field name.
  static absl::StatusOr<std::unique_ptr<const HmacVerifier>> Create(HmacScheme scheme,
                                                                    std::vector<SecretKey> keys);

  // The option checks of Create, without keys: payload_format parses;
  // {timestamp} has a timestamp source and {id} a message_id_header; the
  // template signs {body}, and signs {timestamp} whenever a timestamp is read
  // (timestamp_header or signature_timestamp_key); signature_timestamp_key
  // and signature_key come together and exclude timestamp_header; tolerance
  // is positive; signature_header is set.
  static absl::Status CheckScheme(const HmacScheme& scheme);

  VerifyOutcome Verify(const v1::HttpRequest& request, absl::Time now) const override;

 private:
  struct Key {
    std::string key_id;
    PrekeyedHmac mac;
  };
  HmacVerifier(HmacScheme scheme, PayloadTemplate payload, std::vector<Key> keys);

  const HmacScheme scheme_;
  const PayloadTemplate payload_;
  const std::vector<Key> keys_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_HMAC_VERIFIER_H_

#include "server/signature/delivery_key.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"

namespace hookguard {

std::string DeliveryKey(const VerifyOutcome& outcome, absl::string_view body) {
  if (outcome.result != v1::SIGNATURE_RESULT_VALID) return "";
  if (outcome.message_id_signed && !outcome.message_id.empty()) return outcome.message_id;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace hookguard

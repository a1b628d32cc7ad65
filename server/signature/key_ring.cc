#include "server/signature/key_ring.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hookguard {

absl::StatusOr<KeyRing> KeyRing::Create(HashAlgorithm algorithm, std::vector<SecretKey> keys) {
  std::vector<Key> prekeyed;
  prekeyed.reserve(keys.size());
  for (SecretKey& k : keys) {
    absl::StatusOr<PrekeyedHmac> mac = PrekeyedHmac::Create(algorithm, k.key);
    if (!mac.ok()) {
      return absl::Status(mac.status().code(),
                          absl::StrCat("secret \"", k.key_id, "\": ", mac.status().message()));
    }
    prekeyed.push_back(Key{std::move(k.key_id), *std::move(mac)});
  }
  return KeyRing(std::move(prekeyed));
}

absl::StatusOr<const std::string*> KeyRing::Match(absl::Span<const absl::string_view> parts,
                                                  absl::Span<const std::string> candidates) const {
  const std::string* matched = nullptr;
  for (const Key& key : keys_) {
    unsigned char mac[kMaxMacBytes];
    if (!key.mac.Compute(parts, mac)) {
      return absl::InternalError("HMAC computation failed in OpenSSL");
    }
    const absl::string_view computed(reinterpret_cast<const char*>(mac), key.mac.mac_size());
    for (const std::string& candidate : candidates) {
      if (ConstantTimeEquals(candidate, computed) && matched == nullptr) matched = &key.key_id;
    }
  }
  return matched;
}

}  // namespace hookguard

// HMAC with OpenSSL's EVP_MAC API, keyed once and reused by every call.
#ifndef HOOKGUARD_SERVER_SIGNATURE_MAC_H_
#define HOOKGUARD_SERVER_SIGNATURE_MAC_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace hookguard {

enum class HashAlgorithm { kSha1, kSha256, kSha512 };

// Largest MAC any HashAlgorithm produces (SHA-512), in bytes.
inline constexpr size_t kMaxMacBytes = 64;

// An HMAC context keyed at construction. Compute() duplicates it, so the key
// schedule is done once per secret, not once per request. Movable, not
// copyable; Compute() is const and safe to call from many threads at once
// (EVP_MAC_CTX_dup only reads the keyed context). The key bytes live only
// inside OpenSSL's context, which frees (and cleanses) them.
class PrekeyedHmac {
 public:
  // InvalidArgument for an empty key; Internal if OpenSSL fails.
  static absl::StatusOr<PrekeyedHmac> Create(HashAlgorithm algorithm, absl::string_view key);

  // The MAC of the concatenation of `parts`, fed to OpenSSL one part at a
  // time (no concatenated copy of the body). Writes mac_size() bytes to
  // `out`. Returns false only if OpenSSL fails (out of memory); KeyRing
  // turns that into an Internal error, so the request fails closed.
  bool Compute(absl::Span<const absl::string_view> parts, unsigned char out[kMaxMacBytes]) const;

  size_t mac_size() const { return mac_size_; }

 private:
  struct CtxFree {
    void operator()(EVP_MAC_CTX* ctx) const;
  };
  PrekeyedHmac(std::unique_ptr<EVP_MAC_CTX, CtxFree> keyed, size_t mac_size)
      : keyed_(std::move(keyed)), mac_size_(mac_size) {}

  std::unique_ptr<EVP_MAC_CTX, CtxFree> keyed_;
  size_t mac_size_;
};

// True if `a` and `b` are equal. The lengths are compared first (a MAC's
// length is public); equal-length contents are compared with CRYPTO_memcmp,
// in time independent of where they differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_MAC_H_

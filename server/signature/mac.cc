#include "server/signature/mac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hookguard {
namespace {

const char* DigestName(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha1:
      return "SHA1";
    case HashAlgorithm::kSha256:
      return "SHA256";
    case HashAlgorithm::kSha512:
      return "SHA512";
  }
  return "SHA256";
}

// The HMAC implementation, fetched once per process (thread-safe static).
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  return mac;
}

}  // namespace

void PrekeyedHmac::CtxFree::operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }

absl::StatusOr<PrekeyedHmac> PrekeyedHmac::Create(HashAlgorithm algorithm, absl::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("empty HMAC key");
  EVP_MAC* mac = HmacAlgorithm();
  if (mac == nullptr) return absl::InternalError("OpenSSL has no HMAC");
  std::unique_ptr<EVP_MAC_CTX, CtxFree> ctx(EVP_MAC_CTX_new(mac));
  if (ctx == nullptr) return absl::InternalError("EVP_MAC_CTX_new failed");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                       const_cast<char*>(DigestName(algorithm)), 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   params) != 1) {
    return absl::InternalError("EVP_MAC_init failed");
  }
  const size_t size = EVP_MAC_CTX_get_mac_size(ctx.get());
  if (size == 0 || size > kMaxMacBytes) return absl::InternalError("unexpected MAC size");
  return PrekeyedHmac(std::move(ctx), size);
}

bool PrekeyedHmac::Compute(absl::Span<const absl::string_view> parts,
                           unsigned char out[kMaxMacBytes]) const {
  std::unique_ptr<EVP_MAC_CTX, CtxFree> ctx(EVP_MAC_CTX_dup(keyed_.get()));
  if (ctx == nullptr) return false;
  for (absl::string_view part : parts) {
    if (part.empty()) continue;
    if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()),
                       part.size()) != 1) {
      return false;
    }
  }
  size_t written = 0;
  if (EVP_MAC_final(ctx.get(), out, &written, kMaxMacBytes) != 1) return false;
  return written == mac_size_;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace hookguard

#include "server/signature/shared_secret_verifier.h"

#include <openssl/evp.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/signature/codec.h"
#include "server/signature/mac.h"

namespace hookguard {
namespace {

constexpr size_t kDigestBytes = 32;

// SHA-256 of `text`; Internal when OpenSSL fails.
absl::StatusOr<std::string> Sha256(absl::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1 ||
      size != kDigestBytes) {
    return absl::InternalError("SHA-256 failed in OpenSSL");
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

}  // namespace

absl::StatusOr<std::unique_ptr<const SharedSecretVerifier>> SharedSecretVerifier::Create(
    SharedSecretScheme scheme, std::vector<SecretKey> keys) {
  std::vector<Key> digests;
  digests.reserve(keys.size());
  for (SecretKey& k : keys) {
    absl::StatusOr<std::string> digest = Sha256(k.key);
    if (!digest.ok()) return digest.status();
    digests.push_back(Key{std::move(k.key_id), *std::move(digest)});
  }
  return std::unique_ptr<const SharedSecretVerifier>(
      new SharedSecretVerifier(std::move(scheme), std::move(digests)));
}

SharedSecretVerifier::SharedSecretVerifier(SharedSecretScheme scheme, std::vector<Key> keys)
    : scheme_(std::move(scheme)), keys_(std::move(keys)) {}

absl::StatusOr<VerifyOutcome> SharedSecretVerifier::Verify(const v1::HttpRequest& request,
                                                           absl::Time /*now*/) const {
  VerifyOutcome out;
  const HeaderValue header = ReadHeaderValue(request.headers(), scheme_.header);
  if (auto problem = DescribeHeaderProblem(header, scheme_.header)) {
    out.result = problem->result;
    out.detail = std::move(problem->detail);
    return out;
  }
  absl::string_view presented = header.value;
  if (scheme_.bearer_prefix) {
    constexpr absl::string_view kBearer = "bearer ";
    if (!absl::StartsWithIgnoreCase(presented, kBearer)) {
      out.result = v1::SIGNATURE_RESULT_MALFORMED;
      out.detail = absl::StrCat(scheme_.header, " header is not \"Bearer <secret>\"");
      return out;
    }
    presented = absl::StripLeadingAsciiWhitespace(presented.substr(kBearer.size()));
    if (presented.empty()) {
      out.result = v1::SIGNATURE_RESULT_MISSING;
      out.detail = absl::StrCat(scheme_.header, " header has no token after \"Bearer\"");
      return out;
    }
  }
  // Digests of equal length are compared, so neither the secret's length nor
  // a correct prefix of it changes the time taken.
  const absl::StatusOr<std::string> digest = Sha256(presented);
  if (!digest.ok()) return digest.status();
  const Key* matched = nullptr;
  for (const Key& key : keys_) {
    if (ConstantTimeEquals(*digest, key.digest) && matched == nullptr) matched = &key;
  }
  if (matched == nullptr) {
    out.result = v1::SIGNATURE_RESULT_MISMATCH;
    out.detail = absl::StrCat(scheme_.header, " matches no secret of the profile");
    return out;
  }
  out.result = v1::SIGNATURE_RESULT_VALID;
  out.key_id = matched->key_id;
  return out;
}

}  // namespace hookguard

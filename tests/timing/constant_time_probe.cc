// threat-table row 7: a probe for the constant-time test. It verifies one
// guess whose first N bytes are right and whose other bytes are wrong, for
// the hmac and shared_secret kinds. Run under callgrind, whose instruction
// counts are exact and repeatable, the count of ProbeVerify must not depend
// on N. Mode "naive" compares with std::string == instead, as the origin
// document's mistakes do, to show that the method detects an early exit.
//
// Usage: constant_time_probe hmac|shared_secret|naive PREFIX_BYTES
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "server/signature/signature_scheme.h"

namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";  // 32 bytes
constexpr char kBody[] = R"({"message":{"type":"status-update","call":{"id":"call-1"}}})";

std::string Mac() {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret, sizeof(kSecret) - 1, reinterpret_cast<const unsigned char*>(kBody),
       sizeof(kBody) - 1, mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

// Right for the first `prefix` bytes; every later byte has its low bit
// flipped, which keeps each hex digit in its class (0-9 or a-f), so that the
// decoding work is the same for every guess and only the comparison differs.
std::string Guess(std::string right, size_t prefix) {
  for (size_t i = prefix; i < right.size(); ++i) right[i] ^= 0x01;
  return right;
}

// Kept out of line so that callgrind can count exactly this function.
__attribute__((noinline)) int ProbeVerify(const hookguard::Verifier* verifier,
                                          const hookguard::v1::HttpRequest& request,
                                          const std::string& naive_a, const std::string& naive_b) {
  if (verifier == nullptr) return naive_a == naive_b ? 1 : 0;
  return verifier->Verify(request, absl::Now())->result;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s hmac|shared_secret|naive PREFIX_BYTES\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const size_t prefix = std::strtoul(argv[2], nullptr, 10);

  hookguard::config::v1::Profile profile;
  profile.set_name("probe");
  hookguard::v1::HttpRequest request;
  request.set_body(kBody);
  std::string naive_right, naive_guess;
  if (mode == "hmac") {
    profile.set_kind("hmac");
    (*request.mutable_headers())["x-vapi-signature"] = absl::BytesToHexString(Guess(Mac(), prefix));
  } else if (mode == "shared_secret") {
    profile.set_kind("shared_secret");
    (*request.mutable_headers())["x-vapi-secret"] = Guess(kSecret, prefix);
  } else if (mode == "naive") {
    naive_right = absl::BytesToHexString(Mac());
    naive_guess = absl::BytesToHexString(Guess(Mac(), prefix));
  } else {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  std::unique_ptr<const hookguard::Verifier> verifier;
  if (mode != "naive") {
    auto scheme = hookguard::ParseSignatureScheme(profile);
    auto made = scheme.ok()
                    ? hookguard::MakeVerifier(*scheme, {{"k", kSecret}})
                    : absl::StatusOr<std::unique_ptr<const hookguard::Verifier>>(scheme.status());
    if (!made.ok()) {
      std::fprintf(stderr, "%s\n", std::string(made.status().message()).c_str());
      return 2;
    }
    verifier = *std::move(made);
  }
  int result = 0;
  for (int i = 0; i < 20; ++i)
    result = ProbeVerify(verifier.get(), request, naive_right, naive_guess);
  std::printf("%s prefix=%zu result=%d\n", mode.c_str(), prefix, result);
  return 0;
}

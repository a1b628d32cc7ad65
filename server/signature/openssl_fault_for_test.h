// Fault injection for unit tests: makes OpenSSL's EVP_MAC_CTX_dup fail, as
// it does when memory runs out, so that tests can show a failed MAC is an
// error and never a decision. Include it in exactly one file of a test
// binary: it defines EVP_MAC_CTX_dup, which takes the place of libcrypto's
// (a definition in the executable interposes the shared library's) and
// forwards to it unless a FailOpenSslMacs is alive.
#ifndef HOOKGUARD_SERVER_SIGNATURE_OPENSSL_FAULT_FOR_TEST_H_
#define HOOKGUARD_SERVER_SIGNATURE_OPENSSL_FAULT_FOR_TEST_H_

#include <dlfcn.h>
#include <openssl/evp.h>

#include <atomic>
#include <cstdlib>

namespace hookguard {

inline std::atomic<bool> openssl_macs_fail{false};

// While alive, every EVP_MAC_CTX_dup fails.
class FailOpenSslMacs {
 public:
  FailOpenSslMacs() { openssl_macs_fail = true; }
  ~FailOpenSslMacs() { openssl_macs_fail = false; }
  FailOpenSslMacs(const FailOpenSslMacs&) = delete;
  FailOpenSslMacs& operator=(const FailOpenSslMacs&) = delete;
};

}  // namespace hookguard

extern "C" EVP_MAC_CTX* EVP_MAC_CTX_dup(const EVP_MAC_CTX* src) {
  using Dup = EVP_MAC_CTX* (*)(const EVP_MAC_CTX*);
  static const Dup real = reinterpret_cast<Dup>(dlsym(RTLD_NEXT, "EVP_MAC_CTX_dup"));
  if (real == nullptr) std::abort();
  if (hookguard::openssl_macs_fail) return nullptr;
  return real(src);
}

#endif  // HOOKGUARD_SERVER_SIGNATURE_OPENSSL_FAULT_FOR_TEST_H_

#include "server/audit/decision_id.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace hookguard {

DecisionIdGenerator::DecisionIdGenerator() {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&prefix_), sizeof(prefix_)) != 1) {
    // Without randomness ids could collide across replicas; refuse to run.
    std::fprintf(stderr, "hookguard: RAND_bytes failed; cannot make decision ids\n");
    std::abort();
  }
}

std::string DecisionIdGenerator::Next() {
  const uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed);
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(prefix_),
                static_cast<unsigned long long>(n));
  return std::string(buf, 32);
}

}  // namespace hookguard

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
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int i = 0; i < 16; ++i) {
    id[15 - i] = kHex[(prefix_ >> (4 * i)) & 0xf];
    id[31 - i] = kHex[(n >> (4 * i)) & 0xf];
  }
  return id;
}

}  // namespace hookguard

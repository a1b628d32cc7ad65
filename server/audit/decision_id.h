// Decision ids: unique across replicas and restarts, cheap to make.
#ifndef HOOKGUARD_SERVER_AUDIT_DECISION_ID_H_
#define HOOKGUARD_SERVER_AUDIT_DECISION_ID_H_

#include <atomic>
#include <cstdint>
#include <string>

namespace hookguard {

// Makes ids of 32 lowercase hex digits: 64 random bits drawn once per process
// (OpenSSL's CSPRNG) followed by a 64-bit counter. Ids are unique within a
// process by construction and across processes with overwhelming
// probability. They are identifiers, not secrets. Thread-safe.
class DecisionIdGenerator {
 public:
  DecisionIdGenerator();
  std::string Next();

 private:
  uint64_t prefix_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_AUDIT_DECISION_ID_H_

// Where secrets' values come from: the environment or files.
#ifndef HOOKGUARD_SERVER_CONFIG_SECRET_SOURCE_H_
#define HOOKGUARD_SERVER_CONFIG_SECRET_SOURCE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "hookguard/config/v1/config.pb.h"

namespace hookguard {

// Reads the value of one configured secret. Implementations are thread-safe.
// Error messages name the variable or the file, never the value.
class SecretSource {
 public:
  virtual ~SecretSource() = default;
  virtual absl::StatusOr<std::string> Read(const config::v1::Secret& secret) const = 0;
};

// The real source: `env` is read with getenv, `file` from the filesystem
// (at most kMaxSecretFileBytes). From either, one trailing "\n" or "\r\n"
// is removed (a Kubernetes Secret made from a file often ends with one). A
// missing, empty or whitespace-only variable, an unreadable, oversized,
// empty or whitespace-only file (blank lines), or a
// secret with neither or both of env and file, is an error (NotFound,
// PermissionDenied, FailedPrecondition or InvalidArgument).
class EnvAndFileSecretSource final : public SecretSource {
 public:
  static constexpr size_t kMaxSecretFileBytes = size_t{64} * 1024;
  absl::StatusOr<std::string> Read(const config::v1::Secret& secret) const override;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_CONFIG_SECRET_SOURCE_H_

// A SecretSource from a table, for unit tests.
#ifndef HOOKGUARD_SERVER_CONFIG_FAKE_SECRET_SOURCE_H_
#define HOOKGUARD_SERVER_CONFIG_FAKE_SECRET_SOURCE_H_

#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/config/secret_source.h"

namespace hookguard {

// Secrets keyed by env name or file path; anything else is NotFound, with a
// message that names the variable or file.
class FakeSecretSource final : public SecretSource {
 public:
  explicit FakeSecretSource(std::map<std::string, std::string> values)
      : values_(std::move(values)) {}
  absl::StatusOr<std::string> Read(const config::v1::Secret& secret) const override {
    const std::string& where = secret.env().empty() ? secret.file() : secret.env();
    const auto it = values_.find(where);
    if (it == values_.end()) return absl::NotFoundError(absl::StrCat(where, " is not set"));
    return it->second;
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_CONFIG_FAKE_SECRET_SOURCE_H_

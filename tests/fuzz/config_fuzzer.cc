// libFuzzer target: ParseConfigJson and Compile on arbitrary text
// (threat-table row 15: a broken configuration is refused with a message,
// never a crash).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "server/config/config.h"
#include "server/config/server_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<hookguard::config::v1::Config> config = hookguard::ParseConfigJson(
      absl::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!config.ok()) {
    if (config.status().message().empty()) std::abort();
    return 0;
  }
  absl::StatusOr<hookguard::ServerSpec> spec = hookguard::Compile(*config);
  if (!spec.ok() && spec.status().message().empty()) std::abort();
  // What compiles is complete: the default profile is one of its profiles.
  if (spec.ok() && spec->Find("") == nullptr) std::abort();
  return 0;
}

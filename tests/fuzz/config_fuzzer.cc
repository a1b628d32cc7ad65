// libFuzzer target: ParseConfigJson on arbitrary text (threat-table row 15:
// a broken configuration is refused with a message, never a crash).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "server/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<hookguard::config::v1::Config> config = hookguard::ParseConfigJson(
      absl::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  // What parses is complete and valid: ValidateConfig must agree.
  if (config.ok() && !hookguard::ValidateConfig(*config).ok()) std::abort();
  if (!config.ok() && config.status().message().empty()) std::abort();
  return 0;
}

// libFuzzer target: ParseConfigJson and Compile on arbitrary text
// (threat-table row 15: a broken configuration is refused with a message,
// never a crash), and the batched form of every lookup query that compiles.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "server/config/config.h"
#include "server/config/server_spec.h"
#include "server/ownership/ownership_queries.h"

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
  if (spec.ok()) {
    const std::pair<const std::string&, const char*> lookups[] = {
        {spec->queries.call, "call_id"},
        {spec->queries.phone_number, "phone_number_id"},
        {spec->queries.assistant, "assistant_id"}};
    for (const auto& [query, parameter] : lookups) {
      // A batched form binds each copy's own parameter, and no other.
      for (const auto dialect :
           {hookguard::SqlDialect::kPostgresql, hookguard::SqlDialect::kSqlite}) {
        std::optional<std::string> batch =
            hookguard::ConfiguredBatchQuery(query, parameter, 3, dialect);
        if (batch.has_value() &&
            (batch->find(":id0") == std::string::npos || batch->find(":id2") == std::string::npos ||
             batch->find(std::string(":") + parameter) != std::string::npos)) {
          std::abort();
        }
      }
    }
  }
  return 0;
}

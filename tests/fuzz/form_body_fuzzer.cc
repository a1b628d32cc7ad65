// libFuzzer target: the strict form-body parser (Twilio bodies, `form:`
// ownership subjects) on arbitrary bytes. Nothing may crash, and what it
// accepts must keep its promises: at most kMaxFormParameters parameters,
// non-empty names, UTF-8 names and values; FormField agrees with
// ParseFormBody; SortedFormParameters is a sorted permutation of it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/payload/form_body.h"
#include "simdjson.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<hookguard::FormParameter>> parsed = hookguard::ParseFormBody(body);
  absl::StatusOr<std::vector<hookguard::FormParameter>> sorted =
      hookguard::SortedFormParameters(body);
  if (parsed.ok() != sorted.ok()) std::abort();
  if (!parsed.ok()) {
    if (hookguard::FormField(body, "CallSid").ok()) std::abort();
    return 0;
  }
  if (parsed->size() > hookguard::kMaxFormParameters) std::abort();
  for (const hookguard::FormParameter& p : *parsed) {
    if (p.name.empty()) std::abort();
    if (!simdjson::validate_utf8(p.name.data(), p.name.size())) std::abort();
    if (!simdjson::validate_utf8(p.value.data(), p.value.size())) std::abort();
  }
  if (!std::is_sorted(sorted->begin(), sorted->end()) ||
      !std::is_permutation(parsed->begin(), parsed->end(), sorted->begin(), sorted->end())) {
    std::abort();
  }
  // FormField of the first parameter's name: its value when it occurs once.
  if (!parsed->empty()) {
    const std::string& name = parsed->front().name;
    const auto count =
        std::count_if(parsed->begin(), parsed->end(),
                      [&](const hookguard::FormParameter& p) { return p.name == name; });
    absl::StatusOr<std::optional<std::string>> field = hookguard::FormField(body, name);
    if (count > 1 && field.ok()) std::abort();
    if (field.ok() && (!field->has_value() || **field != parsed->front().value)) std::abort();
  }
  return 0;
}

// libFuzzer target: ParseCallEvent on arbitrary bytes (threat-table row 12).
// The parser must never crash, and what it accepts must keep its promises:
// a non-empty call id, or for an event without a call (chat.*, session.*) a
// named assistant; every id within kMaxIdBytes. The same bytes go
// through ReadJsonPointers (subjects, row 34): every value it returns is
// non-empty, within kMaxIdBytes and free of control characters.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/payload/call_event_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<hookguard::v1::CallEvent> event =
      hookguard::ParseCallEvent(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (event.ok()) {
    if (event->call_id().empty() && event->assistant_id().empty()) std::abort();
    for (const std::string* id :
         {&event->call_id(), &event->assistant_id(), &event->phone_number_id(), &event->org_id()}) {
      if (id->size() > hookguard::kMaxIdBytes) std::abort();
    }
  }
  static const std::vector<std::vector<std::string>> kPointers = {
      {"account"}, {"installation", "id"}, {"call", "agent_id"}, {"call", "to_number"}};
  absl::StatusOr<std::vector<std::optional<std::string>>> subjects = hookguard::ReadJsonPointers(
      absl::string_view(reinterpret_cast<const char*>(data), size), kPointers);
  if (subjects.ok()) {
    if (subjects->size() != kPointers.size()) std::abort();
    for (const std::optional<std::string>& id : *subjects) {
      if (!id.has_value()) continue;
      if (id->empty() || id->size() > hookguard::kMaxIdBytes) std::abort();
      if (!hookguard::CheckEventId("id", *id).ok()) std::abort();
    }
  }
  return 0;
}

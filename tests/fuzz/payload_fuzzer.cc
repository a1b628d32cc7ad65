// libFuzzer target: ParseCallEvent on arbitrary bytes (threat-table row 12).
// The parser must never crash, and what it accepts must keep its promises:
// a non-empty call id and every id within kMaxIdBytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "server/payload/call_event_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<hookguard::v1::CallEvent> event =
      hookguard::ParseCallEvent(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (event.ok()) {
    if (event->call_id().empty()) std::abort();
    for (const std::string* id :
         {&event->call_id(), &event->assistant_id(), &event->phone_number_id(), &event->org_id()}) {
      if (id->size() > hookguard::kMaxIdBytes) std::abort();
    }
  }
  return 0;
}

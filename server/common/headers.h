// The one place that reads an HTTP header case-insensitively.
#ifndef HOOKGUARD_SERVER_COMMON_HEADERS_H_
#define HOOKGUARD_SERVER_COMMON_HEADERS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"

namespace hookguard {

struct HeaderLookup {
  enum class State {
    kAbsent,     // no header of that name
    kFound,      // exactly one; value is set
    kAmbiguous,  // several entries whose names differ only in case
  };
  State state = State::kAbsent;
  // Points into the map; valid while the map is unchanged. Empty unless kFound.
  absl::string_view value;
};

// Finds `name` among `headers`, ignoring ASCII case. Two entries that match
// (e.g. "X-Sig" and "x-sig") are reported as kAmbiguous: a caller must then
// fail closed rather than pick one. Does not allocate.
HeaderLookup FindHeader(const google::protobuf::Map<std::string, std::string>& headers,
                        absl::string_view name);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_COMMON_HEADERS_H_

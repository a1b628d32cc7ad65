#include "server/common/headers.h"

#include "absl/strings/match.h"

namespace hookguard {

HeaderLookup FindHeader(const google::protobuf::Map<std::string, std::string>& headers,
                        absl::string_view name) {
  HeaderLookup found;
  for (const auto& [key, value] : headers) {
    if (!absl::EqualsIgnoreCase(key, name)) continue;
    if (found.state == HeaderLookup::State::kFound) {
      return HeaderLookup{HeaderLookup::State::kAmbiguous, {}};
    }
    found = HeaderLookup{HeaderLookup::State::kFound, value};
  }
  return found;
}

}  // namespace hookguard

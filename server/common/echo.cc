#include "server/common/echo.h"

#include "absl/strings/str_cat.h"

namespace hookguard {

std::string CapEcho(absl::string_view value) {
  if (value.size() <= kMaxEchoBytes) return std::string(value);
  size_t cut = kMaxEchoBytes;
  // Back up over UTF-8 continuation bytes (10xxxxxx) to a character start.
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xc0) == 0x80) --cut;
  return absl::StrCat(value.substr(0, cut), "...(", value.size(), " bytes)");
}

}  // namespace hookguard

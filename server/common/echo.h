// The one bound on request-supplied text that hookguard repeats: in audit
// lines, response details and status messages.
#ifndef HOOKGUARD_SERVER_COMMON_ECHO_H_
#define HOOKGUARD_SERVER_COMMON_ECHO_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace hookguard {

// The most bytes of one request-supplied string (a profile name, an id, an
// expected owner, a message id, a caller identity) that are repeated. Ids
// that pass validation are never longer (kMaxIdBytes), so only hostile or
// broken input is ever cut.
inline constexpr size_t kMaxEchoBytes = 256;

// `value` as it may be repeated: unchanged when it is at most kMaxEchoBytes
// long; otherwise its first kMaxEchoBytes bytes, cut back to the start of a
// UTF-8 character (the result stays valid UTF-8 for proto3 string fields),
// followed by "...(N bytes)" with N the original size. So a 100 KB profile
// name costs a log line about 300 bytes, not 100 KB.
std::string CapEcho(absl::string_view value);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_COMMON_ECHO_H_

// JSON string literals, written as Protobuf's JSON printer writes them.
#ifndef HOOKGUARD_SERVER_AUDIT_JSON_STRING_H_
#define HOOKGUARD_SERVER_AUDIT_JSON_STRING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace hookguard {

// Appends `value` to `out` as a quoted JSON string, byte for byte what
// Protobuf's JSON printer writes (json_string_test.cc and audit_log_test.cc
// compare them): quote, backslash, control characters, DEL, '<' and '>'
// escaped, and above ASCII the C1 controls (U+0080..U+009F), U+2028, U+2029
// and the other invisible format characters the printer escapes, so that a
// value can neither end, split nor disguise a log line. Other UTF-8 is copied,
// and so are bytes that are not UTF-8. The one JSON string writer of the
// server's log lines and of the CLI's JSON output.
void AppendJsonString(std::string* out, absl::string_view value);

// The same, as a new string.
std::string JsonString(absl::string_view value);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_AUDIT_JSON_STRING_H_

// Editing one value of a JSON document in place, keeping every other byte
// as it was (`hookguard sign --set`): a test delivery differs from the
// fixture it came from only where it was asked to.
#ifndef HOOKGUARD_TOOLS_HOOKGUARD_JSON_EDIT_H_
#define HOOKGUARD_TOOLS_HOOKGUARD_JSON_EDIT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hookguard::cli {

// Whether `path` (object keys joined by '.', from the root, e.g.
// "message.call") names an object in `doc`. The first member of a repeated
// key counts; keys are compared as written (escapes are not decoded).
bool IsJsonObjectAt(absl::string_view doc, absl::string_view path);

// Whether `doc` has a member at `path` ("message.call.assistantId"), of any
// value, null included.
bool HasJsonKeyAt(absl::string_view doc, absl::string_view path);

// `doc` with the value at `path` ("message.call.id") replaced by
// `json_value` (JSON text, e.g. hookguard::JsonString("call_1") or "null"), or added
// at the end of its object when that object has no such key. Every other
// byte is kept. InvalidArgument when `doc` or `json_value` is not one JSON
// value, or a key along the path is missing or not an object (the message
// names the path).
absl::StatusOr<std::string> SetJsonValue(absl::string_view doc, absl::string_view path,
                                         absl::string_view json_value);

}  // namespace hookguard::cli

#endif  // HOOKGUARD_TOOLS_HOOKGUARD_JSON_EDIT_H_

// Where a profile's subjects (config profiles[].ownership.subjects) are read
// from in a signed body, and reading them.
#ifndef HOOKGUARD_SERVER_PAYLOAD_SUBJECT_SOURCE_H_
#define HOOKGUARD_SERVER_PAYLOAD_SUBJECT_SOURCE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hookguard {

// One subject's source: a JSON Pointer into a JSON body, or a field of a
// form (application/x-www-form-urlencoded) body.
struct SubjectSource {
  enum class Kind { kJsonPointer, kFormField };
  Kind kind = Kind::kJsonPointer;
  // kJsonPointer: the pointer's reference tokens, unescaped, at least one.
  std::vector<std::string> tokens;
  // kFormField: the field's name.
  std::string field;
  // The source as configured ("/installation/id", "form:AccountSid").
  std::string text;
};

// Parses a subject's `from`: an RFC 6901 JSON Pointer naming a member below
// the root ("/account", "/installation/id"; "~0" is '~', "~1" is '/'), or
// "form:NAME". InvalidArgument for anything else, with the reason: an empty
// pointer or one without a leading '/' (the whole document is never an id),
// an empty token, a '~' not followed by 0 or 1, an empty form field name, and
// "header:..." (no supported scheme signs headers: an unsigned header such as
// Shopify's X-Shopify-Shop-Domain can be changed by whoever replays a body).
absl::StatusOr<SubjectSource> ParseSubjectSource(absl::string_view from);

// The ids `sources` name in `body`, in their order: nullopt when absent
// (or an empty string). JSON pointers are read by ReadJsonPointers (one pass
// over the whole document, with the VAPI parser's strictness), form fields
// by FormField (a repeated field or a malformed body is an error). All
// sources must be of one kind (the profile's compile checks it).
// InvalidArgument ("malformed event: ...") never quotes the body.
absl::StatusOr<std::vector<std::optional<std::string>>> ReadSubjects(
    absl::string_view body, absl::Span<const SubjectSource> sources);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_PAYLOAD_SUBJECT_SOURCE_H_

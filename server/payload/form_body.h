// Reads an application/x-www-form-urlencoded body (Twilio's webhooks) with one
// strict parser: the ownership subjects (`form:NAME`) and the Twilio signature
// both read the body through it, so they can never see different fields.
#ifndef HOOKGUARD_SERVER_PAYLOAD_FORM_BODY_H_
#define HOOKGUARD_SERVER_PAYLOAD_FORM_BODY_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hookguard {

// A body with more parameters than this is malformed. Django
// (DATA_UPLOAD_MAX_NUMBER_FIELDS) and Express (parameterLimit) refuse a body
// past 1000 fields too; a Twilio voice status callback has about 30.
inline constexpr size_t kMaxFormParameters = 1000;

// One name=value pair, both percent-decoded ('+' is a space).
struct FormParameter {
  std::string name;
  std::string value;

  friend bool operator==(const FormParameter& a, const FormParameter& b) {
    return a.name == b.name && a.value == b.value;
  }
  friend bool operator<(const FormParameter& a, const FormParameter& b) {
    return a.name != b.name ? a.name < b.name : a.value < b.value;
  }
};

// Every parameter of `body`, in body order, repeated names included. The
// empty body has none. Stricter than the WHATWG parser, which never fails:
// whatever it (or Django's, Express's or Go's reader) would repair is
// refused, so no reader in front of hookguard can see other fields:
//   - parameters are separated by '&' and each holds a '=' ("a" alone, and
//     empty parameters as in "a=1&&b=2" or a trailing '&', are malformed);
//     the first '=' ends the name, later ones belong to the value;
//   - a name is not empty;
//   - every '%' is followed by two hex digits ("%zz", a trailing "%4");
//   - raw bytes are printable ASCII (0x21..0x7E; no space, control
//     character or byte over 0x7E: senders percent-encode those);
//   - the decoded name and value are valid UTF-8;
//   - at most kMaxFormParameters parameters.
// Errors: InvalidArgument with a short message that names the rule broken and
// the parameter's position, never the body's bytes.
// Thread-safe (no state).
absl::StatusOr<std::vector<FormParameter>> ParseFormBody(absl::string_view body);

// The value of the one parameter called `name` (compared after decoding, so
// "C%61llSid" is "CallSid"); nullopt when absent. InvalidArgument when the
// body is malformed (ParseFormBody), or `name` occurs more than once, or a
// parameter named `name[...]` is present too (Express's default `qs` reader
// turns "AccountSid[]=x" into a second AccountSid): readers differ on which
// occurrence wins, so none is taken.
absl::StatusOr<std::optional<std::string>> FormField(absl::string_view body,
                                                     absl::string_view name);

// ParseFormBody's parameters sorted by name, then by value (bytewise, which
// for UTF-8 is code point order: the order Twilio signs in). Repeated names
// are kept; identical pairs too.
absl::StatusOr<std::vector<FormParameter>> SortedFormParameters(absl::string_view body);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_PAYLOAD_FORM_BODY_H_

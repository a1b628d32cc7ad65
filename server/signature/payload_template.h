// The `payload_format` of an hmac profile: what the platform signs.
#ifndef HOOKGUARD_SERVER_SIGNATURE_PAYLOAD_TEMPLATE_H_
#define HOOKGUARD_SERVER_SIGNATURE_PAYLOAD_TEMPLATE_H_

#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hookguard {

enum class Placeholder { kBody, kTimestamp, kMethod, kUrl, kId };

// A parsed template such as "{timestamp}.{body}". Placeholders are {body},
// {timestamp} (the timestamp exactly as sent), {method}, {url} and {id} (the
// message id); every other character is literal. A '{' that does not start
// one of those placeholders is an error (there is no escape: no platform
// signs a literal '{' next to a name). Immutable; thread-safe.
class PayloadTemplate {
 public:
  // The values substituted for the placeholders. Views; not owned.
  struct Values {
    absl::string_view body;
    absl::string_view timestamp;
    absl::string_view method;
    absl::string_view url;
    absl::string_view id;
  };
  using Parts = absl::InlinedVector<absl::string_view, 8>;

  // InvalidArgument "payload_format: ..." for an empty template, an unknown
  // or unterminated placeholder, or two placeholders with no literal
  // character between them ("{id}{timestamp}" is ambiguous).
  static absl::StatusOr<PayloadTemplate> Parse(absl::string_view format);

  bool Uses(Placeholder placeholder) const;

  // The pieces whose concatenation is the signed payload, in order. They
  // point into `values` and into this template.
  Parts Expand(const Values& values) const;

 private:
  struct Segment {
    bool is_placeholder = false;
    Placeholder placeholder = Placeholder::kBody;
    std::string literal;
  };
  explicit PayloadTemplate(std::vector<Segment> segments) : segments_(std::move(segments)) {}

  std::vector<Segment> segments_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_PAYLOAD_TEMPLATE_H_

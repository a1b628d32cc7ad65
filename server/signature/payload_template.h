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
// signs a literal '{' next to a name). Two placeholders side by side are
// refused (one MAC would verify under several splits of the signed bytes),
// except {timestamp} right after {body}, which Retell signs: a verifier of
// such a template must take the timestamp in milliseconds only
// (TimestampFollowsBody), so that no digit can move between body and
// timestamp and stay in the window: fewer digits are no millisecond time,
// more are centuries away, and a leading zero is refused. Immutable;
// thread-safe.
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

  // {timestamp} comes right after {body} ("{body}{timestamp}").
  bool TimestampFollowsBody() const { return timestamp_follows_body_; }

  // The pieces whose concatenation is the signed payload, in order. They
  // point into `values` and into this template.
  Parts Expand(const Values& values) const;

 private:
  struct Segment {
    bool is_placeholder = false;
    Placeholder placeholder = Placeholder::kBody;
    std::string literal;
  };
  PayloadTemplate(std::vector<Segment> segments, bool timestamp_follows_body)
      : segments_(std::move(segments)), timestamp_follows_body_(timestamp_follows_body) {}

  std::vector<Segment> segments_;
  bool timestamp_follows_body_ = false;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_PAYLOAD_TEMPLATE_H_

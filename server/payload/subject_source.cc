#include "server/payload/subject_source.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/payload/call_event_parser.h"
#include "server/payload/form_body.h"

namespace hookguard {

namespace {

constexpr absl::string_view kFormPrefix = "form:";

absl::Status BadSource(absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("from: ", why, " (give a JSON Pointer such as \"/account\" or \"form:NAME\")"));
}

}  // namespace

absl::StatusOr<SubjectSource> ParseSubjectSource(absl::string_view from) {
  SubjectSource source;
  source.text = std::string(from);
  if (absl::StartsWithIgnoreCase(from, "header:")) {
    return absl::InvalidArgumentError(
        "from: a header is never a subject source: no supported signature scheme signs "
        "headers, so whoever replays a signed body can change them (e.g. Shopify's "
        "X-Shopify-Shop-Domain); read the id from the signed body instead");
  }
  if (absl::StartsWith(from, kFormPrefix)) {
    source.kind = SubjectSource::Kind::kFormField;
    source.field = std::string(from.substr(kFormPrefix.size()));
    if (source.field.empty()) return BadSource("\"form:\" names no field");
    return source;
  }
  if (from.empty()) return BadSource("required");
  if (from.front() != '/') {
    return BadSource(absl::StrCat("\"", from, "\" is neither a JSON Pointer nor form:NAME"));
  }
  // RFC 6901: "/" separates tokens; in each, "~1" is '/' and "~0" is '~'.
  from.remove_prefix(1);
  for (;;) {
    const size_t slash = from.find('/');
    const absl::string_view raw = from.substr(0, slash);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token.push_back(raw[i]);
      } else if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token.push_back(raw[i + 1] == '0' ? '~' : '/');
        ++i;
      } else {
        return BadSource(absl::StrCat("\"", source.text, "\": '~' must be followed by 0 or 1"));
      }
    }
    if (token.empty()) {
      return BadSource(absl::StrCat("\"", source.text, "\" has an empty member name"));
    }
    source.tokens.push_back(std::move(token));
    if (slash == absl::string_view::npos) break;
    from.remove_prefix(slash + 1);
  }
  return source;
}

absl::StatusOr<std::vector<std::optional<std::string>>> ReadSubjects(
    absl::string_view body, absl::Span<const SubjectSource> sources) {
  std::vector<std::vector<std::string>> pointers;
  for (const SubjectSource& source : sources) {
    if (source.kind == SubjectSource::Kind::kJsonPointer) pointers.push_back(source.tokens);
  }
  if (!pointers.empty()) {
    if (pointers.size() != sources.size()) {
      return absl::InvalidArgumentError("subjects mix JSON Pointers and form fields");
    }
    return ReadJsonPointers(body, pointers);
  }
  std::vector<std::optional<std::string>> values;
  for (const SubjectSource& source : sources) {
    absl::StatusOr<std::optional<std::string>> value = FormField(body, source.field);
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed event: ", source.text, ": ", value.status().message()));
    }
    if (value->has_value()) {
      if (absl::Status s = CheckEventId(source.text, **value); !s.ok()) return s;
      if ((*value)->empty()) value->reset();
    }
    values.push_back(*std::move(value));
  }
  return values;
}

}  // namespace hookguard

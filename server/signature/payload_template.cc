#include "server/signature/payload_template.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hookguard {
namespace {

struct PlaceholderName {
  absl::string_view name;
  Placeholder placeholder;
};
constexpr PlaceholderName kPlaceholders[] = {
    {"{body}", Placeholder::kBody},     {"{timestamp}", Placeholder::kTimestamp},
    {"{method}", Placeholder::kMethod}, {"{url}", Placeholder::kUrl},
    {"{id}", Placeholder::kId},
};

}  // namespace

absl::StatusOr<PayloadTemplate> PayloadTemplate::Parse(absl::string_view format) {
  if (format.empty()) return absl::InvalidArgumentError("payload_format: empty");
  std::vector<Segment> segments;
  bool timestamp_follows_body = false;
  std::string literal;
  size_t i = 0;
  while (i < format.size()) {
    if (format[i] != '{') {
      literal.push_back(format[i]);
      ++i;
      continue;
    }
    const size_t close = format.find('}', i);
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError("payload_format: unterminated '{'");
    }
    const absl::string_view token = format.substr(i, close - i + 1);
    const PlaceholderName* known = nullptr;
    for (const auto& p : kPlaceholders) {
      if (p.name == token) known = &p;
    }
    if (known == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("payload_format: unknown placeholder ", token,
                       " (known: {body}, {timestamp}, {method}, {url}, {id})"));
    }
    if (!literal.empty()) {
      segments.push_back(Segment{false, Placeholder::kBody, std::move(literal)});
      literal.clear();
    } else if (!segments.empty() && segments.back().is_placeholder &&
               segments.back().placeholder == Placeholder::kBody &&
               known->placeholder == Placeholder::kTimestamp) {
      timestamp_follows_body = true;  // Retell's body + timestamp (see the header)
    } else if (!segments.empty() && segments.back().is_placeholder) {
      // "{id}{timestamp}": "msg_10" + "T" and "msg_1" + "0T" sign the same
      // bytes, so one MAC would verify under two (id, timestamp) pairs.
      return absl::InvalidArgumentError(absl::StrCat(
          "payload_format: ", format.substr(0, close + 1),
          ": adjacent placeholders need a literal separator between them (e.g. \".\"), or one "
          "signature verifies under several values"));
    }
    segments.push_back(Segment{true, known->placeholder, {}});
    i = close + 1;
  }
  if (!literal.empty()) segments.push_back(Segment{false, Placeholder::kBody, std::move(literal)});
  return PayloadTemplate(std::move(segments), timestamp_follows_body);
}

bool PayloadTemplate::Uses(Placeholder placeholder) const {
  for (const auto& s : segments_) {
    if (s.is_placeholder && s.placeholder == placeholder) return true;
  }
  return false;
}

PayloadTemplate::Parts PayloadTemplate::Expand(const Values& values) const {
  Parts parts;
  for (const auto& s : segments_) {
    if (!s.is_placeholder) {
      parts.push_back(s.literal);
      continue;
    }
    switch (s.placeholder) {
      case Placeholder::kBody:
        parts.push_back(values.body);
        break;
      case Placeholder::kTimestamp:
        parts.push_back(values.timestamp);
        break;
      case Placeholder::kMethod:
        parts.push_back(values.method);
        break;
      case Placeholder::kUrl:
        parts.push_back(values.url);
        break;
      case Placeholder::kId:
        parts.push_back(values.id);
        break;
    }
  }
  return parts;
}

}  // namespace hookguard

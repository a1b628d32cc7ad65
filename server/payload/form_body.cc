#include "server/payload/form_body.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "simdjson.h"

namespace hookguard {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one name or value. `what` and `position` name it in errors.
absl::StatusOr<std::string> Decode(absl::string_view raw, absl::string_view what, size_t position) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c < 0x21 || c > 0x7E) {
      return absl::InvalidArgumentError(
          absl::StrCat("form body: parameter ", position,
                       " has a raw byte that must be percent-encoded in its ", what));
    }
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      const int high = i + 1 < raw.size() ? HexValue(raw[i + 1]) : -1;
      const int low = i + 2 < raw.size() ? HexValue(raw[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return absl::InvalidArgumentError(absl::StrCat("form body: parameter ", position,
                                                       " has bad percent-encoding in its ", what));
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (!simdjson::validate_utf8(out.data(), out.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("form body: parameter ", position, " is not UTF-8 in its ", what));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<FormParameter>> ParseFormBody(absl::string_view body) {
  std::vector<FormParameter> parameters;
  if (body.empty()) return parameters;
  size_t position = 0;
  for (absl::string_view raw : absl::StrSplit(body, '&')) {
    ++position;
    if (position > kMaxFormParameters) {
      return absl::InvalidArgumentError(
          absl::StrCat("form body: more than ", kMaxFormParameters, " parameters"));
    }
    const size_t equals = raw.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("form body: parameter ", position,
                                                     raw.empty() ? " is empty" : " has no '='"));
    }
    if (equals == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("form body: parameter ", position, " has an empty name"));
    }
    absl::StatusOr<std::string> name = Decode(raw.substr(0, equals), "name", position);
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> value = Decode(raw.substr(equals + 1), "value", position);
    if (!value.ok()) return value.status();
    parameters.push_back({*std::move(name), *std::move(value)});
  }
  return parameters;
}

absl::StatusOr<std::optional<std::string>> FormField(absl::string_view body,
                                                     absl::string_view name) {
  absl::StatusOr<std::vector<FormParameter>> parameters = ParseFormBody(body);
  if (!parameters.ok()) return parameters.status();
  std::optional<std::string> found;
  bool bracketed = false;
  size_t occurrences = 0;
  for (FormParameter& parameter : *parameters) {
    const absl::string_view this_name = parameter.name;
    if (this_name == name) {
      ++occurrences;
      found = std::move(parameter.value);
    } else if (this_name.size() > name.size() && this_name.substr(0, name.size()) == name &&
               this_name[name.size()] == '[') {
      bracketed = true;
    }
  }
  if (occurrences > 1) {
    return absl::InvalidArgumentError(absl::StrCat("form body: field ", name, " is repeated"));
  }
  if (bracketed) {
    return absl::InvalidArgumentError(
        absl::StrCat("form body: field ", name, " also occurs as ", name, "[...]"));
  }
  return found;
}

absl::StatusOr<std::vector<FormParameter>> SortedFormParameters(absl::string_view body) {
  absl::StatusOr<std::vector<FormParameter>> parameters = ParseFormBody(body);
  if (!parameters.ok()) return parameters.status();
  std::sort(parameters->begin(), parameters->end());
  return parameters;
}

}  // namespace hookguard

#include "server/ownership/subject_query.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hookguard {
namespace {

bool IdentifierStart(char c) {
  return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool IdentifierChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
}

}  // namespace

std::vector<std::string> NamedParameters(absl::string_view query) {
  std::vector<std::string> names;
  for (size_t i = 0; i < query.size();) {
    const char c = query[i];
    if (c == '\'' || c == '"') {
      // To the closing quote (a doubled quote stays inside).
      size_t end = i + 1;
      while (end < query.size()) {
        if (query[end] == c && end + 1 < query.size() && query[end + 1] == c) {
          end += 2;
        } else if (query[end] == c) {
          break;
        } else {
          ++end;
        }
      }
      i = end + 1;
    } else if (c == '-' && i + 1 < query.size() && query[i + 1] == '-') {
      i = std::min(query.find('\n', i), query.size());
    } else if (c == '/' && i + 1 < query.size() && query[i + 1] == '*') {
      const size_t end = query.find("*/", i + 2);
      i = end == absl::string_view::npos ? query.size() : end + 2;
    } else if (c == ':' && i + 1 < query.size() && query[i + 1] == ':') {
      i += 2;  // a cast
    } else if (c == ':' && i + 1 < query.size() && IdentifierStart(query[i + 1])) {
      size_t end = i + 1;
      while (end < query.size() && IdentifierChar(query[end])) ++end;
      names.emplace_back(query.substr(i + 1, end - i - 1));
      i = end;
    } else {
      ++i;
    }
  }
  return names;
}

absl::Status CheckSubjectQuery(absl::string_view query) {
  if (absl::StripAsciiWhitespace(query).empty()) {
    return absl::InvalidArgumentError("query: required (it binds :id and returns the owner id)");
  }
  const std::vector<std::string> names = NamedParameters(query);
  if (std::find(names.begin(), names.end(), kSubjectParameter) == names.end()) {
    return absl::InvalidArgumentError(
        "query: must bind :id (a bound parameter, never text built from the request)");
  }
  std::vector<std::string> others;
  for (const std::string& name : names) {
    if (name != kSubjectParameter) others.push_back(absl::StrCat(":", name));
  }
  if (!others.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "query: binds only :id, the subject's id; it also names ", absl::StrJoin(others, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace hookguard

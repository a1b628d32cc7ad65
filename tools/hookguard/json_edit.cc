#include "tools/hookguard/json_edit.h"

#include <cstdio>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/audit/json_string.h"

namespace hookguard::cli {
namespace {

// A scanner over JSON text that finds where values start and end. It
// checks the structure it walks (brackets, strings, separators), not the
// content of numbers and literals: the server's parser judges the result.
class Scanner {
 public:
  explicit Scanner(absl::string_view text) : text_(text) {}

  size_t SkipSpace(size_t i) const {
    while (i < text_.size() && absl::ascii_isspace(static_cast<unsigned char>(text_[i]))) ++i;
    return i;
  }

  // The end of the string that starts at `i` (just past its closing quote).
  std::optional<size_t> StringEnd(size_t i) const {
    if (i >= text_.size() || text_[i] != '"') return std::nullopt;
    for (++i; i < text_.size(); ++i) {
      if (text_[i] == '\\') {
        ++i;
      } else if (text_[i] == '"') {
        return i + 1;
      }
    }
    return std::nullopt;
  }

  // The end of the value that starts at `i` (no leading space).
  std::optional<size_t> ValueEnd(size_t i, int depth = 0) const {
    if (i >= text_.size() || depth > 256) return std::nullopt;
    const char c = text_[i];
    if (c == '"') return StringEnd(i);
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      i = SkipSpace(i + 1);
      if (i < text_.size() && text_[i] == close) return i + 1;
      while (true) {
        if (c == '{') {
          std::optional<size_t> key_end = StringEnd(i);
          if (!key_end) return std::nullopt;
          i = SkipSpace(*key_end);
          if (i >= text_.size() || text_[i] != ':') return std::nullopt;
          i = SkipSpace(i + 1);
        }
        std::optional<size_t> end = ValueEnd(i, depth + 1);
        if (!end) return std::nullopt;
        i = SkipSpace(*end);
        if (i >= text_.size()) return std::nullopt;
        if (text_[i] == close) return i + 1;
        if (text_[i] != ',') return std::nullopt;
        i = SkipSpace(i + 1);
      }
    }
    // A number or a literal: up to the next separator.
    const size_t start = i;
    while (i < text_.size() && text_[i] != ',' && text_[i] != '}' && text_[i] != ']' &&
           !absl::ascii_isspace(static_cast<unsigned char>(text_[i]))) {
      ++i;
    }
    return i > start ? std::optional<size_t>(i) : std::nullopt;
  }

  struct Member {
    size_t value_begin = 0;
    size_t value_end = 0;
  };
  struct Lookup {
    std::optional<Member> member;  // nullopt: the object has no such key
    size_t close = 0;              // the object's '}'
    bool empty = true;             // the object has no member at all
  };

  // The member `key` of the object at `i` (which must be '{').
  std::optional<Lookup> Find(size_t i, absl::string_view key) const {
    if (i >= text_.size() || text_[i] != '{') return std::nullopt;
    Lookup out;
    i = SkipSpace(i + 1);
    if (i < text_.size() && text_[i] == '}') {
      out.close = i;
      return out;
    }
    out.empty = false;
    while (true) {
      std::optional<size_t> key_end = StringEnd(i);
      if (!key_end) return std::nullopt;
      const absl::string_view name = text_.substr(i + 1, *key_end - i - 2);
      i = SkipSpace(*key_end);
      if (i >= text_.size() || text_[i] != ':') return std::nullopt;
      i = SkipSpace(i + 1);
      std::optional<size_t> end = ValueEnd(i);
      if (!end) return std::nullopt;
      if (name == key && !out.member) out.member = Member{i, *end};
      i = SkipSpace(*end);
      if (i >= text_.size()) return std::nullopt;
      if (text_[i] == '}') {
        out.close = i;
        return out;
      }
      if (text_[i] != ',') return std::nullopt;
      i = SkipSpace(i + 1);
    }
  }

 private:
  absl::string_view text_;
};

bool IsOneValue(absl::string_view text) {
  const Scanner s(text);
  const size_t begin = s.SkipSpace(0);
  std::optional<size_t> end = s.ValueEnd(begin);
  return end.has_value() && s.SkipSpace(*end) == text.size();
}

// Where the object at `path` starts; nullopt when a key is missing or a
// value along the path is not an object.
std::optional<size_t> ObjectAt(const Scanner& s, absl::string_view doc,
                               const std::vector<absl::string_view>& keys) {
  size_t at = s.SkipSpace(0);
  for (absl::string_view key : keys) {
    std::optional<Scanner::Lookup> found = s.Find(at, key);
    if (!found || !found->member) return std::nullopt;
    at = found->member->value_begin;
  }
  if (at >= doc.size() || doc[at] != '{') return std::nullopt;
  return at;
}

}  // namespace

bool IsJsonObjectAt(absl::string_view doc, absl::string_view path) {
  if (!IsOneValue(doc)) return false;
  const Scanner s(doc);
  std::vector<absl::string_view> keys;
  if (!path.empty()) keys = absl::StrSplit(path, '.');
  return ObjectAt(s, doc, keys).has_value();
}

bool HasJsonKeyAt(absl::string_view doc, absl::string_view path) {
  if (!IsOneValue(doc) || path.empty()) return false;
  std::vector<absl::string_view> keys = absl::StrSplit(path, '.');
  const absl::string_view last = keys.back();
  keys.pop_back();
  const Scanner s(doc);
  std::optional<size_t> object = ObjectAt(s, doc, keys);
  if (!object) return false;
  std::optional<Scanner::Lookup> found = s.Find(*object, last);
  return found && found->member;
}

absl::StatusOr<std::string> SetJsonValue(absl::string_view doc, absl::string_view path,
                                         absl::string_view json_value) {
  if (!IsOneValue(doc)) return absl::InvalidArgumentError("the body is not one JSON value");
  if (!IsOneValue(json_value)) {
    return absl::InvalidArgumentError(absl::StrCat("the value for ", path, " is not JSON"));
  }
  std::vector<absl::string_view> keys = absl::StrSplit(path, '.');
  for (absl::string_view key : keys) {
    if (key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", path, "\" is not a path of keys (\"message.call.id\")"));
    }
  }
  const absl::string_view last = keys.back();
  keys.pop_back();
  const Scanner s(doc);
  std::optional<size_t> object = ObjectAt(s, doc, keys);
  if (!object) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the body has no object at ", keys.empty() ? "its root" : absl::StrJoin(keys, "."),
        " to set ", last, " in"));
  }
  std::optional<Scanner::Lookup> found = s.Find(*object, last);
  if (!found) return absl::InvalidArgumentError("the body is not valid JSON");
  if (found->member) {
    return absl::StrCat(doc.substr(0, found->member->value_begin), json_value,
                        doc.substr(found->member->value_end));
  }
  return absl::StrCat(doc.substr(0, found->close), found->empty ? "" : ",", JsonString(last), ":",
                      json_value, doc.substr(found->close));
}

}  // namespace hookguard::cli

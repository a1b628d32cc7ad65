#include "server/ownership/resolve_policy.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hookguard {
namespace {

constexpr v1::OwnerSource kSources[] = {v1::OWNER_SOURCE_CALL, v1::OWNER_SOURCE_PHONE_NUMBER,
                                        v1::OWNER_SOURCE_ASSISTANT};

bool Matches(absl::string_view pattern, absl::string_view type) {
  if (absl::EndsWith(pattern, "*")) {
    return absl::StartsWith(type, pattern.substr(0, pattern.size() - 1));
  }
  return pattern == type;
}

}  // namespace

const char* OwnerSourceConfigName(v1::OwnerSource source) {
  switch (source) {
    case v1::OWNER_SOURCE_CALL:
      return "call";
    case v1::OWNER_SOURCE_PHONE_NUMBER:
      return "phone_number";
    case v1::OWNER_SOURCE_ASSISTANT:
      return "assistant";
    default:
      return "unspecified";
  }
}

const char* OwnerSourceQueryKey(v1::OwnerSource source) {
  switch (source) {
    case v1::OWNER_SOURCE_PHONE_NUMBER:
      return "ownership.phone_number_query";
    case v1::OWNER_SOURCE_ASSISTANT:
      return "ownership.assistant_query";
    default:
      return "ownership.call_query";
  }
}

std::string LookupOffDetail(v1::OwnerSource source) {
  return absl::StrCat(OwnerSourceConfigName(source),
                      " lookup is off: ", OwnerSourceQueryKey(source), " is not set");
}

ResolvePolicy::ResolvePolicy()
    : rules_({{{"assistant-request"}, {v1::OWNER_SOURCE_CALL, v1::OWNER_SOURCE_PHONE_NUMBER}},
              {{"*"}, {v1::OWNER_SOURCE_CALL}}}) {}

absl::StatusOr<ResolvePolicy> ResolvePolicy::Compile(
    const google::protobuf::RepeatedPtrField<config::v1::ResolveRule>& rules,
    std::vector<v1::OwnerSource> off) {
  if (rules.empty()) return ResolvePolicy(ResolvePolicy().rules_, std::move(off));
  std::vector<ResolveRule> compiled;
  for (int i = 0; i < rules.size(); ++i) {
    const config::v1::ResolveRule& rule = rules[i];
    const std::string where = absl::StrCat("ownership.resolve[", i, "]");
    if (rule.types().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".types: give at least one type"));
    }
    if (rule.by().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".by: give at least one of \"call\", \"phone_number\", \"assistant\""));
    }
    ResolveRule out;
    for (int t = 0; t < rule.types().size(); ++t) {
      const std::string& type = rule.types(t);
      const size_t star = type.find('*');
      if (type.empty() || (star != std::string::npos && star + 1 != type.size())) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ".types[", t, "]: a message type, or a prefix ending in \"*\" (\"chat.*\")"));
      }
      out.types.push_back(type);
    }
    for (int b = 0; b < rule.by().size(); ++b) {
      const std::string& name = rule.by(b);
      const v1::OwnerSource* source =
          std::find_if(std::begin(kSources), std::end(kSources),
                       [&](v1::OwnerSource s) { return name == OwnerSourceConfigName(s); });
      const std::string at = absl::StrCat(where, ".by[", b, "]");
      if (source == std::end(kSources)) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ": unknown source; use \"call\", \"phone_number\" or \"assistant\""));
      }
      if (std::find(out.by.begin(), out.by.end(), *source) != out.by.end()) {
        return absl::InvalidArgumentError(absl::StrCat(at, ": \"", name, "\" is listed twice"));
      }
      if (*source == v1::OWNER_SOURCE_CALL && b != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            at, ": \"call\" must come first (a known call is always decided by its row)"));
      }
      out.by.push_back(*source);
    }
    compiled.push_back(std::move(out));
  }
  return ResolvePolicy(std::move(compiled), std::move(off));
}

bool ResolvePolicy::IsOff(v1::OwnerSource source) const {
  return std::find(off_.begin(), off_.end(), source) != off_.end();
}

std::vector<std::string> ResolvePolicy::Describe() const {
  std::vector<std::string> lines;
  for (const ResolveRule& rule : rules_) {
    std::vector<std::string> by;
    std::vector<std::string> off;
    for (v1::OwnerSource source : rule.by) {
      by.push_back(OwnerSourceConfigName(source));
      if (IsOff(source)) {
        off.push_back(absl::StrCat(OwnerSourceConfigName(source), " is off, ",
                                   OwnerSourceQueryKey(source), " is not set"));
      }
    }
    std::string line =
        absl::StrCat(absl::StrJoin(rule.types, ", "), " by ", absl::StrJoin(by, ", "));
    if (!off.empty()) {
      absl::StrAppend(&line, " (", absl::StrJoin(off, "; "),
                      ": an event without a call row that reaches it is denied CALL_NOT_FOUND)");
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

const ResolveRule* ResolvePolicy::RuleFor(absl::string_view type) const {
  for (const ResolveRule& rule : rules_) {
    for (const std::string& pattern : rule.types) {
      if (Matches(pattern, type)) return &rule;
    }
  }
  return nullptr;
}

}  // namespace hookguard

#include "server/config/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "server/ownership/resolve_policy.h"
#include "server/signature/make_verifier.h"

namespace hookguard {
namespace {

using config::v1::Config;
using config::v1::Profile;

constexpr size_t kMaxConfigFileBytes = size_t{1024} * 1024;

std::string ProfileLabel(const Profile& p) { return absl::StrCat("profile \"", p.name(), "\""); }

// Protobuf's "(profiles[0]) secretz: Cannot find field." becomes
// "unknown key \"secretz\" in profiles[0]"; other messages are kept.
std::string DescribeJsonError(absl::string_view message) {
  absl::string_view m = message;
  if (!absl::ConsumeSuffix(&m, ": Cannot find field.")) return std::string(message);
  absl::string_view path;
  if (absl::ConsumePrefix(&m, "(")) {
    const size_t close = m.find(") ");
    if (close == absl::string_view::npos) return std::string(message);
    path = m.substr(0, close);
    m.remove_prefix(close + 2);
  }
  return absl::StrCat("unknown key \"", m, "\"", path.empty() ? "" : " in ", path);
}

std::string NoSecretMessage(absl::string_view why) {
  return absl::StrCat("no webhook secret configured: set ", kDefaultSecretEnv,
                      " or pass --config with a profile and its secrets (", why, ")");
}

}  // namespace

Config DefaultConfig() {
  Config config;
  Profile* profile = config.add_profiles();
  profile->set_name(kDefaultProfileName);
  profile->set_kind("hmac");
  auto* secret = profile->add_secrets();
  secret->set_key_id("env");
  secret->set_env(kDefaultSecretEnv);
  config.set_default_profile(kDefaultProfileName);
  return config;
}

absl::StatusOr<Config> ParseConfigJson(absl::string_view json, absl::string_view origin) {
  Config config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(std::string(json), &config, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": ", DescribeJsonError(parsed.message().as_string())));
  }
  if (config.profiles().empty()) {
    *config.mutable_profiles() = DefaultConfig().profiles();
  }
  if (config.default_profile().empty() && config.profiles_size() == 1) {
    config.set_default_profile(config.profiles(0).name());
  }
  if (absl::Status s = ValidateConfig(config); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(origin, ": ", s.message()));
  }
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string message =
        absl::StrCat("cannot read config file ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::FailedPreconditionError(message);
  }
  std::string text(kMaxConfigFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read config file ", path));
  }
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxConfigFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, " is larger than ", kMaxConfigFileBytes, " bytes"));
  }
  return ParseConfigJson(text, path);
}

absl::Status ValidateConfig(const Config& config) {
  if (config.profiles().empty()) {
    return absl::InvalidArgumentError(NoSecretMessage("the configuration has no profiles"));
  }
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < config.profiles_size(); ++i) {
    const Profile& p = config.profiles(i);
    if (p.name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("profiles[", i, "].name: required"));
    }
    if (!names.insert(p.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("profiles[", i, "].name: duplicate \"", p.name(), "\""));
    }
    if (p.secrets().empty()) {
      return absl::InvalidArgumentError(
          NoSecretMessage(absl::StrCat(ProfileLabel(p), " has no secrets")));
    }
    for (const auto& s : p.secrets()) {
      if (s.env().empty() == s.file().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(ProfileLabel(p), ": secret \"", s.key_id(),
                                                       "\": set exactly one of env and file"));
      }
    }
    if (absl::Status s = ValidateProfile(p); !s.ok()) return s;
    if (!p.mode().empty() && p.mode() != kModeEnforce && p.mode() != kModeShadow) {
      return absl::InvalidArgumentError(absl::StrCat(ProfileLabel(p), ": mode: \"", p.mode(),
                                                     "\" is neither \"", kModeEnforce, "\" nor \"",
                                                     kModeShadow, "\""));
    }
  }
  if (absl::StatusOr<ResolvePolicy> policy = ResolvePolicy::Compile(config.ownership().resolve());
      !policy.ok()) {
    return policy.status();
  }
  if (absl::Status s = ValidateOwnershipQueries(config.ownership()); !s.ok()) return s;
  if (config.default_profile().empty()) {
    if (config.profiles_size() > 1) {
      return absl::InvalidArgumentError("default_profile: required with more than one profile");
    }
  } else if (!names.contains(config.default_profile())) {
    return absl::InvalidArgumentError(
        absl::StrCat("default_profile: \"", config.default_profile(), "\" is not a profile"));
  }
  return absl::OkStatus();
}

absl::Status ValidateOwnershipQueries(const config::v1::Ownership& ownership) {
  const struct {
    const char* field;
    const std::string& query;
    const char* parameter;
  } queries[] = {
      {"call_query", ownership.call_query(), ":call_id"},
      {"phone_number_query", ownership.phone_number_query(), ":phone_number_id"},
      {"assistant_query", ownership.assistant_query(), ":assistant_id"},
  };
  for (const auto& q : queries) {
    if (!q.query.empty() && !absl::StrContains(q.query, q.parameter)) {
      return absl::InvalidArgumentError(absl::StrCat("ownership.", q.field, ": must bind ",
                                                     q.parameter,
                                                     " (a bound parameter, never "
                                                     "text built from the request)"));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> SecretFiles(const Config& config) {
  std::vector<std::string> files;
  for (const Profile& p : config.profiles()) {
    for (const auto& s : p.secrets()) {
      if (!s.file().empty()) files.push_back(s.file());
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

}  // namespace hookguard

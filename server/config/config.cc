#include "server/config/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"

namespace hookguard {
namespace {

using config::v1::Config;
using config::v1::Profile;

constexpr size_t kMaxConfigFileBytes = size_t{1024} * 1024;

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
  return config;
}

absl::Status InFile(absl::string_view origin, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(origin, ": ", status.message()));
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
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
  return text;
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

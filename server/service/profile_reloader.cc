#include "server/service/profile_reloader.h"

#include <openssl/evp.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "server/config/config.h"

namespace hookguard {
namespace {

// Missing or unreadable files fingerprint as their error, so that a file
// that disappears and comes back is seen as a change.
std::string ReadForFingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::StrCat("<unreadable:", path, ">");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string Sha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), len);
}

}  // namespace

absl::StatusOr<std::string> ProfileReloader::Fingerprint() const {
  if (config_path_.empty()) return std::string();
  std::string all = ReadForFingerprint(config_path_);
  absl::StatusOr<config::v1::Config> config = LoadConfigFile(config_path_);
  if (config.ok()) {
    for (const std::string& file : SecretFiles(*config)) {
      absl::StrAppend(&all, "\0", file, "\0", ReadForFingerprint(file));
    }
  }
  return Sha256(all);
}

absl::StatusOr<std::shared_ptr<const ProfileSet>> ProfileReloader::Load() {
  return Load(ProfileBuildOptions{});
}

absl::StatusOr<std::shared_ptr<const ProfileSet>> ProfileReloader::Load(
    ProfileBuildOptions options) {
  absl::StatusOr<std::string> fingerprint = Fingerprint();
  if (!fingerprint.ok()) return fingerprint.status();
  absl::StatusOr<config::v1::Config> config =
      config_path_.empty() ? DefaultConfig() : LoadConfigFile(config_path_);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::shared_ptr<const ProfileSet>> profiles =
      ProfileSet::Build(*config, secrets_, options);
  if (!profiles.ok()) return profiles.status();
  loaded_ = *std::move(fingerprint);
  last_failure_.clear();
  return profiles;
}

absl::StatusOr<std::shared_ptr<const ProfileSet>> ProfileReloader::ReloadIfChanged() {
  if (config_path_.empty()) return nullptr;
  absl::StatusOr<std::string> fingerprint = Fingerprint();
  if (!fingerprint.ok()) return fingerprint.status();
  if (*fingerprint == loaded_ || *fingerprint == last_failure_) return nullptr;
  absl::StatusOr<std::shared_ptr<const ProfileSet>> profiles =
      Load(ProfileBuildOptions{/*drop_unreadable_secret_files=*/true});
  if (!profiles.ok()) last_failure_ = *std::move(fingerprint);
  return profiles;
}

}  // namespace hookguard

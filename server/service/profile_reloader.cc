#include "server/service/profile_reloader.h"

#include <openssl/evp.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/config/config.h"
#include "server/config/server_spec.h"

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

ProfileReloader::Snapshot ProfileReloader::Take() const {
  if (config_path_.empty()) return Snapshot{DefaultConfig(), std::string()};
  absl::StatusOr<std::string> text = ReadConfigFile(config_path_);
  if (!text.ok()) return Snapshot{text.status(), Sha256(text.status().ToString())};
  Snapshot snapshot{ParseConfigJson(*text, config_path_), std::string()};
  std::string all = *std::move(text);
  if (snapshot.config.ok()) {
    for (const std::string& file : SecretFiles(*snapshot.config)) {
      absl::StrAppend(&all, std::string(1, '\0'), file, std::string(1, '\0'),
                      ReadForFingerprint(file));
    }
  }
  snapshot.fingerprint = Sha256(all);
  return snapshot;
}

absl::StatusOr<std::shared_ptr<const ProfileSet>> ProfileReloader::Build(
    const Snapshot& snapshot, CompileOptions options) const {
  if (!snapshot.config.ok()) return snapshot.config.status();
  absl::StatusOr<ServerSpec> spec = Compile(*snapshot.config, secrets_, options);
  if (!spec.ok()) {
    return config_path_.empty() ? spec.status() : InFile(config_path_, spec.status());
  }
  return ProfileSet::Build(*std::move(spec));
}

absl::StatusOr<std::shared_ptr<const ProfileSet>> ProfileReloader::Load() {
  const Snapshot snapshot = Take();
  absl::StatusOr<std::shared_ptr<const ProfileSet>> profiles = Build(snapshot, CompileOptions{});
  if (!profiles.ok()) return profiles.status();
  loaded_ = snapshot.fingerprint;
  last_failure_.clear();
  in_force_ = *profiles;
  return profiles;
}

absl::StatusOr<std::shared_ptr<const ProfileSet>> ProfileReloader::ReloadIfChanged() {
  if (config_path_.empty()) return nullptr;
  const Snapshot snapshot = Take();
  if (snapshot.fingerprint == loaded_ || snapshot.fingerprint == last_failure_) return nullptr;
  absl::StatusOr<std::shared_ptr<const ProfileSet>> profiles =
      Build(snapshot, CompileOptions{/*drop_unreadable_secret_files=*/true});
  if (profiles.ok() && in_force_ != nullptr) {
    const std::vector<std::string> keys =
        KeysNeedingRestart(in_force_->spec(), (*profiles)->spec());
    if (!keys.empty()) {
      profiles = absl::FailedPreconditionError(absl::StrCat(
          config_path_, ": ", absl::StrJoin(keys, ", "), " changed: hookguard-server applies ",
          keys.size() == 1 ? "it" : "them",
          " only at start, so the new configuration is not applied: restart the server to "
          "apply it"));
    }
  }
  if (!profiles.ok()) {
    last_failure_ = snapshot.fingerprint;
    return profiles;
  }
  loaded_ = snapshot.fingerprint;
  last_failure_.clear();
  in_force_ = *profiles;
  return profiles;
}

}  // namespace hookguard

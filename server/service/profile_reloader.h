// Rotation without restart: compiles the configuration again (Compile) and
// rebuilds the profiles when the configuration file or a secret file changes
// (a mounted Kubernetes Secret is rewritten in place by the kubelet).
#ifndef HOOKGUARD_SERVER_SERVICE_PROFILE_RELOADER_H_
#define HOOKGUARD_SERVER_SERVICE_PROFILE_RELOADER_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "hookguard/config/v1/config.pb.h"
#include "server/config/profile_set.h"
#include "server/config/secret_source.h"

namespace hookguard {

// Not thread-safe: one thread (the reload loop) calls it.
class ProfileReloader {
 public:
  // `config_path` empty: DefaultConfig() (only environment secrets, which
  // cannot change while the process runs). `secrets` is not owned.
  ProfileReloader(std::string config_path, const SecretSource& secrets)
      : config_path_(std::move(config_path)), secrets_(secrets) {}

  // Reads and compiles the configuration with every secret, and builds the
  // profiles; the result's spec() is the whole compiled configuration. An
  // error here must stop the server at start; its message names the file,
  // key or variable at fault.
  absl::StatusOr<std::shared_ptr<const ProfileSet>> Load();

  // Re-reads the configuration and the secret files. Returns nullptr when
  // nothing changed since the last successful load, a new set when something
  // did and it is valid and can be applied live (the caller puts it in
  // force whole, with one swap: its profiles and its spec().resolve are one
  // snapshot, ProfileHolder::Set), and an error when the new files
  // are bad or change a key that applies only at start (FailedPrecondition
  // naming the key, e.g. ownership.call_query: KeysNeedingRestart). On an
  // error the caller keeps the old set; the same files are reported only
  // once. A secret
  // file that was deleted, emptied or made unreadable is not an error here:
  // that secret is left out of the new set (it stops verifying, see
  // CompileOptions) and listed in its missing_secrets().
  absl::StatusOr<std::shared_ptr<const ProfileSet>> ReloadIfChanged();

 private:
  // The configuration file read once: its parse, and a digest of its text
  // and of every secret file's bytes.
  struct Snapshot {
    absl::StatusOr<config::v1::Config> config;
    std::string fingerprint;
  };
  Snapshot Take() const;
  absl::StatusOr<std::shared_ptr<const ProfileSet>> Build(const Snapshot& snapshot,
                                                          CompileOptions options) const;

  const std::string config_path_;
  const SecretSource& secrets_;
  std::shared_ptr<const ProfileSet> in_force_;  // the last set returned
  std::string loaded_;                          // fingerprint of the set in force
  std::string last_failure_;                    // fingerprint of the last bad files
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SERVICE_PROFILE_RELOADER_H_

// The verifiers of a compiled configuration.
#ifndef HOOKGUARD_SERVER_CONFIG_PROFILE_SET_H_
#define HOOKGUARD_SERVER_CONFIG_PROFILE_SET_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/server_spec.h"
#include "server/signature/verifier.h"

namespace hookguard {

// A ServerSpec with every profile's Verifier built. Immutable after Build
// and safe to share between threads. The server holds a
// std::shared_ptr<const ProfileSet> and swaps in a new one when the
// configuration or a secret file changes (rotation without restart):
// requests in flight keep the old set alive through their own shared_ptr.
// Find()'s pointer lives as long as the ProfileSet.
class ProfileSet {
 public:
  // Builds every profile's Verifier (MakeVerifier) from a spec compiled with
  // its secrets (spec.secrets_read; FailedPrecondition otherwise). The keys
  // move into the verifiers: spec().profiles[i].keys are empty afterwards.
  // A profile left without any key (CompileOptions) gets a verifier that
  // refuses every signature (MISMATCH). Fails only when OpenSSL does.
  static absl::StatusOr<std::shared_ptr<const ProfileSet>> Build(ServerSpec spec);

  // The verifier of profile `name`; the default profile for an empty name;
  // nullptr if there is no such profile (the service answers
  // INVALID_ARGUMENT). Thread-safe.
  const Verifier* Find(absl::string_view name) const;

  // Whether profile `name` (the default profile for an empty name) is in
  // shadow mode ("mode": "shadow"): its answers are ALLOW with the decision
  // enforcement would have given beside them. False for an unknown profile.
  bool IsShadow(absl::string_view name) const;

  // The compiled configuration (without the keys).
  const ServerSpec& spec() const { return spec_; }

  const std::string& default_profile() const { return spec_.default_profile; }

  // The profile names, in configuration order.
  const std::vector<std::string>& names() const { return names_; }

  // The profiles in shadow mode, in configuration order.
  const std::vector<std::string>& shadow_profiles() const { return shadow_; }

  // What the profiles leave unprotected, for the log.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // The secret files left out by CompileOptions::drop_unreadable_secret_files.
  const std::vector<MissingSecret>& missing_secrets() const { return spec_.missing_secrets; }

  // The profiles left without any secret that way: they verify nothing.
  const std::vector<std::string>& profiles_without_secret() const {
    return profiles_without_secret_;
  }

 private:
  explicit ProfileSet(ServerSpec spec) : spec_(std::move(spec)) {}

  ServerSpec spec_;
  std::vector<std::string> names_;
  std::vector<std::string> shadow_;
  std::vector<std::string> warnings_;
  std::vector<std::string> profiles_without_secret_;
  std::map<std::string, std::unique_ptr<const Verifier>, std::less<>> verifiers_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_CONFIG_PROFILE_SET_H_

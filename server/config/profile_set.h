// The verification profiles of a configuration, with their secrets read.
#ifndef HOOKGUARD_SERVER_CONFIG_PROFILE_SET_H_
#define HOOKGUARD_SERVER_CONFIG_PROFILE_SET_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hookguard/config/v1/config.pb.h"
#include "server/config/secret_source.h"
#include "server/signature/verifier.h"

namespace hookguard {

// Immutable after Build and safe to share between threads. The server holds
// a std::shared_ptr<const ProfileSet> and swaps in a new one when a secret
// file changes (rotation without restart): requests in flight keep the old
// set alive through their own shared_ptr. Find()'s pointer lives as long as
// the ProfileSet.
class ProfileSet {
 public:
  // Validates `config` (ValidateConfig), reads every secret from `secrets`
  // and builds every profile's Verifier (MakeVerifier). Fails if anything
  // fails: the server never runs with a profile missing or open. When the
  // only secret of DefaultConfig() is missing, the message says "no webhook
  // secret configured: set VAPI_WEBHOOK_SECRET ...".
  static absl::StatusOr<std::shared_ptr<const ProfileSet>> Build(const config::v1::Config& config,
                                                                 const SecretSource& secrets);

  // The verifier of profile `name`; the default profile for an empty name;
  // nullptr if there is no such profile (the service answers
  // INVALID_ARGUMENT). Thread-safe.
  const Verifier* Find(absl::string_view name) const;

  // Whether profile `name` (the default profile for an empty name) is in
  // shadow mode ("mode": "shadow"): its answers are ALLOW with the decision
  // enforcement would have given beside them. False for an unknown profile.
  bool IsShadow(absl::string_view name) const;

  // The profiles in shadow mode, in configuration order.
  const std::vector<std::string>& shadow_profiles() const { return shadow_; }

  const std::string& default_profile() const { return default_profile_; }

  // The profile names, in configuration order.
  const std::vector<std::string>& names() const { return names_; }

 private:
  ProfileSet() = default;

  std::string default_profile_;
  std::vector<std::string> names_;
  std::vector<std::string> shadow_;
  std::map<std::string, std::unique_ptr<const Verifier>, std::less<>> verifiers_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_CONFIG_PROFILE_SET_H_

#include "server/config/profile_set.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/config/config.h"
#include "server/signature/make_verifier.h"

namespace hookguard {
namespace {

// The verifier of a profile whose every secret was removed: it fails closed,
// every request is MISMATCH (a removed secret must not verify, and there is
// nothing else to verify with).
class NoSecretVerifier final : public Verifier {
 public:
  VerifyOutcome Verify(const v1::HttpRequest& /*request*/, absl::Time /*now*/) const override {
    VerifyOutcome out;
    return FailOutcome(out, v1::SIGNATURE_RESULT_MISMATCH,
                       "the profile has no secret: every secret file it names was removed or "
                       "cannot be read");
  }
};

}  // namespace

absl::StatusOr<std::shared_ptr<const ProfileSet>> ProfileSet::Build(
    const config::v1::Config& config, const SecretSource& secrets, ProfileBuildOptions options) {
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  std::shared_ptr<ProfileSet> set(new ProfileSet());
  for (const config::v1::Profile& profile : config.profiles()) {
    std::vector<SecretKey> keys;
    keys.reserve(profile.secrets_size());
    for (const config::v1::Secret& secret : profile.secrets()) {
      absl::StatusOr<std::string> value = secrets.Read(secret);
      if (!value.ok() && options.drop_unreadable_secret_files && !secret.file().empty()) {
        set->missing_secrets_.push_back(MissingSecret{
            profile.name(), secret.key_id(), secret.file(), std::string(value.status().message())});
        continue;
      }
      if (!value.ok()) {
        const std::string where = absl::StrCat("profile \"", profile.name(), "\": secret \"",
                                               secret.key_id(), "\": ", value.status().message());
        if (secret.env() == kDefaultSecretEnv) {
          return absl::Status(
              value.status().code(),
              absl::StrCat("no webhook secret configured: set ", kDefaultSecretEnv,
                           " or pass --config with a profile and its secrets (", where, ")"));
        }
        return absl::Status(value.status().code(), where);
      }
      keys.push_back(SecretKey{secret.key_id(), *std::move(value)});
    }
    absl::StatusOr<std::unique_ptr<const Verifier>> verifier;
    if (keys.empty()) {
      verifier = std::make_unique<const NoSecretVerifier>();
      set->profiles_without_secret_.push_back(profile.name());
    } else {
      verifier = MakeVerifier(profile, std::move(keys));
    }
    if (!verifier.ok()) return verifier.status();
    set->names_.push_back(profile.name());
    if (profile.mode() == kModeShadow) set->shadow_.push_back(profile.name());
    set->verifiers_.emplace(profile.name(), *std::move(verifier));
    for (std::string& warning : ProfileWarnings(profile)) {
      set->warnings_.push_back(std::move(warning));
    }
  }
  set->default_profile_ =
      config.default_profile().empty() ? config.profiles(0).name() : config.default_profile();
  return std::shared_ptr<const ProfileSet>(std::move(set));
}

bool ProfileSet::IsShadow(absl::string_view name) const {
  if (name.empty()) name = default_profile_;
  return std::find(shadow_.begin(), shadow_.end(), name) != shadow_.end();
}

const Verifier* ProfileSet::Find(absl::string_view name) const {
  if (name.empty()) name = default_profile_;
  const auto it = verifiers_.find(name);
  return it == verifiers_.end() ? nullptr : it->second.get();
}

}  // namespace hookguard

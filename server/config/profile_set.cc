#include "server/config/profile_set.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hookguard {
namespace {

// The verifier of a profile whose every secret was removed: it fails closed,
// every request is MISMATCH (a removed secret must not verify, and there is
// nothing else to verify with).
class NoSecretVerifier final : public Verifier {
 public:
  absl::StatusOr<VerifyOutcome> Verify(const v1::HttpRequest& /*request*/,
                                       absl::Time /*now*/) const override {
    VerifyOutcome out;
    return FailOutcome(out, v1::SIGNATURE_RESULT_MISMATCH,
                       "the profile has no secret: every secret file it names was removed or "
                       "cannot be read");
  }
};

}  // namespace

absl::StatusOr<std::shared_ptr<const ProfileSet>> ProfileSet::Build(ServerSpec spec) {
  if (!spec.secrets_read) {
    return absl::FailedPreconditionError("the configuration was compiled without its secrets");
  }
  std::shared_ptr<ProfileSet> set(new ProfileSet(std::move(spec)));
  for (ProfileSpec& profile : set->spec_.profiles) {
    absl::StatusOr<std::unique_ptr<const Verifier>> verifier;
    if (profile.keys.empty()) {
      verifier = std::make_unique<const NoSecretVerifier>();
      set->profiles_without_secret_.push_back(profile.name);
    } else {
      verifier = MakeVerifier(profile.scheme, std::move(profile.keys));
      profile.keys.clear();
    }
    if (!verifier.ok()) {
      return absl::Status(
          verifier.status().code(),
          absl::StrCat("profile \"", profile.name, "\": ", verifier.status().message()));
    }
    set->names_.push_back(profile.name);
    if (profile.mode == ProfileMode::kShadow) set->shadow_.push_back(profile.name);
    set->warnings_.insert(set->warnings_.end(), profile.warnings.begin(), profile.warnings.end());
    set->verifiers_.emplace(profile.name, *std::move(verifier));
  }
  return std::shared_ptr<const ProfileSet>(std::move(set));
}

bool ProfileSet::IsShadow(absl::string_view name) const {
  const ProfileSpec* profile = spec_.Find(name);
  return profile != nullptr && profile->mode == ProfileMode::kShadow;
}

const Verifier* ProfileSet::Find(absl::string_view name) const {
  if (name.empty()) name = spec_.default_profile;
  const auto it = verifiers_.find(name);
  return it == verifiers_.end() ? nullptr : it->second.get();
}

}  // namespace hookguard

#include "server/signature/make_verifier.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/signature/codec.h"
#include "server/signature/hmac_verifier.h"
#include "server/signature/payload_template.h"
#include "server/signature/shared_secret_verifier.h"
#include "server/signature/standard_webhooks_verifier.h"

namespace hookguard {
namespace {

using config::v1::Profile;

constexpr char kHmac[] = "hmac";
constexpr char kSharedSecret[] = "shared_secret";
constexpr char kStandardWebhooks[] = "standard_webhooks";
constexpr int64_t kDefaultToleranceSeconds = 300;
constexpr absl::string_view kWhsecPrefix = "whsec_";

std::string ProfileLabel(const Profile& profile) {
  return absl::StrCat("profile \"", profile.name().empty() ? "(unnamed)" : profile.name(), "\"");
}

absl::Status Invalid(const Profile& profile, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(ProfileLabel(profile), ": ", message));
}

// Adds the profile's name in front of a message from a Verifier class.
absl::Status Named(const Profile& profile, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(ProfileLabel(profile), ": ", status.message()));
}

// The presets, as the options they stand for (all of kind hmac).
std::optional<Profile> PresetProfile(absl::string_view name) {
  Profile p;
  p.set_kind(kHmac);
  p.set_algorithm("sha256");
  p.set_signature_encoding("hex");
  if (name == "vapi") {
    p.set_signature_header("x-vapi-signature");
    p.set_payload_format("{body}");
  } else if (name == "stripe") {
    p.set_signature_header("stripe-signature");
    p.set_signature_timestamp_key("t");
    p.set_signature_key("v1");
    p.set_payload_format("{timestamp}.{body}");
  } else if (name == "github") {
    p.set_signature_header("x-hub-signature-256");
    p.set_signature_prefix("sha256=");
    p.set_message_id_header("x-github-delivery");
    p.set_payload_format("{body}");
  } else if (name == "slack") {
    p.set_signature_header("x-slack-signature");
    p.set_signature_prefix("v0=");
    p.set_timestamp_header("x-slack-request-timestamp");
    p.set_payload_format("v0:{timestamp}:{body}");
  } else {
    return std::nullopt;
  }
  return p;
}

void FillIfEmpty(std::string* field, const std::string& value) {
  if (field->empty()) *field = value;
}

// The options set on `p` that only the hmac kind has, by config field name.
std::vector<absl::string_view> HmacOnlyFieldsSet(const Profile& p) {
  std::vector<absl::string_view> set;
  if (!p.algorithm().empty()) set.push_back("algorithm");
  if (!p.signature_header().empty()) set.push_back("signature_header");
  if (!p.signature_prefix().empty()) set.push_back("signature_prefix");
  if (!p.signature_encoding().empty()) set.push_back("signature_encoding");
  if (p.secret_is_base64()) set.push_back("secret_is_base64");
  if (!p.payload_format().empty()) set.push_back("payload_format");
  if (!p.timestamp_header().empty()) set.push_back("timestamp_header");
  if (!p.message_id_header().empty()) set.push_back("message_id_header");
  if (!p.signature_timestamp_key().empty()) set.push_back("signature_timestamp_key");
  if (!p.signature_key().empty()) set.push_back("signature_key");
  return set;
}

std::vector<absl::string_view> SharedSecretOnlyFieldsSet(const Profile& p) {
  std::vector<absl::string_view> set;
  if (!p.header().empty()) set.push_back("header");
  if (p.bearer_prefix()) set.push_back("bearer_prefix");
  return set;
}

absl::Status RejectFields(const Profile& p, const std::vector<absl::string_view>& fields) {
  if (fields.empty()) return absl::OkStatus();
  return Invalid(p, absl::StrCat(fields.front(), ": not an option of kind \"", p.kind(), "\""));
}

absl::StatusOr<HashAlgorithm> ParseAlgorithm(const Profile& p) {
  if (p.algorithm() == "sha1") return HashAlgorithm::kSha1;
  if (p.algorithm() == "sha256") return HashAlgorithm::kSha256;
  if (p.algorithm() == "sha512") return HashAlgorithm::kSha512;
  return Invalid(
      p, absl::StrCat("algorithm: unknown \"", p.algorithm(), "\" (sha1, sha256 or sha512)"));
}

absl::StatusOr<SignatureEncoding> ParseEncoding(const Profile& p) {
  if (p.signature_encoding() == "hex") return SignatureEncoding::kHex;
  if (p.signature_encoding() == "base64") return SignatureEncoding::kBase64;
  return Invalid(p, absl::StrCat("signature_encoding: unknown \"", p.signature_encoding(),
                                 "\" (hex or base64)"));
}

// A resolved hmac profile as the HmacVerifier's options.
absl::StatusOr<HmacScheme> ToHmacScheme(const Profile& p) {
  HmacScheme scheme;
  absl::StatusOr<HashAlgorithm> algorithm = ParseAlgorithm(p);
  if (!algorithm.ok()) return algorithm.status();
  absl::StatusOr<SignatureEncoding> encoding = ParseEncoding(p);
  if (!encoding.ok()) return encoding.status();
  scheme.algorithm = *algorithm;
  scheme.encoding = *encoding;
  scheme.signature_header = p.signature_header();
  scheme.signature_prefix = p.signature_prefix();
  scheme.payload_format = p.payload_format();
  scheme.timestamp_header = p.timestamp_header();
  scheme.message_id_header = p.message_id_header();
  scheme.signature_timestamp_key = p.signature_timestamp_key();
  scheme.signature_key = p.signature_key();
  scheme.tolerance = absl::Seconds(p.tolerance_seconds());
  return scheme;
}

absl::Status CheckSecretList(const Profile& p) {
  if (p.secrets().empty()) return Invalid(p, "secrets: at least one is required");
  absl::flat_hash_set<std::string> seen;
  for (const auto& s : p.secrets()) {
    if (s.key_id().empty()) return Invalid(p, "secrets: a key_id is empty");
    if (!seen.insert(s.key_id()).second) {
      return Invalid(p, absl::StrCat("secrets: duplicate key_id \"", s.key_id(), "\""));
    }
  }
  return absl::OkStatus();
}

// The option checks shared by ValidateProfile and MakeVerifier, on a
// resolved profile.
absl::Status CheckResolvedOptions(const Profile& p) {
  if (p.has_tolerance_seconds() && p.tolerance_seconds() <= 0) {
    return Invalid(p, "tolerance_seconds: must be positive");
  }
  if (p.kind() == kHmac) {
    absl::StatusOr<HmacScheme> scheme = ToHmacScheme(p);
    if (!scheme.ok()) return scheme.status();
    return Named(p, HmacVerifier::CheckScheme(*scheme));
  }
  if (p.kind() == kSharedSecret && p.header().empty())
    return Invalid(p, "header: must not be empty");
  return absl::OkStatus();
}

// The key bytes of one secret as read from its source.
absl::StatusOr<std::string> DecodeSecret(const Profile& p, const SecretKey& secret) {
  const bool base64 = p.kind() == kStandardWebhooks || (p.kind() == kHmac && p.secret_is_base64());
  if (!base64) return secret.key;
  absl::string_view text = secret.key;
  absl::ConsumePrefix(&text, kWhsecPrefix);
  std::optional<std::string> key = DecodeBase64(text);
  if (!key || key->empty()) {
    return Invalid(p,
                   absl::StrCat("secret \"", secret.key_id, "\": not valid base64 (",
                                p.kind() == kHmac ? "secret_is_base64 is set"
                                                  : "standard_webhooks secrets are whsec_<base64>",
                                ")"));
  }
  return *std::move(key);
}

}  // namespace

absl::StatusOr<Profile> ResolveProfile(const Profile& profile) {
  Profile p = profile;
  if (!p.preset().empty()) {
    std::optional<Profile> preset = PresetProfile(p.preset());
    if (!preset) {
      return Invalid(
          p, absl::StrCat("preset: unknown \"", p.preset(), "\" (vapi, stripe, github or slack)"));
    }
    if (!p.kind().empty() && p.kind() != preset->kind()) {
      return Invalid(p, absl::StrCat("kind: \"", p.kind(), "\" contradicts preset \"", p.preset(),
                                     "\" (of kind \"", preset->kind(), "\")"));
    }
    FillIfEmpty(p.mutable_kind(), preset->kind());
    FillIfEmpty(p.mutable_algorithm(), preset->algorithm());
    FillIfEmpty(p.mutable_signature_header(), preset->signature_header());
    FillIfEmpty(p.mutable_signature_prefix(), preset->signature_prefix());
    FillIfEmpty(p.mutable_signature_encoding(), preset->signature_encoding());
    FillIfEmpty(p.mutable_payload_format(), preset->payload_format());
    FillIfEmpty(p.mutable_timestamp_header(), preset->timestamp_header());
    FillIfEmpty(p.mutable_message_id_header(), preset->message_id_header());
    FillIfEmpty(p.mutable_signature_timestamp_key(), preset->signature_timestamp_key());
    FillIfEmpty(p.mutable_signature_key(), preset->signature_key());
    p.clear_preset();
  }
  if (p.kind() == kHmac) {
    if (absl::Status s = RejectFields(p, SharedSecretOnlyFieldsSet(p)); !s.ok()) return s;
    FillIfEmpty(p.mutable_algorithm(), "sha256");
    FillIfEmpty(p.mutable_signature_header(), "x-vapi-signature");
    FillIfEmpty(p.mutable_signature_encoding(), "hex");
    FillIfEmpty(p.mutable_payload_format(), "{body}");
    if (!p.has_tolerance_seconds()) p.set_tolerance_seconds(kDefaultToleranceSeconds);
    if (absl::StatusOr<HashAlgorithm> a = ParseAlgorithm(p); !a.ok()) return a.status();
    if (absl::StatusOr<SignatureEncoding> e = ParseEncoding(p); !e.ok()) return e.status();
  } else if (p.kind() == kSharedSecret) {
    if (absl::Status s = RejectFields(p, HmacOnlyFieldsSet(p)); !s.ok()) return s;
    if (p.has_tolerance_seconds()) {
      return Invalid(p, "tolerance_seconds: not an option of kind \"shared_secret\"");
    }
    FillIfEmpty(p.mutable_header(), "x-vapi-secret");
  } else if (p.kind() == kStandardWebhooks) {
    if (absl::Status s = RejectFields(p, HmacOnlyFieldsSet(p)); !s.ok()) return s;
    if (absl::Status s = RejectFields(p, SharedSecretOnlyFieldsSet(p)); !s.ok()) return s;
    if (!p.has_tolerance_seconds()) p.set_tolerance_seconds(kDefaultToleranceSeconds);
  } else if (p.kind().empty()) {
    return Invalid(p,
                   "kind: required (hmac, shared_secret or standard_webhooks) unless preset "
                   "is set");
  } else {
    return Invalid(p, absl::StrCat("kind: unknown \"", p.kind(),
                                   "\" (hmac, shared_secret or standard_webhooks)"));
  }
  return p;
}

absl::Status ValidateProfile(const Profile& profile) {
  absl::StatusOr<Profile> resolved = ResolveProfile(profile);
  if (!resolved.ok()) return resolved.status();
  if (absl::Status s = CheckResolvedOptions(*resolved); !s.ok()) return s;
  return CheckSecretList(*resolved);
}

std::vector<std::string> ProfileWarnings(const Profile& profile) {
  std::vector<std::string> warnings;
  absl::StatusOr<Profile> resolved = ResolveProfile(profile);
  if (!resolved.ok()) return warnings;
  const Profile& p = *resolved;
  const std::string label = ProfileLabel(p);
  if (p.kind() == kSharedSecret) {
    warnings.push_back(absl::StrCat(
        label,
        ": shared_secret signs neither the body nor a timestamp: whoever sees one request can "
        "send any body with its header, at any time; use it only over TLS, and prefer an hmac "
        "scheme when the platform offers one"));
    return warnings;
  }
  if (p.kind() != kHmac) return warnings;  // standard_webhooks signs id, timestamp and body
  const bool has_timestamp = !p.timestamp_header().empty() || !p.signature_timestamp_key().empty();
  if (!has_timestamp) {
    warnings.push_back(absl::StrCat(
        label,
        ": no signed timestamp, so no replay window: a captured webhook verifies again at any "
        "later time; drop repeated deliveries in the web tier, and sign a timestamp "
        "(timestamp_header and {timestamp}) if the platform sends one"));
  }
  absl::StatusOr<PayloadTemplate> payload = PayloadTemplate::Parse(p.payload_format());
  if (!p.message_id_header().empty() && payload.ok() && !payload->Uses(Placeholder::kId)) {
    warnings.push_back(absl::StrCat(label, ": message id header ", p.message_id_header(),
                                    " is not signed: a replayed webhook may carry any id, so do "
                                    "not deduplicate on message_id"));
  }
  if (p.algorithm() == "sha1") {
    warnings.push_back(absl::StrCat(
        label, ": algorithm sha1 is deprecated; use sha256 when the platform allows it"));
  }
  return warnings;
}

absl::StatusOr<std::unique_ptr<const Verifier>> MakeVerifier(const Profile& profile,
                                                             std::vector<SecretKey> secrets) {
  absl::StatusOr<Profile> resolved = ResolveProfile(profile);
  if (!resolved.ok()) return resolved.status();
  const Profile& p = *resolved;
  if (absl::Status s = CheckResolvedOptions(p); !s.ok()) return s;
  if (absl::Status s = Named(p, CheckSecretKeys(secrets)); !s.ok()) return s;
  for (SecretKey& secret : secrets) {
    absl::StatusOr<std::string> key = DecodeSecret(p, secret);
    if (!key.ok()) return key.status();
    secret.key = *std::move(key);
  }
  if (p.kind() == kHmac) {
    absl::StatusOr<HmacScheme> scheme = ToHmacScheme(p);
    if (!scheme.ok()) return scheme.status();
    auto verifier = HmacVerifier::Create(*std::move(scheme), std::move(secrets));
    if (!verifier.ok()) return Named(p, verifier.status());
    return std::unique_ptr<const Verifier>(*std::move(verifier));
  }
  if (p.kind() == kSharedSecret) {
    auto verifier = SharedSecretVerifier::Create(SharedSecretScheme{p.header(), p.bearer_prefix()},
                                                 std::move(secrets));
    if (!verifier.ok()) return Named(p, verifier.status());
    return std::unique_ptr<const Verifier>(*std::move(verifier));
  }
  auto verifier =
      StandardWebhooksVerifier::Create(absl::Seconds(p.tolerance_seconds()), std::move(secrets));
  if (!verifier.ok()) return Named(p, verifier.status());
  return std::unique_ptr<const Verifier>(*std::move(verifier));
}

}  // namespace hookguard

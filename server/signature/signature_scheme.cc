#include "server/signature/signature_scheme.h"

#include <optional>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "server/signature/codec.h"
#include "server/signature/payload_template.h"

namespace hookguard {
namespace {

using config::v1::Profile;
using google::protobuf::FieldDescriptor;

constexpr char kHmac[] = "hmac";
constexpr char kSharedSecret[] = "shared_secret";
constexpr char kStandardWebhooks[] = "standard_webhooks";
constexpr char kTwilio[] = "twilio";
constexpr absl::string_view kWhsecPrefix = "whsec_";

std::string ProfileLabel(const Profile& profile) {
  return absl::StrCat("profile \"", profile.name().empty() ? "(unnamed)" : profile.name(), "\"");
}

absl::Status Invalid(const Profile& profile, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(ProfileLabel(profile), ": ", message));
}

// Reads the options of one profile into a scheme and remembers which fields
// it read. A field the profile sets that no Read call of its kind reads is
// refused ("header: not an option of kind \"hmac\""): the Read calls below
// are the whole list of a kind's options. The first error wins.
class OptionReader {
 public:
  explicit OptionReader(const Profile& profile) : profile_(profile) {
    // The fields every kind has; ParseSignatureScheme reads kind and preset,
    // the configuration the others.
    for (const char* common : {"name", "kind", "preset", "secrets", "mode", "ownership"})
      Field(common);
  }

  void Read(const char* name, std::string* out) {
    if (const FieldDescriptor* f = SetField(name)) *out = Reflection().GetString(profile_, f);
  }

  void Read(const char* name, bool* out) {
    if (const FieldDescriptor* f = SetField(name)) *out = Reflection().GetBool(profile_, f);
  }

  // A duration in whole seconds; it must be positive.
  void Read(const char* name, absl::Duration* out) {
    const FieldDescriptor* f = SetField(name);
    if (f == nullptr) return;
    const int64_t seconds = Reflection().GetInt64(profile_, f);
    if (seconds <= 0) return Fail(absl::StrCat(name, ": must be positive"));
    *out = absl::Seconds(seconds);
  }

  // A string option with a fixed set of values: `parse` gives nullopt for an
  // unknown one, and `known` lists them for the message.
  template <typename T>
  void Read(const char* name, T* out, std::optional<T> (*parse)(absl::string_view),
            const char* known) {
    const FieldDescriptor* f = SetField(name);
    if (f == nullptr) return;
    const std::string value = Reflection().GetString(profile_, f);
    std::optional<T> parsed = parse(value);
    if (!parsed) return Fail(absl::StrCat(name, ": unknown \"", value, "\" (", known, ")"));
    *out = *parsed;
  }

  // The first error, else the first field set that was not read.
  absl::Status Finish(absl::string_view kind) const {
    if (!error_.ok()) return error_;
    std::vector<const FieldDescriptor*> set;
    Reflection().ListFields(profile_, &set);
    for (const FieldDescriptor* f : set) {
      if (read_.count(f) == 0) {
        return Invalid(profile_, absl::StrCat(f->name(), ": not an option of kind \"", kind, "\""));
      }
    }
    return absl::OkStatus();
  }

 private:
  const google::protobuf::Reflection& Reflection() const { return *profile_.GetReflection(); }

  // The field `name`, marked as read.
  const FieldDescriptor* Field(const char* name) {
    const FieldDescriptor* f = Profile::descriptor()->FindFieldByName(name);
    if (f == nullptr) {
      Fail(absl::StrCat(name, ": no such field in config.proto (a bug in hookguard)"));
      return nullptr;
    }
    read_.insert(f);
    return f;
  }

  // The field `name` when the profile sets it, else nullptr.
  const FieldDescriptor* SetField(const char* name) {
    const FieldDescriptor* f = Field(name);
    return f != nullptr && Reflection().HasField(profile_, f) ? f : nullptr;
  }

  void Fail(absl::string_view message) {
    if (error_.ok()) error_ = Invalid(profile_, message);
  }

  const Profile& profile_;
  std::set<const FieldDescriptor*> read_;
  absl::Status error_;
};

std::optional<HashAlgorithm> ParseAlgorithm(absl::string_view name) {
  if (name == "sha1") return HashAlgorithm::kSha1;
  if (name == "sha256") return HashAlgorithm::kSha256;
  if (name == "sha512") return HashAlgorithm::kSha512;
  return std::nullopt;
}

std::optional<SignatureEncoding> ParseEncoding(absl::string_view name) {
  if (name == "hex") return SignatureEncoding::kHex;
  if (name == "base64") return SignatureEncoding::kBase64;
  return std::nullopt;
}

// The hmac options: one line each, config field -> HmacScheme member.
void ReadHmacOptions(OptionReader& r, HmacScheme* s) {
  r.Read("algorithm", &s->algorithm, ParseAlgorithm, "sha1, sha256 or sha512");
  r.Read("signature_header", &s->signature_header);
  r.Read("signature_prefix", &s->signature_prefix);
  r.Read("signature_encoding", &s->encoding, ParseEncoding, "hex or base64");
  r.Read("secret_is_base64", &s->secret_is_base64);
  r.Read("payload_format", &s->payload_format);
  r.Read("timestamp_header", &s->timestamp_header);
  r.Read("message_id_header", &s->message_id_header);
  r.Read("signature_timestamp_key", &s->signature_timestamp_key);
  r.Read("signature_key", &s->signature_key);
  r.Read("tolerance_seconds", &s->tolerance);
}

void ReadSharedSecretOptions(OptionReader& r, SharedSecretScheme* s) {
  r.Read("header", &s->header);
  r.Read("bearer_prefix", &s->bearer_prefix);
}

void ReadStandardWebhooksOptions(OptionReader& r, StandardWebhooksScheme* s) {
  r.Read("tolerance_seconds", &s->tolerance);
}

// Twilio fixes everything it signs: every option is refused.
void ReadTwilioOptions(OptionReader& /*r*/, TwilioScheme* /*s*/) {}

// `scheme` (the kind's defaults, or a preset) with the options `read` reads;
// a field the profile sets that `read` does not is refused.
template <typename Scheme>
absl::StatusOr<SignatureScheme> ReadScheme(OptionReader& reader, absl::string_view kind,
                                           Scheme scheme, void (*read)(OptionReader&, Scheme*)) {
  read(reader, &scheme);
  if (absl::Status s = reader.Finish(kind); !s.ok()) return s;
  return scheme;
}

constexpr char kPresetNames[] =
    "vapi-hmac, vapi-secret, vapi-bearer, vapi, stripe, github, slack, retell or elevenlabs";

// The presets, as the options of the kind they stand for. "vapi" is the
// hmac defaults (the origin document's x-vapi-signature over the body).
std::optional<SignatureScheme> Preset(absl::string_view name) {
  // What a VAPI HMAC credential sends with its defaults (signatureHeader
  // x-signature, timestampHeader x-timestamp, payloadFormat
  // "{timestamp}.{body}", sha256, hex); the timestamp is in milliseconds,
  // which every hmac timestamp accepts.
  if (name == "vapi-hmac") {
    HmacScheme s;
    s.signature_header = "x-signature";
    s.timestamp_header = "x-timestamp";
    s.payload_format = "{timestamp}.{body}";
    return s;
  }
  // VAPI's legacy server secret: the secret itself in x-vapi-secret.
  if (name == "vapi-secret") return SharedSecretScheme{};
  // A VAPI Bearer Token credential with its defaults (headerName
  // Authorization, bearerPrefixEnabled).
  if (name == "vapi-bearer") {
    SharedSecretScheme s;
    s.header = "authorization";
    s.bearer_prefix = true;
    return s;
  }
  HmacScheme s;
  if (name == "vapi") return s;
  if (name == "stripe") {
    s.signature_header = "stripe-signature";
    s.signature_timestamp_key = "t";
    s.signature_key = "v1";
    s.payload_format = "{timestamp}.{body}";
    return s;
  }
  if (name == "github") {
    s.signature_header = "x-hub-signature-256";
    s.signature_prefix = "sha256=";
    s.message_id_header = "x-github-delivery";
    return s;
  }
  if (name == "slack") {
    s.signature_header = "x-slack-signature";
    s.signature_prefix = "v0=";
    s.timestamp_header = "x-slack-request-timestamp";
    s.payload_format = "v0:{timestamp}:{body}";
    return s;
  }
  if (name == "retell") {
    // Retell's SDK verify(): "v=<ms>,d=<hex HMAC-SHA256 of body + ms>", keyed
    // with the API key, within 5 minutes. {body}{timestamp} has one reading:
    // the timestamp has no leading zero (ParseUnixTimestamp) and must fall
    // in the window, so no digit can move between body and timestamp.
    s.signature_header = "x-retell-signature";
    s.signature_timestamp_key = "v";
    s.signature_key = "d";
    s.payload_format = "{body}{timestamp}";
    return s;
  }
  if (name == "elevenlabs") {
    // ElevenLabs' SDK construct_event(): "t=<s>,v0=<hex HMAC-SHA256 of
    // "<t>.<body>">", refused when older than 30 minutes.
    s.signature_header = "elevenlabs-signature";
    s.signature_timestamp_key = "t";
    s.signature_key = "v0";
    s.payload_format = "{timestamp}.{body}";
    s.tolerance = absl::Minutes(30);
    return s;
  }
  return std::nullopt;
}

// How the hmac options must fit together. The message names the field.
absl::Status CheckHmacScheme(const HmacScheme& scheme) {
  absl::StatusOr<PayloadTemplate> payload = PayloadTemplate::Parse(scheme.payload_format);
  if (!payload.ok()) return payload.status();
  const bool key_value_mode = !scheme.signature_timestamp_key.empty();
  if (key_value_mode && scheme.signature_key.empty()) {
    return absl::InvalidArgumentError("signature_key: required with signature_timestamp_key");
  }
  if (!key_value_mode && !scheme.signature_key.empty()) {
    return absl::InvalidArgumentError("signature_timestamp_key: required with signature_key");
  }
  if (key_value_mode && !scheme.timestamp_header.empty()) {
    return absl::InvalidArgumentError(
        "timestamp_header: not used with signature_timestamp_key (the timestamp is a part of "
        "the signature header)");
  }
  const bool has_timestamp = key_value_mode || !scheme.timestamp_header.empty();
  if (payload->Uses(Placeholder::kTimestamp) && !has_timestamp) {
    return absl::InvalidArgumentError(
        "payload_format: {timestamp} needs timestamp_header (or signature_timestamp_key)");
  }
  if (payload->Uses(Placeholder::kId) && scheme.message_id_header.empty()) {
    return absl::InvalidArgumentError("payload_format: {id} needs message_id_header");
  }
  // What is signed must cover what is trusted: a MAC without the body would
  // make any body VALID, and a timestamp that is read but not signed makes
  // the tolerance window cosmetic (a captured signature passes with any
  // fresh timestamp).
  if (!payload->Uses(Placeholder::kBody)) {
    return absl::InvalidArgumentError(
        absl::StrCat("payload_format: \"", scheme.payload_format,
                     "\" does not sign the body, so any body would verify: add {body} "
                     "(e.g. \"{timestamp}.{body}\")"));
  }
  if (has_timestamp && !payload->Uses(Placeholder::kTimestamp)) {
    const std::string source =
        key_value_mode
            ? absl::StrCat("signature_timestamp_key \"", scheme.signature_timestamp_key, "\"")
            : absl::StrCat("timestamp_header \"", scheme.timestamp_header, "\"");
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": the timestamp is read but payload_format \"", scheme.payload_format,
        "\" does not sign it, so a captured signature would pass with any fresh timestamp: add "
        "{timestamp} to payload_format (e.g. \"{timestamp}.{body}\")",
        key_value_mode ? "" : ", or remove timestamp_header"));
  }
  return absl::OkStatus();
}

std::vector<std::string> HmacWarnings(const HmacScheme& s) {
  std::vector<std::string> warnings;
  if (s.timestamp_header.empty() && s.signature_timestamp_key.empty()) {
    warnings.push_back(
        "no signed timestamp, so no replay window: a captured webhook verifies again at any "
        "later time; drop repeated deliveries in the web tier, and sign a timestamp "
        "(timestamp_header and {timestamp}) if the platform sends one");
  }
  absl::StatusOr<PayloadTemplate> payload = PayloadTemplate::Parse(s.payload_format);
  if (!s.message_id_header.empty() && payload.ok() && !payload->Uses(Placeholder::kId)) {
    warnings.push_back(absl::StrCat("message id header ", s.message_id_header,
                                    " is not signed: a replayed webhook may carry any id, so do "
                                    "not deduplicate on message_id"));
  }
  if (s.algorithm == HashAlgorithm::kSha1) {
    warnings.push_back("algorithm sha1 is deprecated; use sha256 when the platform allows it");
  }
  return warnings;
}

template <typename T>
absl::StatusOr<std::unique_ptr<const Verifier>> AsVerifier(
    absl::StatusOr<std::unique_ptr<const T>> made) {
  if (!made.ok()) return made.status();
  return std::unique_ptr<const Verifier>(*std::move(made));
}

}  // namespace

absl::StatusOr<SignatureScheme> ParseSignatureScheme(const Profile& profile) {
  std::string kind = profile.kind();
  std::optional<SignatureScheme> preset;
  if (!profile.preset().empty()) {
    preset = Preset(profile.preset());
    if (!preset) {
      return Invalid(
          profile, absl::StrCat("preset: unknown \"", profile.preset(), "\" (", kPresetNames, ")"));
    }
    const char* preset_kind = std::holds_alternative<HmacScheme>(*preset) ? kHmac : kSharedSecret;
    if (!kind.empty() && kind != preset_kind) {
      return Invalid(profile, absl::StrCat("kind: \"", kind, "\" contradicts preset \"",
                                           profile.preset(), "\" (of kind \"", preset_kind, "\")"));
    }
    kind = preset_kind;
  }
  OptionReader reader(profile);
  if (kind == kHmac) {
    absl::StatusOr<SignatureScheme> scheme = ReadScheme(
        reader, kind, preset ? std::get<HmacScheme>(*preset) : HmacScheme{}, ReadHmacOptions);
    if (!scheme.ok()) return scheme;
    if (absl::Status s = CheckHmacScheme(std::get<HmacScheme>(*scheme)); !s.ok()) {
      return Invalid(profile, s.message());
    }
    return scheme;
  }
  if (kind == kSharedSecret) {
    return ReadScheme(reader, kind,
                      preset ? std::get<SharedSecretScheme>(*preset) : SharedSecretScheme{},
                      ReadSharedSecretOptions);
  }
  if (kind == kStandardWebhooks) {
    return ReadScheme(reader, kind, StandardWebhooksScheme{}, ReadStandardWebhooksOptions);
  }
  if (kind == kTwilio) return ReadScheme(reader, kind, TwilioScheme{}, ReadTwilioOptions);
  if (kind.empty()) {
    return Invalid(
        profile,
        "kind: required (hmac, shared_secret, standard_webhooks or twilio) unless preset is set");
  }
  return Invalid(profile, absl::StrCat("kind: unknown \"", kind,
                                       "\" (hmac, shared_secret, standard_webhooks or twilio)"));
}

std::vector<std::string> SchemeWarnings(const SignatureScheme& scheme) {
  if (const auto* hmac = std::get_if<HmacScheme>(&scheme)) return HmacWarnings(*hmac);
  if (std::holds_alternative<SharedSecretScheme>(scheme)) {
    return {
        "shared_secret signs neither the body nor a timestamp: whoever sees one request can "
        "send any body with its header, at any time; use it only over TLS, and prefer an hmac "
        "scheme when the platform offers one"};
  }
  if (std::holds_alternative<TwilioScheme>(scheme)) {
    return {
        "twilio signs with sha1 and signs no timestamp: a captured request verifies again at any "
        "later time, so drop repeated deliveries in the web tier (CallSid with CallStatus); and "
        "the app must pass the URL exactly as Twilio requested it (behind a proxy, from the "
        "forwarded scheme and host)"};
  }
  return {};  // standard_webhooks signs id, timestamp and body
}

absl::StatusOr<std::string> DecodeSecretKey(const SignatureScheme& scheme, absl::string_view text) {
  const auto* hmac = std::get_if<HmacScheme>(&scheme);
  const bool standard = std::holds_alternative<StandardWebhooksScheme>(scheme);
  if (!standard && (hmac == nullptr || !hmac->secret_is_base64)) return std::string(text);
  absl::ConsumePrefix(&text, kWhsecPrefix);
  std::optional<std::string> key = DecodeBase64(text);
  if (!key || key->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not valid base64 (",
        standard ? "standard_webhooks secrets are whsec_<base64>" : "secret_is_base64 is set",
        ")"));
  }
  return *std::move(key);
}

absl::StatusOr<std::unique_ptr<const Verifier>> MakeVerifier(const SignatureScheme& scheme,
                                                             std::vector<SecretKey> keys) {
  if (const auto* hmac = std::get_if<HmacScheme>(&scheme)) {
    return AsVerifier(HmacVerifier::Create(*hmac, std::move(keys)));
  }
  if (const auto* shared = std::get_if<SharedSecretScheme>(&scheme)) {
    return AsVerifier(SharedSecretVerifier::Create(*shared, std::move(keys)));
  }
  if (const auto* twilio = std::get_if<TwilioScheme>(&scheme)) {
    return AsVerifier(TwilioVerifier::Create(*twilio, std::move(keys)));
  }
  return AsVerifier(
      StandardWebhooksVerifier::Create(std::get<StandardWebhooksScheme>(scheme), std::move(keys)));
}

}  // namespace hookguard

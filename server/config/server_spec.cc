#include "server/config/server_spec.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/config/config.h"
#include "server/ownership/subject_query.h"

namespace hookguard {
namespace {

using config::v1::Config;
using config::v1::Profile;

std::string ProfileLabel(const Profile& p) { return absl::StrCat("profile \"", p.name(), "\""); }

std::string NoSecretMessage(absl::string_view why) {
  return absl::StrCat("no webhook secret configured: set ", kDefaultSecretEnv,
                      " or pass --config with a profile and its secrets (", why, ")");
}

// The secret list of a profile: at least one, key_ids non-empty and unique,
// each read from exactly one of env and file.
absl::Status CheckSecretList(const Profile& p) {
  if (p.secrets().empty()) {
    return absl::InvalidArgumentError(
        NoSecretMessage(absl::StrCat(ProfileLabel(p), " has no secrets")));
  }
  absl::flat_hash_set<std::string> key_ids;
  for (const config::v1::Secret& s : p.secrets()) {
    if (s.key_id().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(ProfileLabel(p), ": secrets: a key_id is empty"));
    }
    if (!key_ids.insert(s.key_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(ProfileLabel(p), ": secrets: duplicate key_id \"", s.key_id(), "\""));
    }
    if (s.env().empty() == s.file().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(ProfileLabel(p), ": secret \"", s.key_id(),
                                                     "\": set exactly one of env and file"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ProfileMode> ParseMode(const Profile& p) {
  if (p.mode().empty() || p.mode() == "enforce") return ProfileMode::kEnforce;
  if (p.mode() == "shadow") return ProfileMode::kShadow;
  return absl::InvalidArgumentError(absl::StrCat(ProfileLabel(p), ": mode: \"", p.mode(),
                                                 "\" is neither \"enforce\" nor \"shadow\""));
}

bool IsSubjectNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// The subjects of profile `p` (config ownership.subjects), each query
// added to `queries` unless already there.
absl::StatusOr<std::vector<SubjectSpec>> CompileSubjects(const Profile& p,
                                                         std::vector<std::string>* queries) {
  std::vector<SubjectSpec> subjects;
  if (!p.has_ownership()) return subjects;
  const auto& configured = p.ownership().subjects();
  if (configured.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ProfileLabel(p), ": ownership.subjects: at least one subject"));
  }
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < configured.size(); ++i) {
    const config::v1::Subject& s = configured[i];
    const std::string where = absl::StrCat(ProfileLabel(p), ": ownership.subjects[", i, "]");
    if (s.name().empty()) return absl::InvalidArgumentError(absl::StrCat(where, ".name: required"));
    if (!std::all_of(s.name().begin(), s.name().end(), IsSubjectNameChar)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".name: \"", s.name(), "\": use letters, digits, '_', '-' or '.' only"));
    }
    if (!names.insert(s.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".name: duplicate \"", s.name(), "\""));
    }
    absl::StatusOr<SubjectSource> source = ParseSubjectSource(s.from());
    if (!source.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", source.status().message()));
    }
    if (!subjects.empty() && subjects.front().source.kind != source->kind) {
      return absl::InvalidArgumentError(
          absl::StrCat(where,
                       ".from: a body is JSON or a form, not both: all subjects of a "
                       "profile are JSON Pointers, or all are form:NAME"));
    }
    if (absl::Status q = CheckSubjectQuery(s.query()); !q.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", q.message()));
    }
    SubjectSpec subject;
    subject.name = s.name();
    subject.source = *std::move(source);
    subject.required = !s.has_required() || s.required();
    auto known = std::find(queries->begin(), queries->end(), s.query());
    if (known == queries->end()) known = queries->insert(queries->end(), s.query());
    subject.query = static_cast<int>(known - queries->begin());
    subjects.push_back(std::move(subject));
  }
  return subjects;
}

absl::StatusOr<ProfileSpec> CompileProfile(const Profile& p) {
  if (absl::Status s = CheckSecretList(p); !s.ok()) return s;
  absl::StatusOr<SignatureScheme> scheme = ParseSignatureScheme(p);
  if (!scheme.ok()) return scheme.status();
  absl::StatusOr<ProfileMode> mode = ParseMode(p);
  if (!mode.ok()) return mode.status();
  ProfileSpec spec;
  spec.name = p.name();
  spec.mode = *mode;
  spec.scheme = *std::move(scheme);
  spec.secrets.assign(p.secrets().begin(), p.secrets().end());
  for (const std::string& warning : SchemeWarnings(spec.scheme)) {
    spec.warnings.push_back(absl::StrCat(ProfileLabel(p), ": ", warning));
  }
  return spec;
}

// Reads and decodes the keys of `profile` (see Compile and CompileOptions).
absl::Status ReadKeys(const SecretSource& source, CompileOptions options, ProfileSpec* profile,
                      std::vector<MissingSecret>* missing) {
  for (const config::v1::Secret& secret : profile->secrets) {
    const std::string where =
        absl::StrCat("profile \"", profile->name, "\": secret \"", secret.key_id(), "\": ");
    absl::StatusOr<std::string> text = source.Read(secret);
    if (!text.ok() && options.drop_unreadable_secret_files && !secret.file().empty()) {
      missing->push_back(MissingSecret{profile->name, secret.key_id(), secret.file(),
                                       std::string(text.status().message())});
      continue;
    }
    if (!text.ok()) {
      const std::string message = absl::StrCat(where, text.status().message());
      return absl::Status(text.status().code(),
                          secret.env() == kDefaultSecretEnv ? NoSecretMessage(message) : message);
    }
    absl::StatusOr<std::string> key = DecodeSecretKey(profile->scheme, *text);
    if (!key.ok())
      return absl::Status(key.status().code(), absl::StrCat(where, key.status().message()));
    profile->keys.push_back(SecretKey{secret.key_id(), *std::move(key)});
  }
  return absl::OkStatus();
}

}  // namespace

const ProfileSpec* ServerSpec::Find(absl::string_view name) const {
  if (name.empty()) name = default_profile;
  for (const ProfileSpec& p : profiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

absl::StatusOr<ServerSpec> Compile(const Config& config) {
  if (config.profiles().empty()) {
    return absl::InvalidArgumentError(NoSecretMessage("the configuration has no profiles"));
  }
  ServerSpec spec;
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < config.profiles_size(); ++i) {
    const Profile& p = config.profiles(i);
    if (p.name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("profiles[", i, "].name: required"));
    }
    if (!names.insert(p.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("profiles[", i, "].name: duplicate \"", p.name(), "\""));
    }
    absl::StatusOr<ProfileSpec> profile = CompileProfile(p);
    if (!profile.ok()) return profile.status();
    absl::StatusOr<std::vector<SubjectSpec>> subjects = CompileSubjects(p, &spec.subject_queries);
    if (!subjects.ok()) return subjects.status();
    profile->subjects = *std::move(subjects);
    spec.profiles.push_back(*std::move(profile));
  }
  absl::StatusOr<OwnershipQueries> queries = CompileOwnershipQueries(config.ownership());
  if (!queries.ok()) return queries.status();
  spec.queries = *std::move(queries);
  // No profile uses the call model and no call_query maps it: the app may
  // have none of the default schema's tables (a Stripe-only app), so none of
  // the call model's lookups is prepared. A query set on its own stays on.
  if (config.ownership().call_query().empty() &&
      std::all_of(spec.profiles.begin(), spec.profiles.end(),
                  [](const ProfileSpec& p) { return !p.subjects.empty(); })) {
    spec.queries.call.clear();
    if (config.ownership().phone_number_query().empty()) spec.queries.phone_number.clear();
    if (config.ownership().assistant_query().empty()) spec.queries.assistant.clear();
  }
  std::vector<v1::OwnerSource> off;
  if (!spec.queries.call_on()) off.push_back(v1::OWNER_SOURCE_CALL);
  if (!spec.queries.phone_number_on()) off.push_back(v1::OWNER_SOURCE_PHONE_NUMBER);
  if (!spec.queries.assistant_on()) off.push_back(v1::OWNER_SOURCE_ASSISTANT);
  absl::StatusOr<ResolvePolicy> resolve =
      ResolvePolicy::Compile(config.ownership().resolve(), std::move(off));
  if (!resolve.ok()) return resolve.status();
  spec.resolve = *std::move(resolve);
  spec.default_profile = config.default_profile();
  if (spec.default_profile.empty()) {
    if (config.profiles_size() > 1) {
      return absl::InvalidArgumentError("default_profile: required with more than one profile");
    }
    spec.default_profile = config.profiles(0).name();
  } else if (!names.contains(spec.default_profile)) {
    return absl::InvalidArgumentError(
        absl::StrCat("default_profile: \"", spec.default_profile, "\" is not a profile"));
  }
  return spec;
}

absl::StatusOr<ServerSpec> Compile(const Config& config, const SecretSource& secrets,
                                   CompileOptions options) {
  absl::StatusOr<ServerSpec> spec = Compile(config);
  if (!spec.ok()) return spec;
  for (ProfileSpec& profile : spec->profiles) {
    if (absl::Status s = ReadKeys(secrets, options, &profile, &spec->missing_secrets); !s.ok()) {
      return s;
    }
  }
  spec->secrets_read = true;
  return spec;
}

absl::StatusOr<ServerSpec> LoadServerSpec(const std::string& config_path,
                                          const SecretSource* secrets) {
  absl::StatusOr<Config> config = DefaultConfig();
  if (!config_path.empty()) {
    absl::StatusOr<std::string> text = ReadConfigFile(config_path);
    if (!text.ok()) return text.status();
    config = ParseConfigJson(*text, config_path);
  }
  if (!config.ok()) return config.status();
  absl::StatusOr<ServerSpec> spec =
      secrets == nullptr ? Compile(*config) : Compile(*config, *secrets);
  if (!spec.ok() && !config_path.empty()) return InFile(config_path, spec.status());
  return spec;
}

std::vector<std::string> KeysNeedingRestart(const ServerSpec& running, const ServerSpec& next) {
  const struct {
    const char* key;
    const std::string OwnershipQueries::*query;
  } restart_only[] = {
      {"ownership.call_query", &OwnershipQueries::call},
      {"ownership.phone_number_query", &OwnershipQueries::phone_number},
      {"ownership.assistant_query", &OwnershipQueries::assistant},
  };
  std::vector<std::string> keys;
  const bool call_changed = running.queries.call != next.queries.call;
  for (const auto& k : restart_only) {
    const std::string& was = running.queries.*k.query;
    const std::string& is = next.queries.*k.query;
    if (was == is) continue;
    // A lookup turned off or on by setting or removing call_query alone is
    // that key's change, named once.
    if (call_changed && k.query != &OwnershipQueries::call && (was.empty() || is.empty())) {
      continue;
    }
    keys.push_back(k.key);
  }
  // Each subject query is a coalescer kind with statements prepared per
  // connection: the list, in its order, is fixed at start.
  if (running.subject_queries != next.subject_queries) {
    keys.push_back("profiles[].ownership.subjects[].query");
  }
  return keys;
}

std::vector<std::string> DescribeOwnership(const ServerSpec& spec) {
  auto lookup = [&spec](const char* name, const std::string& query, const std::string& fallback,
                        const char* key) {
    if (query.empty() && !spec.queries.call_on()) {
      return absl::StrCat(name, " off (every profile authorizes by ownership.subjects and ", key,
                          " is not set)");
    }
    if (query.empty()) return absl::StrCat(name, " off (", key, " is not set)");
    return absl::StrCat(name, " on (", query == fallback ? "default schema" : key, ")");
  };
  std::vector<std::string> lines = {absl::StrCat(
      "ownership lookups: ",
      lookup("call", spec.queries.call, kDefaultCallQuery, "ownership.call_query"), ", ",
      lookup("phone_number", spec.queries.phone_number, kDefaultPhoneNumberQuery,
             "ownership.phone_number_query"),
      ", ",
      lookup("assistant", spec.queries.assistant, kDefaultAssistantQuery,
             "ownership.assistant_query"))};
  for (const std::string& rule : spec.resolve.Describe()) {
    lines.push_back(absl::StrCat("ownership.resolve: ", rule));
  }
  return lines;
}

}  // namespace hookguard

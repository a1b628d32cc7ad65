// The configuration compiled once: every rule of the --config file applied
// in one place (presets, defaults, checks, secrets decoded, the ownership
// queries and resolution chain), as typed values the server and the
// operator tools run on.
#ifndef HOOKGUARD_SERVER_CONFIG_SERVER_SPEC_H_
#define HOOKGUARD_SERVER_CONFIG_SERVER_SPEC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hookguard/config/v1/config.pb.h"
#include "server/config/secret_source.h"
#include "server/ownership/ownership_queries.h"
#include "server/ownership/resolve_policy.h"
#include "server/payload/subject_source.h"
#include "server/signature/signature_scheme.h"
#include "server/signature/verifier.h"

namespace hookguard {

// Profile modes: every check decides the answer, or every check runs and the
// answer is ALLOW with the would-be decision beside it (config "mode").
enum class ProfileMode { kEnforce, kShadow };

// One subject of a profile (config profiles[].ownership.subjects[]).
struct SubjectSpec {
  std::string name;  // unique within the profile
  SubjectSource source;
  bool required = true;
  // The index of its query in ServerSpec::subject_queries (what the
  // ownership store was opened with).
  int query = 0;
};

// One verification profile.
struct ProfileSpec {
  std::string name;
  ProfileMode mode = ProfileMode::kEnforce;
  SignatureScheme scheme;
  // Where each secret is read from (key_id, env or file), in configuration
  // order; key_ids non-empty and unique, exactly one of env and file.
  std::vector<config::v1::Secret> secrets;
  // The secrets' raw key bytes (decoded when the scheme says so), in the
  // order of `secrets`, those that were read: filled only by Compile with a
  // SecretSource. Never logged.
  std::vector<SecretKey> keys;
  // What the profile leaves unprotected (SchemeWarnings), each sentence
  // starting with `profile "<name>": `, for the log at start.
  std::vector<std::string> warnings;
  // The profile's subjects, in configuration order: AuthorizeWebhook
  // authorizes by them. Empty: the call model (VAPI).
  std::vector<SubjectSpec> subjects;
};

// A configured secret file that could not be read on a reload and was left
// out (CompileOptions). `why` names the file and the error, never a value.
struct MissingSecret {
  std::string profile;
  std::string key_id;
  std::string file;
  std::string why;
};

struct ServerSpec {
  std::vector<ProfileSpec> profiles;  // configuration order, names unique
  std::string default_profile;        // names one of `profiles`
  OwnershipQueries queries;           // config ownership.*_query, defaults filled
  ResolvePolicy resolve;              // config ownership.resolve
  // Every distinct subject query of the profiles, in order of first use
  // (SubjectSpec::query indexes it): one coalescer kind each.
  std::vector<std::string> subject_queries;
  // Whether the secrets were read (Compile with a SecretSource): only then
  // may verifiers be built from it.
  bool secrets_read = false;
  // The secret files left out on a reload (CompileOptions).
  std::vector<MissingSecret> missing_secrets;

  // The profile `name`, the default profile for an empty name; nullptr if
  // there is none.
  const ProfileSpec* Find(absl::string_view name) const;
};

// How Compile treats a secret it cannot read.
struct CompileOptions {
  // false (at start): a secret that cannot be read fails the compile.
  // true (on reload): a secret *file* that cannot be read (deleted, emptied,
  // unreadable) is left out and listed in missing_secrets: a secret an
  // operator removed stops verifying, and the profile's other secrets keep
  // working. A profile left with no secret at all fails closed (ProfileSet
  // gives it a verifier that refuses everything). Environment secrets cannot
  // change while the process runs and still fail the compile.
  bool drop_unreadable_secret_files = false;
};

// Checks and types `config` without reading any secret: at least one
// profile; names non-empty and unique; default_profile names one of them
// (required with more than one profile, else the only one); every profile
// has at least one secret ("no webhook secret configured: ..."), each with
// a non-empty, unique key_id and exactly one of env and file; its options
// (ParseSignatureScheme); mode "", "enforce" or "shadow"; its subjects
// (at least one when `ownership` is set; names non-empty, unique, of
// letters, digits, '_', '-', '.'; `from` per ParseSubjectSource, all JSON
// Pointers or all form fields; `query` per CheckSubjectQuery); the ownership
// queries (CompileOwnershipQueries) and ownership.resolve
// (ResolvePolicy::Compile). InvalidArgument naming the profile and the key.
absl::StatusOr<ServerSpec> Compile(const config::v1::Config& config);

// Compile(config), then every secret read from `secrets` and decoded
// (DecodeSecretKey). A secret that cannot be read fails (but see
// CompileOptions) with the source's code, naming the profile, the key_id and
// the variable or file, never the value; when the only secret of
// DefaultConfig() is missing, the message says "no webhook secret
// configured: set VAPI_WEBHOOK_SECRET ...".
absl::StatusOr<ServerSpec> Compile(const config::v1::Config& config, const SecretSource& secrets,
                                   CompileOptions options = {});

// The file at `config_path` (empty: DefaultConfig()) read and compiled,
// with its secrets when `secrets` is not null. Every error starts with the
// path ("c.json: profile \"a\": ...").
absl::StatusOr<ServerSpec> LoadServerSpec(const std::string& config_path,
                                          const SecretSource* secrets);

// The configuration keys whose values differ between `running` and `next`
// and that the server applies only at start ("ownership.call_query",
// "ownership.phone_number_query", "ownership.assistant_query": prepared once
// per database connection), in that order, then
// "profiles[].ownership.subjects[].query" when the subject queries differ. Empty when `next` can be
// applied live (profiles, secrets, modes, default_profile, ownership.resolve, and the audit
// queries, which only `hookguard audit-db` runs).
// A lookup turned off or on only because call_query was set or removed is
// reported as "ownership.call_query" alone.
std::vector<std::string> KeysNeedingRestart(const ServerSpec& running, const ServerSpec& next);

// What the ownership part of `spec` does, for operators (`--check_config`,
// the log at start): a line naming which lookups are on (call,
// phone_number, assistant; "default schema" or the key that set each query,
// or off and the key that is not set), then one line per rule of the
// resolution chain, marking the steps that are off (ResolvePolicy::Describe).
std::vector<std::string> DescribeOwnership(const ServerSpec& spec);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_CONFIG_SERVER_SPEC_H_

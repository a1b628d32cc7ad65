// Loading and checking hookguard-server's --config file (docs/operations.md).
#ifndef HOOKGUARD_SERVER_CONFIG_CONFIG_H_
#define HOOKGUARD_SERVER_CONFIG_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hookguard/config/v1/config.pb.h"

namespace hookguard {

// The environment variable of the default profile's secret.
inline constexpr char kDefaultSecretEnv[] = "VAPI_WEBHOOK_SECRET";
// Profile modes: every check decides the answer, or every check runs and
// the answer is ALLOW with the would-be decision beside it.
inline constexpr char kModeEnforce[] = "enforce";
inline constexpr char kModeShadow[] = "shadow";
// The name of the profile DefaultConfig() holds.
inline constexpr char kDefaultProfileName[] = "default";

// The configuration without a config file: one profile "default", kind
// hmac with the defaults, secret {key_id: "env", env: "VAPI_WEBHOOK_SECRET"}.
config::v1::Config DefaultConfig();

// Parses JSON text into a Config with Protobuf's JSON parser (unknown keys
// are errors), then completes it (no profiles: the default profile; one
// profile and no default_profile: that one) and validates it
// (ValidateConfig). Errors are InvalidArgument and start with `origin` (a
// file name, for the message).
absl::StatusOr<config::v1::Config> ParseConfigJson(absl::string_view json,
                                                   absl::string_view origin);

// Reads `path` and calls ParseConfigJson. NotFound / PermissionDenied /
// InvalidArgument name the path.
absl::StatusOr<config::v1::Config> LoadConfigFile(const std::string& path);

// Checks a complete Config without reading any secret: profile names
// non-empty and unique; default_profile names one of them (required with
// more than one profile); every profile has at least one secret ("no webhook
// secret configured: ..."), each with exactly one of env and file; every
// profile's options are valid (ValidateProfile); mode is empty, "enforce"
// or "shadow"; the ownership queries bind their parameters
// (ValidateOwnershipQueries); ownership.resolve compiles
// (ResolvePolicy::Compile). The message names the profile and the field.
absl::Status ValidateConfig(const config::v1::Config& config);

// The checks of the ownership queries that need no database: each query
// that is set binds its parameter (call_query :call_id, phone_number_query
// :phone_number_id, assistant_query :assistant_id). Part of ValidateConfig.
absl::Status ValidateOwnershipQueries(const config::v1::Ownership& ownership);

// The secret files of every profile, sorted, without duplicates: the files
// to watch; when one changes, the server builds a new ProfileSet.
std::vector<std::string> SecretFiles(const config::v1::Config& config);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_CONFIG_CONFIG_H_

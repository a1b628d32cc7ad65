// Reading hookguard-server's --config file (docs/reference/config.md). Its rules
// are applied by Compile (server_spec.h).
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
// The name of the profile DefaultConfig() holds.
inline constexpr char kDefaultProfileName[] = "default";

// The configuration without a config file: one profile "default", kind
// hmac with the defaults, secret {key_id: "env", env: "VAPI_WEBHOOK_SECRET"}.
config::v1::Config DefaultConfig();

// Parses JSON text into a Config with Protobuf's JSON parser (unknown keys
// are errors) and completes it: no profiles, the default profile; one
// profile and no default_profile, that one. Checks nothing else (Compile
// does). Errors are InvalidArgument and start with `origin` (a file name,
// for the message).
absl::StatusOr<config::v1::Config> ParseConfigJson(absl::string_view json,
                                                   absl::string_view origin);

// The text of the config file `path` (at most 1 MiB). NotFound /
// PermissionDenied / FailedPrecondition / InvalidArgument name the path.
absl::StatusOr<std::string> ReadConfigFile(const std::string& path);

// `status` with its message prefixed by "<origin>: " (OK stays OK).
absl::Status InFile(absl::string_view origin, const absl::Status& status);

// The secret files of every profile, sorted, without duplicates: the files
// to watch; when one changes, the server builds a new ProfileSet.
std::vector<std::string> SecretFiles(const config::v1::Config& config);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_CONFIG_CONFIG_H_

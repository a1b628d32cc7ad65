// The `hookguard` subcommands that call a running server.
#ifndef HOOKGUARD_TOOLS_HOOKGUARD_RPC_COMMANDS_H_
#define HOOKGUARD_TOOLS_HOOKGUARD_RPC_COMMANDS_H_

#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hookguard/v1/hookguard.pb.h"
#include "tools/hookguard/cli_args.h"

namespace hookguard::cli {

// Flags every RPC subcommand takes: --target, --timeout_ms, --format and
// the TLS flags.
std::set<std::string, std::less<>> ConnectionFlags();

// The bytes of the file `path`, or of stdin for "-". NotFound names the
// file.
absl::StatusOr<std::string> ReadAll(const std::string& path);

// One --header='Name: value' flag: (Name, value without leading blanks).
// InvalidArgument for a value without a name.
absl::StatusOr<std::pair<std::string, std::string>> ParseHeaderFlag(absl::string_view header);

// Reads --body (a file, or - for stdin; raw bytes), every --header='Name:
// value', --method and --url into `request` (shared by `webhook`, `verify`
// and `explain`). InvalidArgument / NotFound name the flag or the file.
absl::Status ReadHttpRequest(const CliArgs& args, v1::HttpRequest* request);

// The call event of --call_id, --assistant_id, --phone_number_id, --type
// and --org_id (shared by `authorize` and `explain`).
v1::CallEvent CallEventFromFlags(const CliArgs& args);

// Exit codes: 0 VALID / ALLOW / SERVING; 1 anything else the server
// answered; 2 usage errors and RPC failures (printed on stderr).
int RunVerify(const CliArgs& args);
int RunAuthorize(const CliArgs& args);
int RunWebhook(const CliArgs& args);
int RunHealth(const CliArgs& args);

}  // namespace hookguard::cli

#endif  // HOOKGUARD_TOOLS_HOOKGUARD_RPC_COMMANDS_H_

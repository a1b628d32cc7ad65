// The `hookguard` subcommands that call a running server.
#ifndef HOOKGUARD_CLIENT_CLI_RPC_COMMANDS_H_
#define HOOKGUARD_CLIENT_CLI_RPC_COMMANDS_H_

#include <set>
#include <string>

#include "client/cli/cli_args.h"

namespace hookguard::cli {

// Flags every RPC subcommand takes: --target, --timeout_ms, --format and
// the TLS flags.
std::set<std::string, std::less<>> ConnectionFlags();

// Exit codes: 0 VALID / ALLOW / SERVING; 1 anything else the server
// answered; 2 usage errors and RPC failures (printed on stderr).
int RunVerify(const CliArgs& args);
int RunAuthorize(const CliArgs& args);
int RunWebhook(const CliArgs& args);
int RunHealth(const CliArgs& args);

}  // namespace hookguard::cli

#endif  // HOOKGUARD_CLIENT_CLI_RPC_COMMANDS_H_

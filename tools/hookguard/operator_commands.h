// The operator tools of the `hookguard` CLI: they work on the ownership
// database and the configuration directly, without a running server.
#ifndef HOOKGUARD_TOOLS_HOOKGUARD_OPERATOR_COMMANDS_H_
#define HOOKGUARD_TOOLS_HOOKGUARD_OPERATOR_COMMANDS_H_

#include "tools/hookguard/cli_args.h"

namespace hookguard::cli {

// hookguard audit-db --db=CONN [--config=FILE] [--format=table|json]
//                    [--timeout_ms=30000]
// Reports every call whose assistant or phone number belongs to another
// user than the call, or is missing (RunOwnershipAudit). --db defaults to
// $HOOKGUARD_DB. Exit 0 clean, 1 findings, 2 errors (bad flags, unreadable
// config, database unreachable, a query that fails).
int RunAuditDb(const CliArgs& args);

// hookguard explain --body=FILE|- [--header='Name: value']... [--profile=P]
//                   [--method=M] [--url=U] [--expected_owner=USER]
//                   --db=CONN [--config=FILE] [--format=text|json]
// hookguard explain --capture=FILE [--profile=P] [--expected_owner=USER]
//                   --db=CONN [--config=FILE] [--format=text|json]
// hookguard explain --call_id=ID [--assistant_id=ID] [--phone_number_id=ID]
//                   [--expected_owner=USER] --db=CONN [--config=FILE]
// Runs the service's own flow locally (WebhookAuthorizer over a
// SociOwnershipStore, profiles built from the config and secrets as the
// server builds them) and prints each step with pass/fail/skipped, then the
// decision, reason and http_status the service would answer; with
// --capture (a capture file of the client libraries, format
// hookguard-capture/v1), the delivery is replayed as captured, its signature
// checked as of its captured_at time (a signed timestamp is not stale merely
// because the capture waited), and the answer the app got then is printed
// beside ("captured"). Exit 0 ALLOW,
// 1 deny, 2 errors (including a database error: the service would fail
// closed with a gRPC error).
int RunExplain(const CliArgs& args);

}  // namespace hookguard::cli

#endif  // HOOKGUARD_TOOLS_HOOKGUARD_OPERATOR_COMMANDS_H_

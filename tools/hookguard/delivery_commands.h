// `hookguard sign` and `hookguard send`: test deliveries signed as the
// platform signs them, with the secrets of a hookguard configuration read as
// hookguard-server reads them (LoadServerSpec, EnvAndFileSecretSource) and
// the server's own signature code (SignDelivery).
#ifndef HOOKGUARD_TOOLS_HOOKGUARD_DELIVERY_COMMANDS_H_
#define HOOKGUARD_TOOLS_HOOKGUARD_DELIVERY_COMMANDS_H_

#include <set>
#include <string>

#include "tools/hookguard/cli_args.h"

namespace hookguard::cli {

// The flags both commands take (the body, its edits, the profile and what
// is signed besides the body).
std::set<std::string, std::less<>> DeliveryFlags();

// hookguard sign [--config=FILE] [--profile=P] (--body=FILE|- | --fixture=NAME)
//                [--call_id=ID] [--assistant_id=ID] [--phone_number_id=ID]
//                [--set=PATH=TEXT | --set=PATH:=JSON]... [--timestamp=DIGITS]
//                [--message_id=ID] [--key_id=K] [--method=POST] [--url=URL]
//                [--body_out=FILE]
// Prints the headers the platform sends for the body, one `name: value` a
// line, and writes the exact body bytes to --body_out (for --fixture and
// edits). Exit 0, or 2 with a message (bad flags, config, secret, body).
int RunSign(const CliArgs& args);

// hookguard send --url=URL [the flags of sign] [--header='Name: value']...
//                [--content_type=application/json] [--timeout_ms=10000]
//                [--tls_ca=PEM]
// Signs as `sign` does and POSTs the body with those headers to --url
// (http, or https verified with the system's CA certificates or --tls_ca),
// then prints
// `HTTP <status>` and the response body. Exit 0 for a 2xx answer, 1 for any
// other status, 2 when nothing was sent or no answer came.
int RunSend(const CliArgs& args);

}  // namespace hookguard::cli

#endif  // HOOKGUARD_TOOLS_HOOKGUARD_DELIVERY_COMMANDS_H_

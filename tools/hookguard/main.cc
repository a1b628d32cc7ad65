// hookguard: calls the service from a shell, and the operator tools.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/hookguard/cli_args.h"
#include "tools/hookguard/delivery_commands.h"
#include "tools/hookguard/operator_commands.h"
#include "tools/hookguard/rpc_commands.h"

namespace hookguard::cli {
namespace {

struct Command {
  const char* name;
  const char* usage;
  std::set<std::string, std::less<>> flags;  // besides ConnectionFlags() for RPC commands
  bool rpc;
  std::function<int(const CliArgs&)> run;
};

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{
      {"verify",
       "verify --body=FILE|- [--header='Name: value']... [--profile=P] [--method=M] [--url=U]\n"
       "    VerifySignature: exit 0 only when the signature is VALID.",
       {"body", "header", "profile", "method", "url"},
       true,
       RunVerify},
      {"authorize",
       "authorize --call_id=ID [--assistant_id=ID] [--phone_number_id=ID] [--type=T] "
       "[--org_id=ID] [--expected_owner=USER]\n"
       "    AuthorizeCallEvent: exit 0 only on ALLOW.",
       {"call_id", "assistant_id", "phone_number_id", "type", "org_id", "expected_owner"},
       true,
       RunAuthorize},
      {"webhook",
       "webhook --body=FILE|- [--header='Name: value']... [--profile=P] [--method=M] [--url=U]\n"
       "        [--expected_owner=USER]\n"
       "    AuthorizeWebhook (verify, parse, authorize): exit 0 only on ALLOW. --url is the full\n"
       "    URL the platform requested (a twilio profile signs it).",
       {"body", "header", "profile", "method", "url", "expected_owner"},
       true,
       RunWebhook},
      {"health",
       "health [--service=NAME]\n    grpc.health.v1 Check: exit 0 only when SERVING.",
       {"service"},
       true,
       RunHealth},
      {"audit-db",
       "audit-db [--db=CONN] [--config=FILE] [--format=table|json] [--timeout_ms=30000]\n"
       "    Reads the ownership database (no server needed) and reports calls whose assistant or\n"
       "    phone number belongs to another user or is missing. --db defaults to $HOOKGUARD_DB.\n"
       "    Exit 0 clean, 1 findings, 2 errors.",
       {"db", "config", "format", "timeout_ms"},
       false,
       RunAuditDb},
      {"explain",
       "explain --body=FILE|- [--header='Name: value']... [--profile=P] [--method=M] [--url=U]\n"
       "        [--expected_owner=USER] [--db=CONN] [--config=FILE] [--format=text|json]\n"
       "  explain --capture=FILE [--profile=P] [--expected_owner=USER] [--db=CONN] "
       "[--config=FILE]\n"
       "        [--format=text|json]\n"
       "  explain --call_id=ID [--assistant_id=ID] [--phone_number_id=ID] [--expected_owner=USER]\n"
       "        [--db=CONN] [--config=FILE] [--format=text|json]\n"
       "    Runs the service's checks locally (config, secrets and database as hookguard-server\n"
       "    reads them) and prints each step, the decision and the http_status the service\n"
       "    answers. --capture replays a delivery saved by a client's capture helper (format\n"
       "    hookguard-capture/v1) and shows the answer the app got then. Exit 0 ALLOW, 1 deny,\n"
       "    2 errors.",
       {"body", "capture", "header", "profile", "method", "url", "call_id", "assistant_id",
        "phone_number_id", "type", "org_id", "expected_owner", "db", "config", "format",
        "timeout_ms"},
       false,
       RunExplain},
      {"sign",
       "sign [--config=FILE] [--profile=P] (--body=FILE|- | --fixture=NAME)\n"
       "        [--call_id=ID] [--assistant_id=ID] [--phone_number_id=ID]\n"
       "        [--set=PATH=TEXT | --set=PATH:=JSON]... [--timestamp=DIGITS] [--message_id=ID]\n"
       "        [--key_id=K] [--method=POST] [--url=URL] [--body_out=FILE]\n"
       "    Prints the headers the platform sends for the body (`name: value` a line), signed\n"
       "    with the profile's first secret (or --key_id) read as hookguard-server reads it\n"
       "    (no --config: $VAPI_WEBHOOK_SECRET). --fixture signs a VAPI message of the\n"
       "    repository (tests/fixtures/vapi, built in: status-update, assistant-request, ...);\n"
       "    --call_id/--assistant_id/--phone_number_id set those ids wherever the message has\n"
       "    them (call, chat, session, phoneNumber); --set=message.call.orgId=X sets any key\n"
       "    (PATH:=JSON for raw JSON such as null). --body_out writes the exact bytes signed.\n"
       "    Timestamp: now (milliseconds for x-timestamp, as VAPI sends it, else seconds);\n"
       "    message id: msg_<random> when the scheme has one. Exit 0, 2 errors.",
       DeliveryFlags(), false, RunSign},
      {"send",
       "send --url=URL [the flags of sign] [--header='Name: value']...\n"
       "        [--content_type=application/json] [--timeout_ms=10000] [--tls_ca=PEM]\n"
       "    Signs as sign does, POSTs the delivery to the app's endpoint (http, or https\n"
       "    verified with the system's CA certificates or --tls_ca) and prints `HTTP <status>`\n"
       "    and the app's answer. Exit 0 for 2xx, 1 for another status, 2 when nothing was\n"
       "    sent or no answer came.",
       [] {
         auto flags = DeliveryFlags();
         flags.insert({"header", "content_type", "timeout_ms", "tls_ca"});
         return flags;
       }(),
       false, RunSend},
  };
  return *commands;
}

void PrintUsage(std::FILE* out) {
  std::fprintf(
      out,
      "hookguard: call a hookguard server from a shell; audit-db, explain, sign and send work "
      "without one.\n\n"
      "Usage: hookguard COMMAND [--flag=value]...\n\nCommands:\n");
  for (const Command& c : Commands()) std::fprintf(out, "  %s\n", c.usage);
  std::fprintf(out,
               "\nConnection flags (RPC commands): --target=HOST:PORT (default $HOOKGUARD_TARGET "
               "or 127.0.0.1:50051)\n  --timeout_ms=2000 --format=text|json --tls_ca=PEM "
               "--tls_cert=PEM --tls_key=PEM --tls_server_name=NAME\n\n"
               "Exit codes: 0 valid/allowed/serving, 1 denied or invalid, 2 usage or RPC error "
               "(fail closed).\n");
}

}  // namespace
}  // namespace hookguard::cli

int main(int argc, char** argv) {
  using namespace hookguard::cli;
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
    PrintUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (const Command& command : Commands()) {
    if (name != command.name) continue;
    std::vector<std::string> rest(argv + 2, argv + argc);
    if (!rest.empty() && rest[0] == "--help") {
      std::printf("Usage: hookguard %s\n", command.usage);
      return 0;
    }
    auto flags = command.flags;
    if (command.rpc) flags.merge(ConnectionFlags());
    absl::StatusOr<CliArgs> args = CliArgs::Parse(rest, flags);
    if (!args.ok()) {
      std::fprintf(stderr, "hookguard %s: %s\nUsage: hookguard %s\n", command.name,
                   std::string(args.status().message()).c_str(), command.usage);
      return 2;
    }
    return command.run(*args);
  }
  std::fprintf(stderr, "hookguard: unknown command \"%s\"\n\n", name.c_str());
  PrintUsage(stderr);
  return 2;
}

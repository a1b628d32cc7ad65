// hookguard: calls the service from a shell, and the operator tools.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/hookguard/cli_args.h"
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
       "  explain --call_id=ID [--assistant_id=ID] [--phone_number_id=ID] [--expected_owner=USER]\n"
       "        [--db=CONN] [--config=FILE] [--format=text|json]\n"
       "    Runs the service's checks locally (config, secrets and database as hookguard-server\n"
       "    reads them) and prints each step, the decision and the http_status the service\n"
       "    answers. Exit 0 ALLOW, 1 deny, 2 errors.",
       {"body", "header", "profile", "method", "url", "call_id", "assistant_id", "phone_number_id",
        "type", "org_id", "expected_owner", "db", "config", "format", "timeout_ms"},
       false,
       RunExplain},
  };
  return *commands;
}

void PrintUsage(std::FILE* out) {
  std::fprintf(
      out,
      "hookguard: call a hookguard server from a shell; audit-db and explain work without one.\n\n"
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

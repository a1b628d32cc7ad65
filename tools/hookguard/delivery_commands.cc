#include "tools/hookguard/delivery_commands.h"

// https for `send`: Debian's libcpp-httplib is built with OpenSSL.
#define CPPHTTPLIB_OPENSSL_SUPPORT
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "httplib.h"
#include "server/audit/decision_id.h"
#include "server/audit/json_string.h"
#include "server/config/secret_source.h"
#include "server/config/server_spec.h"
#include "server/signature/signer.h"
#include "tools/hookguard/json_edit.h"
#include "tools/hookguard/rpc_commands.h"
#include "tools/hookguard/vapi_fixtures.h"

namespace hookguard::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitNot2xx = 1;
constexpr int kExitError = 2;

using Headers = std::vector<std::pair<std::string, std::string>>;

int Fail(absl::string_view command, absl::string_view message) {
  std::fprintf(stderr, "hookguard %s: %s\n", std::string(command).c_str(),
               std::string(message).c_str());
  return kExitError;
}

// What the id shortcuts set: every path whose object the body has (both
// payload shapes; a chat or session names its assistant too).
struct IdShortcut {
  const char* flag;
  std::vector<const char*> paths;
};
const std::vector<IdShortcut>& IdShortcuts() {
  static const auto* shortcuts = new std::vector<IdShortcut>{
      {"call_id", {"message.call.id", "call.id"}},
      {"assistant_id",
       {"message.call.assistantId", "message.chat.assistantId", "message.session.assistantId",
        "call.assistantId"}},
      {"phone_number_id",
       {"message.call.phoneNumberId", "message.phoneNumber.id", "call.phoneNumberId"}},
  };
  return *shortcuts;
}

absl::StatusOr<std::string> FixtureBody(absl::string_view name) {
  std::vector<std::string> names;
  for (const EmbeddedFixture& f : VapiFixtures()) {
    if (name == f.name) return std::string(f.body);
    names.push_back(f.name);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--fixture: no fixture \"", name, "\"; the fixtures are: ", absl::StrJoin(names, ", ")));
}

// The body of --body or --fixture, with the id shortcuts and every --set
// applied in that order.
absl::StatusOr<std::string> Body(const CliArgs& args) {
  if (args.Has("body") == args.Has("fixture")) {
    return absl::InvalidArgumentError("give either --body=FILE|- or --fixture=NAME");
  }
  absl::StatusOr<std::string> body =
      args.Has("body") ? ReadAll(args.Get("body")) : FixtureBody(args.Get("fixture"));
  if (!body.ok()) return body.status();
  // A fixture's ids are the repository's test data. Once --call_id names
  // your call, its assistant and phone number ids you did not give would name
  // another tenant's (a sure 403): they are cleared to null, so the delivery
  // names only ids you gave (an unnamed id is not compared).
  const bool clear_fixture_ids = args.Has("fixture") && args.Has("call_id");
  for (const IdShortcut& shortcut : IdShortcuts()) {
    if (!args.Has(shortcut.flag)) {
      if (!clear_fixture_ids) continue;
      for (absl::string_view path : shortcut.paths) {
        if (!HasJsonKeyAt(*body, path)) continue;
        absl::StatusOr<std::string> edited = SetJsonValue(*body, path, "null");
        if (!edited.ok()) return edited.status();
        body = *std::move(edited);
      }
      continue;
    }
    bool set = false;
    for (absl::string_view path : shortcut.paths) {
      const size_t dot = path.rfind('.');
      if (!IsJsonObjectAt(*body, path.substr(0, dot))) continue;
      absl::StatusOr<std::string> edited =
          SetJsonValue(*body, path, JsonString(args.Get(shortcut.flag)));
      if (!edited.ok()) return edited.status();
      body = *std::move(edited);
      set = true;
    }
    if (!set) {
      return absl::InvalidArgumentError(absl::StrCat("--", shortcut.flag, ": the body has none of ",
                                                     absl::StrJoin(shortcut.paths, ", "),
                                                     " (no such object); use --set=PATH=VALUE"));
    }
  }
  for (const std::string& set : args.GetAll("set")) {
    const size_t eq = set.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--set must be PATH=TEXT or PATH:=JSON, got \"", set, "\""));
    }
    const bool raw = set[eq - 1] == ':';
    const std::string path = set.substr(0, raw ? eq - 1 : eq);
    const std::string value = set.substr(eq + 1);
    absl::StatusOr<std::string> edited = SetJsonValue(*body, path, raw ? value : JsonString(value));
    if (!edited.ok())
      return absl::InvalidArgumentError(absl::StrCat("--set: ", edited.status().message()));
    body = *std::move(edited);
  }
  return body;
}

// --timestamp, else now: in milliseconds for a scheme whose timestamp
// travels in VAPI's x-timestamp header (preset vapi-hmac), as VAPI sends it;
// in seconds for every other scheme.
absl::StatusOr<std::string> Timestamp(const CliArgs& args, const SignatureScheme& scheme) {
  if (args.Has("timestamp")) return args.Get("timestamp");
  const absl::Time now = absl::Now();
  if (NeedsOf(scheme).timestamp_in_milliseconds) return absl::StrCat(absl::ToUnixMillis(now));
  return absl::StrCat(absl::ToUnixSeconds(now));
}

struct Delivery {
  std::string body;
  Headers headers;
};

absl::StatusOr<Delivery> Sign(const CliArgs& args) {
  absl::StatusOr<std::string> body = Body(args);
  if (!body.ok()) return body.status();
  // The configuration and its secrets, exactly as hookguard-server reads
  // them (no --config: the default profile and $VAPI_WEBHOOK_SECRET).
  const EnvAndFileSecretSource secrets;
  absl::StatusOr<ServerSpec> spec = LoadServerSpec(args.Get("config"), &secrets);
  if (!spec.ok()) return spec.status();
  const ProfileSpec* profile = spec->Find(args.Get("profile"));
  if (profile == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--profile: no profile \"", args.Get("profile"), "\" in the configuration"));
  }
  const SecretKey* key = nullptr;
  for (const SecretKey& k : profile->keys) {
    if (!args.Has("key_id") || k.key_id == args.Get("key_id")) {
      key = &k;
      break;
    }
  }
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--key_id: profile \"", profile->name, "\" has no secret \"", args.Get("key_id"), "\""));
  }
  const SignNeeds needs = NeedsOf(profile->scheme);
  std::string timestamp, message_id;
  if (needs.timestamp) {
    absl::StatusOr<std::string> ts = Timestamp(args, profile->scheme);
    if (!ts.ok()) return ts.status();
    timestamp = *std::move(ts);
  }
  if (needs.message_id) {
    message_id = args.Has("message_id") ? args.Get("message_id")
                                        : absl::StrCat("msg_", DecisionIdGenerator().Next());
  }
  const std::string method = args.Get("method", "POST");
  const std::string url = args.Get("url");
  SignInput input;  // views of the strings above
  input.body = *body;
  input.method = method;
  input.url = url;
  input.timestamp = timestamp;
  input.message_id = message_id;
  absl::StatusOr<Headers> headers = SignDelivery(profile->scheme, key->key, input);
  if (!headers.ok()) {
    return absl::Status(
        headers.status().code(),
        absl::StrCat("profile \"", profile->name, "\": ", headers.status().message(),
                     needs.url && input.url.empty() ? " (give --url)" : ""));
  }
  return Delivery{*std::move(body), *std::move(headers)};
}

absl::Status WriteBody(const CliArgs& args, const std::string& body) {
  if (!args.Has("body_out")) return absl::OkStatus();
  std::ofstream out(args.Get("body_out"), std::ios::binary | std::ios::trunc);
  out << body;
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", args.Get("body_out")));
  return absl::OkStatus();
}

// "https://host:port/path?q" -> ("https://host:port", "/path?q").
absl::StatusOr<std::pair<std::string, std::string>> SplitUrl(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos ||
      (url.substr(0, scheme_end) != "http" && url.substr(0, scheme_end) != "https")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--url must start with http:// or https://, got \"", url, "\""));
  }
  const size_t path = url.find('/', scheme_end + 3);
  if (path == absl::string_view::npos) return std::pair{std::string(url), std::string("/")};
  return std::pair{std::string(url.substr(0, path)), std::string(url.substr(path))};
}

}  // namespace

std::set<std::string, std::less<>> DeliveryFlags() {
  return {"config",       "profile",         "body", "fixture",   "call_id",
          "assistant_id", "phone_number_id", "set",  "timestamp", "message_id",
          "key_id",       "method",          "url",  "body_out"};
}

int RunSign(const CliArgs& args) {
  constexpr absl::string_view kCommand = "sign";
  absl::StatusOr<Delivery> delivery = Sign(args);
  if (!delivery.ok()) return Fail(kCommand, delivery.status().message());
  if (absl::Status s = WriteBody(args, delivery->body); !s.ok()) {
    return Fail(kCommand, s.message());
  }
  for (const auto& [name, value] : delivery->headers) {
    std::printf("%s: %s\n", name.c_str(), value.c_str());
  }
  return kExitOk;
}

int RunSend(const CliArgs& args) {
  constexpr absl::string_view kCommand = "send";
  if (!args.Has("url")) return Fail(kCommand, "--url=URL (the app's webhook endpoint) is required");
  absl::StatusOr<std::pair<std::string, std::string>> url = SplitUrl(args.Get("url"));
  if (!url.ok()) return Fail(kCommand, url.status().message());
  int timeout_ms = 10000;
  if (args.Has("timeout_ms") &&
      (!absl::SimpleAtoi(args.Get("timeout_ms"), &timeout_ms) || timeout_ms < 1)) {
    return Fail(kCommand, "--timeout_ms must be a positive number of milliseconds");
  }
  absl::StatusOr<Delivery> delivery = Sign(args);
  if (!delivery.ok()) return Fail(kCommand, delivery.status().message());
  if (absl::Status s = WriteBody(args, delivery->body); !s.ok()) {
    return Fail(kCommand, s.message());
  }
  httplib::Headers headers;
  for (const auto& [name, value] : delivery->headers) headers.emplace(name, value);
  for (const std::string& header : args.GetAll("header")) {
    absl::StatusOr<std::pair<std::string, std::string>> parsed = ParseHeaderFlag(header);
    if (!parsed.ok()) return Fail(kCommand, parsed.status().message());
    headers.emplace(parsed->first, parsed->second);
  }
  httplib::Client client(url->first);
  client.set_connection_timeout(std::chrono::milliseconds(timeout_ms));
  client.set_read_timeout(std::chrono::milliseconds(timeout_ms));
  client.set_write_timeout(std::chrono::milliseconds(timeout_ms));
  client.enable_server_certificate_verification(true);
  if (args.Has("tls_ca")) client.set_ca_cert_path(args.Get("tls_ca"));
  const std::string method = args.Get("method", "POST");
  if (method != "POST") return Fail(kCommand, "--method: send posts (POST) only");
  httplib::Result result = client.Post(url->second, headers, delivery->body,
                                       args.Get("content_type", "application/json"));
  if (!result) {
    return Fail(kCommand, absl::StrCat("no answer from ", args.Get("url"), ": ",
                                       httplib::to_string(result.error())));
  }
  std::printf("HTTP %d\n%s", result->status, result->body.c_str());
  if (!result->body.empty() && result->body.back() != '\n') std::printf("\n");
  return result->status >= 200 && result->status < 300 ? kExitOk : kExitNot2xx;
}

}  // namespace hookguard::cli

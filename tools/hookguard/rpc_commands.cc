#include "tools/hookguard/rpc_commands.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "hookguard/v1/hookguard.grpc.pb.h"

namespace hookguard::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitDenied = 1;
constexpr int kExitError = 2;

int UsageError(const std::string& message) {
  std::fprintf(stderr, "hookguard: %s\n", message.c_str());
  return kExitError;
}

std::shared_ptr<grpc::Channel> Connect(const CliArgs& args, std::string* error) {
  std::string target = args.Get("target");
  if (target.empty()) {
    const char* env = std::getenv("HOOKGUARD_TARGET");
    target = env != nullptr ? env : "127.0.0.1:50051";
  }
  const std::string ca = args.Get("tls_ca"), cert = args.Get("tls_cert"), key = args.Get("tls_key");
  if (ca.empty() && cert.empty() && key.empty()) {
    return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions tls;
  for (auto [path, field] :
       {std::pair{ca, &tls.pem_root_certs}, std::pair{cert, &tls.pem_cert_chain},
        std::pair{key, &tls.pem_private_key}}) {
    if (path.empty()) continue;
    absl::StatusOr<std::string> pem = ReadAll(path);
    if (!pem.ok()) {
      *error = std::string(pem.status().message());
      return nullptr;
    }
    *field = *std::move(pem);
  }
  grpc::ChannelArguments channel_args;
  if (args.Has("tls_server_name")) {
    channel_args.SetSslTargetNameOverride(args.Get("tls_server_name"));
  }
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(tls), channel_args);
}

void SetDeadline(const CliArgs& args, grpc::ClientContext* context) {
  int timeout_ms = 2000;
  (void)absl::SimpleAtoi(args.Get("timeout_ms", "2000"), &timeout_ms);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
}

int RpcFailed(const grpc::Status& status) {
  std::fprintf(stderr, "hookguard: RPC failed: %s: %s\n",
               absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())).c_str(),
               status.error_message().c_str());
  std::fprintf(stderr, "hookguard: fail closed: do not process this webhook (answer 503)\n");
  return kExitError;
}

void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::printf("%s\n", json.c_str());
}

void PrintField(const char* name, const std::string& value) {
  if (!value.empty()) std::printf("%-12s %s\n", name, value.c_str());
}

}  // namespace

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  std::ostringstream out;
  if (path == "-") {
    out << std::cin.rdbuf();
    return out.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  out << in.rdbuf();
  return out.str();
}

absl::StatusOr<std::pair<std::string, std::string>> ParseHeaderFlag(absl::string_view header) {
  const size_t colon = header.find(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--header must be 'Name: value', got '", header.substr(0, 40), "'"));
  }
  return std::pair{std::string(header.substr(0, colon)),
                   std::string(absl::StripLeadingAsciiWhitespace(header.substr(colon + 1)))};
}

absl::Status ReadHttpRequest(const CliArgs& args, v1::HttpRequest* request) {
  if (!args.Has("body"))
    return absl::InvalidArgumentError("--body=FILE (or - for stdin) is required");
  absl::StatusOr<std::string> body = ReadAll(args.Get("body"));
  if (!body.ok()) return body.status();
  request->set_body(*std::move(body));
  for (const std::string& header : args.GetAll("header")) {
    absl::StatusOr<std::pair<std::string, std::string>> parsed = ParseHeaderFlag(header);
    if (!parsed.ok()) return parsed.status();
    (*request->mutable_headers())[parsed->first] = std::move(parsed->second);
  }
  request->set_method(args.Get("method"));
  request->set_url(args.Get("url"));
  return absl::OkStatus();
}

std::set<std::string, std::less<>> ConnectionFlags() {
  return {"target", "timeout_ms", "format", "tls_ca", "tls_cert", "tls_key", "tls_server_name"};
}

namespace {

// Connects, calls one WebhookAuthService RPC with the deadline, and prints the
// response as JSON (--format=json) or with `print_text`. Exit code: 0 when
// `accepted(response)`, 1 for any other answer, 2 when the RPC failed.
template <typename Request, typename Response, typename Print, typename Accepted>
int CallAndPrint(const CliArgs& args, const Request& request,
                 grpc::Status (v1::WebhookAuthService::Stub::*rpc)(grpc::ClientContext*,
                                                                   const Request&, Response*),
                 Print print_text, Accepted accepted) {
  std::string error;
  auto channel = Connect(args, &error);
  if (channel == nullptr) return UsageError(error);
  grpc::ClientContext context;
  SetDeadline(args, &context);
  Response response;
  auto stub = v1::WebhookAuthService::NewStub(channel);
  grpc::Status status = ((*stub).*rpc)(&context, request, &response);
  if (!status.ok()) return RpcFailed(status);
  if (args.Get("format") == "json") {
    PrintJson(response);
  } else {
    print_text(response);
  }
  return accepted(response) ? kExitOk : kExitDenied;
}

// The lines both authorization responses share.
template <typename Response>
void PrintDecision(const Response& response) {
  std::printf("%-12s %s (http %d)\n", "decision", v1::Decision_Name(response.decision()).c_str(),
              response.http_status());
  if (response.reason() != v1::DENY_REASON_UNSPECIFIED) {
    PrintField("reason", v1::DenyReason_Name(response.reason()));
  }
}

template <typename Response>
bool Allowed(const Response& response) {
  return response.decision() == v1::DECISION_ALLOW;
}

}  // namespace

int RunVerify(const CliArgs& args) {
  v1::VerifySignatureRequest request;
  request.set_profile(args.Get("profile"));
  if (absl::Status s = ReadHttpRequest(args, request.mutable_request()); !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  return CallAndPrint(
      args, request, &v1::WebhookAuthService::Stub::VerifySignature,
      [](const v1::VerifySignatureResponse& response) {
        std::printf("%-12s %s (http %d)\n", "signature",
                    v1::SignatureResult_Name(response.result()).c_str(), response.http_status());
        PrintField("key_id", response.key_id());
        PrintField("message_id", response.message_id());
        if (response.timestamp_unix() != 0) {
          PrintField("timestamp", std::to_string(response.timestamp_unix()));
        }
        PrintField("detail", response.detail());
      },
      [](const v1::VerifySignatureResponse& response) {
        return response.result() == v1::SIGNATURE_RESULT_VALID;
      });
}

v1::CallEvent CallEventFromFlags(const CliArgs& args) {
  v1::CallEvent event;
  event.set_type(args.Get("type"));
  event.set_call_id(args.Get("call_id"));
  event.set_assistant_id(args.Get("assistant_id"));
  event.set_phone_number_id(args.Get("phone_number_id"));
  event.set_org_id(args.Get("org_id"));
  return event;
}

int RunAuthorize(const CliArgs& args) {
  v1::AuthorizeCallEventRequest request;
  *request.mutable_event() = CallEventFromFlags(args);
  request.set_expected_owner_id(args.Get("expected_owner"));
  return CallAndPrint(
      args, request, &v1::WebhookAuthService::Stub::AuthorizeCallEvent,
      [](const v1::AuthorizeCallEventResponse& response) {
        PrintDecision(response);
        PrintField("owner_id", response.owner_id());
        PrintField("decision_id", response.decision_id());
        PrintField("detail", response.detail());
      },
      Allowed<v1::AuthorizeCallEventResponse>);
}

int RunWebhook(const CliArgs& args) {
  v1::AuthorizeWebhookRequest request;
  request.set_profile(args.Get("profile"));
  request.set_expected_owner_id(args.Get("expected_owner"));
  if (absl::Status s = ReadHttpRequest(args, request.mutable_request()); !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  return CallAndPrint(
      args, request, &v1::WebhookAuthService::Stub::AuthorizeWebhook,
      [](const v1::AuthorizeWebhookResponse& response) {
        PrintDecision(response);
        PrintField("signature", v1::SignatureResult_Name(response.signature()));
        PrintField("key_id", response.key_id());
        PrintField("call_id", response.event().call_id());
        PrintField("owner_id", response.owner_id());
        PrintField("decision_id", response.decision_id());
        PrintField("detail", response.detail());
      },
      Allowed<v1::AuthorizeWebhookResponse>);
}

int RunHealth(const CliArgs& args) {
  std::string error;
  auto channel = Connect(args, &error);
  if (channel == nullptr) return UsageError(error);
  grpc::ClientContext context;
  SetDeadline(args, &context);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(args.Get("service"));
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status =
      grpc::health::v1::Health::NewStub(channel)->Check(&context, request, &response);
  if (!status.ok()) return RpcFailed(status);
  std::printf("%s\n",
              grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()).c_str());
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kExitOk
                                                                             : kExitDenied;
}

}  // namespace hookguard::cli

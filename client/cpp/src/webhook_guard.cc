#include "hookguard/client/webhook_guard.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <iostream>

namespace hookguard {

std::unique_ptr<GrpcWebhookGuard> GrpcWebhookGuard::Create(const std::string& target,
                                                           const GrpcWebhookGuardOptions& options) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options.use_tls || !options.ca_pem.empty() || !options.cert_pem.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.ca_pem;
    ssl.pem_cert_chain = options.cert_pem;
    ssl.pem_private_key = options.key_pem;
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  if (!options.service_config.empty()) args.SetServiceConfigJSON(options.service_config);
  return std::make_unique<GrpcWebhookGuard>(grpc::CreateCustomChannel(target, creds, args),
                                            options);
}

GrpcWebhookGuard::GrpcWebhookGuard(std::shared_ptr<grpc::ChannelInterface> channel,
                                   std::chrono::milliseconds timeout, ShadowDenyLog shadow_deny_log)
    : stub_(v1::WebhookAuthService::NewStub(std::move(channel))),
      timeout_(timeout),
      shadow_deny_log_(std::move(shadow_deny_log)) {}

GrpcWebhookGuard::GrpcWebhookGuard(std::shared_ptr<grpc::ChannelInterface> channel,
                                   const GrpcWebhookGuardOptions& options)
    : stub_(v1::WebhookAuthService::NewStub(std::move(channel))),
      timeout_(options.timeout),
      shadow_deny_log_(options.shadow_deny_log),
      fail_open_(options.fail_open),
      fail_open_log_(options.fail_open_log) {}

namespace {

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    default:
      return "status code " + std::to_string(static_cast<int>(code));
  }
}

}  // namespace

void LogFailOpen(const Verdict& verdict, const std::string& profile) {
  std::clog << ("hookguard gave no decision (" + StatusCodeName(verdict.error) + ") for profile '" +
                profile + "': fail-open lets the webhook through UNVERIFIED, with no owner\n")
            << std::flush;
}

void LogShadowDeny(const Verdict& verdict) {
  // One write of a whole line, so that lines of concurrent calls do not mix.
  std::clog << ("hookguard shadow mode: let through a webhook that enforcement would deny (" +
                v1::DenyReason_Name(verdict.shadow_reason) + ", decision_id " +
                verdict.decision_id + ")\n")
            << std::flush;
}

Verdict GrpcWebhookGuard::Authorize(const WebhookRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
  v1::AuthorizeWebhookResponse response;
  grpc::Status status = stub_->AuthorizeWebhook(&context, ToProto(request), &response);
  if (!status.ok()) {
    Verdict verdict = VerdictFromStatus(status);
    if (!fail_open_) return verdict;
    verdict = FailOpenVerdict(std::move(verdict));
    if (fail_open_log_) fail_open_log_(verdict, request.profile);
    return verdict;
  }
  Verdict verdict = VerdictFromResponse(response);
  if (verdict.ShadowDeny() && shadow_deny_log_) shadow_deny_log_(verdict);
  return verdict;
}

v1::AuthorizeWebhookRequest ToProto(const WebhookRequest& request) {
  v1::AuthorizeWebhookRequest out;
  out.set_profile(request.profile);
  out.set_expected_owner_id(request.expected_owner_id);
  v1::HttpRequest* http = out.mutable_request();
  http->set_body(request.body);
  http->set_method(request.method);
  http->set_url(request.url);
  for (const auto& [name, value] : request.headers) (*http->mutable_headers())[name] = value;
  return out;
}

Verdict VerdictFromResponse(const v1::AuthorizeWebhookResponse& response) {
  Verdict v;
  v.allowed = response.decision() == v1::DECISION_ALLOW;
  v.decision = response.decision();
  v.reason = response.reason();
  v.http_status = response.http_status();
  // Trust the server's status, but never answer 2xx for a deny, nor nothing.
  if (!v.allowed && (v.http_status == 0 || (v.http_status >= 200 && v.http_status < 300))) {
    v.http_status = 403;
  }
  if (v.allowed && v.http_status == 0) v.http_status = 200;
  if (v.allowed) v.owner_id = response.owner_id();
  v.signature = response.signature();
  v.key_id = response.key_id();
  v.message_id = response.message_id();
  v.decision_id = response.decision_id();
  v.detail = response.detail();
  v.resolved_by = response.resolved_by();
  v.delivery_key = response.delivery_key();
  v.shadow_decision = response.shadow_decision();
  v.shadow_reason = response.shadow_reason();
  v.resolved_subject = response.resolved_subject();
  return v;
}

Verdict VerdictFromStatus(const grpc::Status& status) {
  Verdict v;
  v.allowed = false;
  v.http_status = kUnavailableHttpStatus;
  v.error = status.ok() ? grpc::StatusCode::UNKNOWN : status.error_code();
  v.detail = status.error_message();
  return v;
}

Verdict FailOpenVerdict(Verdict verdict) {
  if (verdict.error == grpc::StatusCode::OK || verdict.allowed) return verdict;
  verdict.allowed = true;
  verdict.http_status = 200;
  verdict.owner_id.clear();
  return verdict;
}

}  // namespace hookguard

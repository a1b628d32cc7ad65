#include "server/service/webhook_auth_service.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "server/common/echo.h"
#include "server/ownership/lookup_coalescer.h"
#include "server/service/grpc_status.h"

namespace hookguard {
namespace {

// The decision fields both authorization responses share. In shadow mode
// the outcome holds the decision enforcement would have given, so that audit
// lines and metrics read exactly as in enforce mode.
template <typename Response>
void AddDecision(const Response& response, RequestOutcome* outcome) {
  outcome->shadow = response.shadow_decision() != v1::DECISION_UNSPECIFIED;
  outcome->decision = outcome->shadow ? response.shadow_decision() : response.decision();
  outcome->reason = outcome->shadow ? response.shadow_reason() : response.reason();
  outcome->decision_id = response.decision_id();
  outcome->owner_id = response.owner_id();
  outcome->resolved_by = response.resolved_by();
  outcome->resolved_subject = CapEcho(response.resolved_subject());
  outcome->detail = response.detail();
}

// The event's ids, capped: an AuthorizeCallEvent caller supplies them.
void AddEvent(const v1::CallEvent& event, RequestOutcome* outcome) {
  outcome->call_id = CapEcho(event.call_id());
  outcome->event_type = CapEcho(event.type());
  outcome->assistant_id = CapEcho(event.assistant_id());
  outcome->phone_number_id = CapEcho(event.phone_number_id());
}

}  // namespace

WebhookAuthServiceImpl::WebhookAuthServiceImpl(const WebhookAuthorizer& authorizer,
                                               WorkerPool& workers, AuditLog& audit,
                                               Metrics& metrics, ServiceOptions options)
    : authorizer_(authorizer),
      workers_(workers),
      audit_(audit),
      metrics_(metrics),
      options_(std::move(options)) {}

std::string CallerOf(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    std::vector<grpc::string_ref> identity = auth->GetPeerIdentity();
    if (!identity.empty()) return std::string(identity.front().data(), identity.front().size());
  }
  return context.peer();
}

absl::Status WebhookAuthServiceImpl::CheckCaller(grpc::CallbackServerContext* context) const {
  if (options_.allowed_clients.empty()) return absl::OkStatus();
  std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::PermissionDeniedError("a client certificate is required");
  }
  // Any SAN or the CN may be the allowed identity.
  for (const char* property : {"x509_subject_alternative_name", "x509_common_name"}) {
    for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
      if (options_.allowed_clients.count(absl::string_view(value.data(), value.size())) > 0) {
        return absl::OkStatus();
      }
    }
  }
  return absl::PermissionDeniedError("client identity is not on the allowlist");
}

absl::Time WebhookAuthServiceImpl::DatabaseDeadline(grpc::CallbackServerContext* context,
                                                    absl::Time now) const {
  const absl::Time cap = now + options_.db_timeout;
  const auto call_deadline = context->deadline();
  if (call_deadline == std::chrono::system_clock::time_point::max()) return cap;
  if (options_.wait_for_locks_until_call_deadline) return absl::FromChrono(call_deadline);
  return std::min(cap, absl::FromChrono(call_deadline));
}

void WebhookAuthServiceImpl::Finish(grpc::CallbackServerContext* context,
                                    grpc::ServerUnaryReactor* reactor, const absl::Status& status,
                                    RequestOutcome outcome, absl::Time start) {
  outcome.latency = absl::Now() - start;
  outcome.caller = CapEcho(CallerOf(*context));
  outcome.code = status.code();
  if (!status.ok()) outcome.detail = std::string(status.message());
  metrics_.ObserveRequest(outcome);
  // With requests queued behind this one, or finishing right after it on
  // this thread (a batch of lookups answered together), the audit line may
  // wait for the last of them (AuditLog batches the write).
  audit_.Decision(
      std::move(outcome),
      /*more_coming=*/workers_.queued() > 0 || LookupCoalescer::AnswersFollowingOnThisThread() > 0);
  reactor->Finish(ToGrpcStatus(status));
}

// Every RPC runs on the worker pool, not on gRPC's thread: a lookup sent at
// once blocks in the database driver, and gRPC's few callback threads must
// stay free to receive (and to answer health checks) while it does. A lookup
// that queues for a connection holds no thread: the request is finished by
// the worker that runs its batch. The hop pays for
// itself on CPU work too: measured with tests/load/ab.py on 2 cores, doing
// VerifySignature, or verify and parse before a cached lookup, on gRPC's
// thread instead was 12-21% slower at saturation (docs/dev/benchmark-history.md).

template <typename Run, typename Describe>
grpc::ServerUnaryReactor* WebhookAuthServiceImpl::Serve(grpc::CallbackServerContext* context,
                                                        Rpc rpc, Run run, Describe describe) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  workers_.Schedule([this, context, reactor, rpc, start, run = std::move(run),
                     describe = std::move(describe)] {
    run(CheckCaller(context), [this, context, reactor, rpc, start, describe](absl::Status status) {
      RequestOutcome outcome;
      outcome.rpc = rpc;
      describe(status, &outcome);
      Finish(context, reactor, status, std::move(outcome), start);
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* WebhookAuthServiceImpl::VerifySignature(
    grpc::CallbackServerContext* context, const v1::VerifySignatureRequest* request,
    v1::VerifySignatureResponse* response) {
  return Serve(
      context, Rpc::kVerifySignature,
      [this, request, response](absl::Status status,
                                const std::function<void(absl::Status)>& done) {
        if (status.ok()) status = authorizer_.VerifySignature(*request, absl::Now(), response);
        done(status);
      },
      [request, response](const absl::Status& status, RequestOutcome* outcome) {
        outcome->profile = CapEcho(request->profile());
        if (!status.ok()) return;
        outcome->signature = response->result();
        outcome->key_id = response->key_id();
        outcome->message_id = CapEcho(response->message_id());
        outcome->detail = response->detail();
      });
}

grpc::ServerUnaryReactor* WebhookAuthServiceImpl::AuthorizeCallEvent(
    grpc::CallbackServerContext* context, const v1::AuthorizeCallEventRequest* request,
    v1::AuthorizeCallEventResponse* response) {
  return Serve(
      context, Rpc::kAuthorizeCallEvent,
      [this, context, request, response](const absl::Status& status,
                                         std::function<void(absl::Status)> done) {
        if (!status.ok()) return done(status);
        authorizer_.AuthorizeCallEventAsync(*request, DatabaseDeadline(context, absl::Now()),
                                            response, std::move(done));
      },
      [request, response](const absl::Status& status, RequestOutcome* outcome) {
        AddEvent(request->event(), outcome);
        if (status.ok()) AddDecision(*response, outcome);
      });
}

grpc::ServerUnaryReactor* WebhookAuthServiceImpl::AuthorizeWebhook(
    grpc::CallbackServerContext* context, const v1::AuthorizeWebhookRequest* request,
    v1::AuthorizeWebhookResponse* response) {
  // The subjects the body named (a subject profile), for the audit line.
  auto subjects = std::make_shared<SubjectIds>();
  return Serve(
      context, Rpc::kAuthorizeWebhook,
      [this, context, request, response, subjects](const absl::Status& status,
                                                   std::function<void(absl::Status)> done) {
        if (!status.ok()) return done(status);
        const absl::Time now = absl::Now();
        authorizer_.AuthorizeWebhookAsync(*request, now, DatabaseDeadline(context, now), response,
                                          std::move(done), subjects.get());
      },
      [request, response, subjects](const absl::Status& status, RequestOutcome* outcome) {
        outcome->profile = CapEcho(request->profile());
        // The subjects are known once the signature verified, whatever the
        // lookups then answered (an outage included).
        outcome->subjects = CapEcho(FormatSubjects(*subjects));
        if (!status.ok()) return;
        outcome->signature = response->signature();
        outcome->key_id = response->key_id();
        outcome->message_id = CapEcho(response->message_id());
        AddEvent(response->event(), outcome);
        AddDecision(*response, outcome);
      });
}

}  // namespace hookguard

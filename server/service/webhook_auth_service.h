// The thin gRPC layer: converts messages and statuses, runs blocking work off
// gRPC's threads, and records each answer in the audit log and metrics.
#ifndef HOOKGUARD_SERVER_SERVICE_WEBHOOK_AUTH_SERVICE_H_
#define HOOKGUARD_SERVER_SERVICE_WEBHOOK_AUTH_SERVICE_H_

#include <functional>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "hookguard/v1/hookguard.grpc.pb.h"
#include "server/audit/audit_log.h"
#include "server/audit/request_outcome.h"
#include "server/decision/webhook_authorizer.h"
#include "server/service/metrics.h"
#include "server/service/worker_pool.h"

namespace hookguard {

struct ServiceOptions {
  // Upper bound of one database lookup; the call's own deadline, when
  // sooner, wins.
  absl::Duration db_timeout = absl::Milliseconds(250);
  // SQLite: a lookup may wait for the app's write lock until the call's own
  // deadline (db_timeout then applies only to calls without one), since the
  // app holding its lock is no fault of the database (threat row 22).
  bool wait_for_locks_until_call_deadline = false;
  // When not empty, only callers whose verified client certificate carries
  // one of these identities (SAN or CN) are served; others get
  // PERMISSION_DENIED. Needs mutual TLS.
  std::set<std::string, std::less<>> allowed_clients;
};

// The caller's identity, for the audit log: the client certificate's first
// identity (SAN or CN) under mutual TLS, else the peer address.
std::string CallerOf(const grpc::ServerContextBase& context);

// All referenced objects are not owned and must outlive the service.
class WebhookAuthServiceImpl final : public v1::WebhookAuthService::CallbackService {
 public:
  WebhookAuthServiceImpl(const WebhookAuthorizer& authorizer, WorkerPool& workers, AuditLog& audit,
                         Metrics& metrics, ServiceOptions options);

  grpc::ServerUnaryReactor* VerifySignature(grpc::CallbackServerContext* context,
                                            const v1::VerifySignatureRequest* request,
                                            v1::VerifySignatureResponse* response) override;

  grpc::ServerUnaryReactor* AuthorizeCallEvent(grpc::CallbackServerContext* context,
                                               const v1::AuthorizeCallEventRequest* request,
                                               v1::AuthorizeCallEventResponse* response) override;

  grpc::ServerUnaryReactor* AuthorizeWebhook(grpc::CallbackServerContext* context,
                                             const v1::AuthorizeWebhookRequest* request,
                                             v1::AuthorizeWebhookResponse* response) override;

 private:
  // PERMISSION_DENIED when an allowlist is set and the caller is not on it.
  absl::Status CheckCaller(grpc::CallbackServerContext* context) const;
  // min(call deadline, now + db_timeout); the call's deadline itself when
  // it has one and wait_for_locks_until_call_deadline is set.
  absl::Time DatabaseDeadline(grpc::CallbackServerContext* context, absl::Time now) const;
  // Runs an RPC on a worker: `run(caller_status, done)` answers (when the
  // caller check passed) and calls `done(status)` exactly once, on any
  // thread; then `describe(status, &outcome)` fills in the outcome from the
  // request and response, and Finish. Returns the call's reactor.
  template <typename Run, typename Describe>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context, Rpc rpc, Run run,
                                  Describe describe);
  // Completes `outcome` with the status, caller and latency, counts it in
  // the metrics and writes its audit line, then finishes the call.
  void Finish(grpc::CallbackServerContext* context, grpc::ServerUnaryReactor* reactor,
              const absl::Status& status, RequestOutcome outcome, absl::Time start);

  const WebhookAuthorizer& authorizer_;
  WorkerPool& workers_;
  AuditLog& audit_;
  Metrics& metrics_;
  const ServiceOptions options_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SERVICE_WEBHOOK_AUTH_SERVICE_H_

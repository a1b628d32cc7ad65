// Requests whose bytes do not parse: answered INVALID_ARGUMENT, logged and
// counted like every other failed call.
#ifndef HOOKGUARD_SERVER_SERVICE_UNPARSEABLE_REQUEST_INTERCEPTOR_H_
#define HOOKGUARD_SERVER_SERVICE_UNPARSEABLE_REQUEST_INTERCEPTOR_H_

#include "grpcpp/support/server_interceptor.h"
#include "server/audit/audit_log.h"
#include "server/service/metrics.h"
#include "server/service/worker_pool.h"

namespace hookguard {

// gRPC C++ (1.51) parses a request before any handler runs. When the bytes
// are not the method's message (invalid UTF-8 in a proto3 string field, a
// truncated or garbled message), it answers UNIMPLEMENTED with no message and
// the service never hears of it: no audit line, no metric. The parse failure
// does reach interceptors (the received message is null), so this one
// answers INVALID_ARGUMENT with a reason instead and records the call in the
// audit log and the metrics (rpc, caller, grpc_code, detail) as a failed
// RPC. Only WebhookAuthService's methods are intercepted (others cost
// nothing). The audit line is written on `workers`, never on gRPC's thread,
// so a stalled log does not hold gRPC's threads. The referenced objects are
// not owned and must outlive the server. Thread-safe.
class UnparseableRequestInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  UnparseableRequestInterceptorFactory(AuditLog& audit, Metrics& metrics, WorkerPool& workers)
      : audit_(audit), metrics_(metrics), workers_(workers) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  AuditLog& audit_;
  Metrics& metrics_;
  WorkerPool& workers_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SERVICE_UNPARSEABLE_REQUEST_INTERCEPTOR_H_

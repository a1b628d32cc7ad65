#include "server/service/unparseable_request_interceptor.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "server/common/echo.h"
#include "server/service/webhook_auth_service.h"

namespace hookguard {
namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr absl::string_view kServicePrefix = "/hookguard.v1.WebhookAuthService/";

class UnparseableRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  UnparseableRequestInterceptor(grpc::experimental::ServerRpcInfo* info, Rpc rpc, AuditLog& audit,
                                Metrics& metrics, WorkerPool& workers)
      : info_(info), rpc_(rpc), audit_(audit), metrics_(metrics), workers_(workers) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparseable_ = true;  // gRPC could not parse the request's bytes
    }
    if (unparseable_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const std::string detail = absl::StrCat(
          "the request is not a valid ", RpcName(rpc_),
          " request (a string field that is not UTF-8, or bytes that are not the message)");
      methods->ModifySendStatus(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, detail));
      Record(detail);
    }
    methods->Proceed();
  }

 private:
  void Record(const std::string& detail) {
    RequestOutcome outcome;
    outcome.rpc = rpc_;
    outcome.caller = CapEcho(CallerOf(*info_->server_context()));
    outcome.code = absl::StatusCode::kInvalidArgument;
    outcome.detail = detail;
    outcome.latency = absl::Now() - start_;
    metrics_.ObserveRequest(outcome);
    workers_.Schedule([&audit = audit_, outcome = std::move(outcome)]() mutable {
      audit.Decision(std::move(outcome));
    });
  }

  grpc::experimental::ServerRpcInfo* const info_;
  const Rpc rpc_;
  AuditLog& audit_;
  Metrics& metrics_;
  WorkerPool& workers_;
  const absl::Time start_ = absl::Now();
  bool unparseable_ = false;
};

}  // namespace

grpc::experimental::Interceptor* UnparseableRequestInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  absl::string_view method = info->method() != nullptr ? info->method() : "";
  if (!absl::ConsumePrefix(&method, kServicePrefix)) return nullptr;
  const std::optional<Rpc> rpc = RpcFromName(method);
  if (!rpc) return nullptr;
  return new UnparseableRequestInterceptor(info, *rpc, audit_, metrics_, workers_);
}

}  // namespace hookguard

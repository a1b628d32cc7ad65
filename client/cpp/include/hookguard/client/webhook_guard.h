// hookguard's C++ client: asks the service whether a webhook may be processed.
//
// `WebhookGuard` is the interface the web tier codes against (as Envoy's
// ext_authz `Client`): one call, `Authorize`, that never throws and never
// allows on failure. `GrpcWebhookGuard` implements it over gRPC;
// `MockWebhookGuard` (mock_webhook_guard.h) is its gMock for tests.
//
// Fail closed: any RPC error (unreachable server, deadline, any non-OK
// status) is a Verdict with allowed == false and http_status == 503, so the
// platform retries later. Unless GrpcWebhookGuardOptions::fail_open is set:
// then such a Verdict lets the webhook through unverified (allowed, 200, no
// owner, `error` set) and a warning is logged. A decision is always obeyed.
#ifndef HOOKGUARD_CLIENT_WEBHOOK_GUARD_H_
#define HOOKGUARD_CLIENT_WEBHOOK_GUARD_H_

#include <grpcpp/channel.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "hookguard/v1/hookguard.grpc.pb.h"
#include "hookguard/v1/hookguard.pb.h"

namespace hookguard {

// One webhook as the web tier received it.
struct WebhookRequest {
  std::string body;                            // the raw body, byte for byte (may hold NUL bytes)
  std::map<std::string, std::string> headers;  // matched case-insensitively by the server
  std::string profile;                         // empty: the server's default profile
  std::string expected_owner_id;               // empty: not checked
  std::string method;                          // optional, for profiles that sign it
  std::string url;                             // optional, for profiles that sign it
};

// The answer for one webhook. Process the event only when `allowed`.
struct Verdict {
  bool allowed = false;
  v1::Decision decision = v1::DECISION_UNSPECIFIED;
  v1::DenyReason reason = v1::DENY_REASON_UNSPECIFIED;
  std::string owner_id;   // set only when allowed
  int http_status = 503;  // what to answer the platform with
  v1::SignatureResult signature = v1::SIGNATURE_RESULT_UNSPECIFIED;
  std::string key_id;
  std::string message_id;
  std::string decision_id;
  std::string detail;
  // OK when a decision was obtained; otherwise the RPC's status code (and
  // allowed == false, http_status == 503).
  grpc::StatusCode error = grpc::StatusCode::OK;
  // Where owner_id came from: the call's row, or (the app has no row for the
  // call yet) its phone number or assistant.
  v1::OwnerSource resolved_by = v1::OWNER_SOURCE_UNSPECIFIED;
  // The same for every delivery of one event (retries included): deduplicate
  // on it.
  std::string delivery_key;
  // Shadow mode: what enforcement would have decided (UNSPECIFIED when
  // enforcing), and why it would have denied.
  v1::Decision shadow_decision = v1::DECISION_UNSPECIFIED;
  v1::DenyReason shadow_reason = v1::DENY_REASON_UNSPECIFIED;
  // With resolved_by OWNER_SOURCE_SUBJECT: the configured subject whose id
  // named the owner.
  std::string resolved_subject;

  // True for the ALLOW of a profile in shadow mode that enforcement would
  // have denied (shadow_reason says why): log it, do not block. owner_id is
  // then set only if the checks really found an owner.
  bool ShadowDeny() const { return allowed && shadow_decision == v1::DECISION_DENY; }
  // True when fail-open let the webhook through without any decision (`error`
  // says why): nothing was verified and owner_id is empty.
  bool FailedOpen() const { return allowed && error != grpc::StatusCode::OK; }
};

// Called by GrpcWebhookGuard with every shadow-mode ALLOW that enforcement
// would have denied. Must be thread-safe.
using ShadowDenyLog = std::function<void(const Verdict&)>;
// The default ShadowDenyLog: one line on std::clog with the shadow reason and
// the decision id (never the body, a header or a secret).
void LogShadowDeny(const Verdict& verdict);

// Called by GrpcWebhookGuard with fail_open set for every webhook it lets
// through without a decision, with the profile asked for. Must be
// thread-safe.
using FailOpenLog = std::function<void(const Verdict&, const std::string& profile)>;
// The default FailOpenLog: one warning line on std::clog with the gRPC code
// and the profile, every time (never the body, a header or a secret).
void LogFailOpen(const Verdict& verdict, const std::string& profile);

// The status answered when no decision was obtained.
inline constexpr int kUnavailableHttpStatus = 503;
// The default deadline of one call.
inline constexpr std::chrono::milliseconds kDefaultTimeout{500};
// The gRPC service config of a channel Create makes (unless the options name
// another): round_robin over every address the target resolves to (a
// Kubernetes headless Service, dns:///hookguard-headless.NS.svc:50051, gives
// one per pod), and a call that fails UNAVAILABLE (a replica going away, a
// connection reset) retried on the next replica, up to 3 attempts and never
// past the call's deadline. All three RPCs only read, so a retry is safe.
inline constexpr char kDefaultServiceConfig[] = R"json({
  "loadBalancingConfig": [{"round_robin": {}}],
  "methodConfig": [{
    "name": [{"service": "hookguard.v1.WebhookAuthService"}],
    "retryPolicy": {
      "maxAttempts": 3,
      "initialBackoff": "0.05s",
      "maxBackoff": "0.2s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
})json";

// Decides on one webhook. Implementations are thread-safe.
class WebhookGuard {
 public:
  virtual ~WebhookGuard() = default;
  // Never throws; returns a deny (503) when no decision can be obtained.
  virtual Verdict Authorize(const WebhookRequest& request) = 0;
};

// The channel's options. TLS: PEM text; all empty with use_tls = false is
// plaintext.
struct GrpcWebhookGuardOptions {
  std::chrono::milliseconds timeout = kDefaultTimeout;
  // JSON; empty: gRPC's own default (pick_first, no retries).
  std::string service_config = kDefaultServiceConfig;
  bool use_tls = false;
  std::string ca_pem;    // CA of hookguard's certificate; empty: system roots
  std::string cert_pem;  // client certificate chain, for mTLS (with key_pem)
  std::string key_pem;   // client private key, for mTLS
  ShadowDenyLog shadow_deny_log = LogShadowDeny;  // empty: not logged
  // Default false. When hookguard gives no decision (unreachable, deadline,
  // any non-OK status), Authorize lets the webhook through: allowed, 200,
  // empty owner_id, `error` set, and fail_open_log sees it.
  bool fail_open = false;
  FailOpenLog fail_open_log = LogFailOpen;  // empty: not logged
};

// WebhookGuard over gRPC. Thread-safe; share one per process (one channel).
class GrpcWebhookGuard final : public WebhookGuard {
 public:
  // Connects (lazily) to `target`: "host:port", or "dns:///name:port" for a
  // name with one address per replica (calls are spread over all of them and
  // retried on UNAVAILABLE; see kDefaultServiceConfig).
  static std::unique_ptr<GrpcWebhookGuard> Create(const std::string& target,
                                                  const GrpcWebhookGuardOptions& options = {});
  // Uses an existing channel (tests, custom channel arguments).
  GrpcWebhookGuard(std::shared_ptr<grpc::ChannelInterface> channel,
                   std::chrono::milliseconds timeout = kDefaultTimeout,
                   ShadowDenyLog shadow_deny_log = LogShadowDeny);
  // Uses an existing channel with the options' timeout, logs and fail_open
  // (the channel options in `options` are the channel's business and unused).
  GrpcWebhookGuard(std::shared_ptr<grpc::ChannelInterface> channel,
                   const GrpcWebhookGuardOptions& options);

  // A shadow-mode ALLOW that enforcement would have denied is returned as the
  // ALLOW it is, after shadow_deny_log saw it.
  Verdict Authorize(const WebhookRequest& request) override;

 private:
  std::unique_ptr<v1::WebhookAuthService::StubInterface> stub_;
  std::chrono::milliseconds timeout_;
  ShadowDenyLog shadow_deny_log_;
  bool fail_open_ = false;
  FailOpenLog fail_open_log_;
};

// The request message for `request` (exposed for callers of the raw stub).
v1::AuthorizeWebhookRequest ToProto(const WebhookRequest& request);
// A decision as a Verdict: trusts the server's http_status, but a deny is
// never 2xx and anything but DECISION_ALLOW is a deny.
Verdict VerdictFromResponse(const v1::AuthorizeWebhookResponse& response);
// A failed RPC as a Verdict: deny, 503, `error` set.
Verdict VerdictFromStatus(const grpc::Status& status);
// The fail-open answer for a Verdict without a decision: allowed, 200, no
// owner, `error` kept. A decision (ALLOW or DENY) is returned unchanged.
Verdict FailOpenVerdict(Verdict verdict);

}  // namespace hookguard

#endif  // HOOKGUARD_CLIENT_WEBHOOK_GUARD_H_

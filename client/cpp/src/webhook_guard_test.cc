// GrpcWebhookGuard against an in-process fake hookguard server on a loopback
// port; one test per failure mode, as Envoy's ext_authz client tests.
#include "hookguard/client/webhook_guard.h"

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

#include "hookguard/client/mock_webhook_guard.h"

namespace hookguard {
namespace {

using Answer =
    std::function<grpc::Status(const v1::AuthorizeWebhookRequest&, v1::AuthorizeWebhookResponse*)>;

class FakeService final : public v1::WebhookAuthService::Service {
 public:
  explicit FakeService(Answer answer) : answer_(std::move(answer)) {}
  grpc::Status AuthorizeWebhook(grpc::ServerContext*, const v1::AuthorizeWebhookRequest* request,
                                v1::AuthorizeWebhookResponse* response) override {
    seen = *request;
    return answer_(*request, response);
  }
  v1::AuthorizeWebhookRequest seen;

 private:
  Answer answer_;
};

class GrpcWebhookGuardTest : public testing::Test {
 protected:
  std::unique_ptr<GrpcWebhookGuard> Start(Answer answer,
                                          std::chrono::milliseconds timeout = kDefaultTimeout) {
    service_ = std::make_unique<FakeService>(std::move(answer));
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    return std::make_unique<GrpcWebhookGuard>(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                            grpc::InsecureChannelCredentials()),
        timeout);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }
  std::unique_ptr<FakeService> service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(GrpcWebhookGuardTest, AuthorizationAllowed) {
  auto guard = Start([](const auto&, v1::AuthorizeWebhookResponse* r) {
    r->set_decision(v1::DECISION_ALLOW);
    r->set_owner_id("1");
    r->set_http_status(200);
    r->set_key_id("env");
    return grpc::Status::OK;
  });
  WebhookRequest request;
  request.body = std::string("{\0\xff}", 4);
  request.headers = {{"X-Vapi-Signature", "ab"}};
  request.profile = "vapi";
  request.expected_owner_id = "1";
  Verdict v = guard->Authorize(request);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.owner_id, "1");
  EXPECT_EQ(v.http_status, 200);
  EXPECT_EQ(v.key_id, "env");
  EXPECT_EQ(v.error, grpc::StatusCode::OK);
  EXPECT_EQ(service_->seen.request().body(), std::string("{\0\xff}", 4));
  EXPECT_EQ(service_->seen.request().headers().at("X-Vapi-Signature"), "ab");
  EXPECT_EQ(service_->seen.profile(), "vapi");
  EXPECT_EQ(service_->seen.expected_owner_id(), "1");
}

TEST_F(GrpcWebhookGuardTest, AuthorizationDenied) {
  auto guard = Start([](const auto&, v1::AuthorizeWebhookResponse* r) {
    r->set_decision(v1::DECISION_DENY);
    r->set_reason(v1::DENY_REASON_PHONE_NUMBER_MISMATCH);
    r->set_http_status(403);
    r->set_owner_id("2");
    return grpc::Status::OK;
  });
  Verdict v = guard->Authorize({});
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reason, v1::DENY_REASON_PHONE_NUMBER_MISMATCH);
  EXPECT_EQ(v.http_status, 403);
  EXPECT_EQ(v.owner_id, "");
}

TEST_F(GrpcWebhookGuardTest, ShadowDenyIsAllowedAndLogged) {
  service_ = std::make_unique<FakeService>([](const auto&, v1::AuthorizeWebhookResponse* r) {
    r->set_decision(v1::DECISION_ALLOW);
    r->set_http_status(200);
    r->set_decision_id("d-s");
    r->set_resolved_by(v1::OWNER_SOURCE_PHONE_NUMBER);
    r->set_delivery_key("k-1");
    r->set_shadow_decision(v1::DECISION_DENY);
    r->set_shadow_reason(v1::DENY_REASON_OWNER_CONFLICT);
    return grpc::Status::OK;
  });
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  std::vector<Verdict> logged;
  GrpcWebhookGuardOptions options;
  options.shadow_deny_log = [&logged](const Verdict& v) { logged.push_back(v); };
  Verdict v = GrpcWebhookGuard::Create("127.0.0.1:" + std::to_string(port), options)->Authorize({});
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.http_status, 200);
  EXPECT_TRUE(v.ShadowDeny());
  EXPECT_EQ(v.resolved_by, v1::OWNER_SOURCE_PHONE_NUMBER);
  EXPECT_EQ(v.delivery_key, "k-1");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].shadow_reason, v1::DENY_REASON_OWNER_CONFLICT);
  EXPECT_EQ(logged[0].decision_id, "d-s");
}

TEST(LogShadowDeny, WritesReasonAndDecisionId) {
  Verdict v;
  v.allowed = true;
  v.shadow_decision = v1::DECISION_DENY;
  v.shadow_reason = v1::DENY_REASON_CALL_NOT_FOUND;
  v.decision_id = "d-9";
  std::ostringstream out;
  std::streambuf* old = std::clog.rdbuf(out.rdbuf());
  LogShadowDeny(v);
  std::clog.rdbuf(old);
  EXPECT_THAT(out.str(), testing::HasSubstr("DENY_REASON_CALL_NOT_FOUND, decision_id d-9"));
}

TEST(Verdict, EnforcedAllowIsNoShadowDeny) {
  Verdict v;
  v.allowed = true;
  EXPECT_FALSE(v.ShadowDeny());
}

TEST_F(GrpcWebhookGuardTest, UnspecifiedDecisionIsDeny) {
  auto guard = Start([](const auto&, v1::AuthorizeWebhookResponse* r) {
    r->set_http_status(200);
    return grpc::Status::OK;
  });
  Verdict v = guard->Authorize({});
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.http_status, 403);
}

TEST_F(GrpcWebhookGuardTest, ServerUnavailable) {
  auto guard = Start(
      [](const auto&, auto*) { return grpc::Status(grpc::StatusCode::UNAVAILABLE, "db down"); });
  Verdict v = guard->Authorize({});
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.http_status, 503);
  EXPECT_EQ(v.error, grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcWebhookGuardTest, DeadlineExceeded) {
  auto guard = Start(
      [](const auto&, v1::AuthorizeWebhookResponse* r) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        r->set_decision(v1::DECISION_ALLOW);
        return grpc::Status::OK;
      },
      std::chrono::milliseconds(50));
  Verdict v = guard->Authorize({});
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.http_status, 503);
  EXPECT_EQ(v.error, grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST(GrpcWebhookGuard, NoServerListening) {
  GrpcWebhookGuardOptions options;
  options.timeout = std::chrono::milliseconds(200);
  auto guard = GrpcWebhookGuard::Create("127.0.0.1:1", options);
  Verdict v = guard->Authorize({});
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.http_status, 503);
  EXPECT_NE(v.error, grpc::StatusCode::OK);
}

// A fake replica on a loopback port that answers every call with `status`
// (an ALLOW when OK) and counts its calls.
class Replica {
 public:
  explicit Replica(grpc::Status status)
      : service_([this, status](const auto&, v1::AuthorizeWebhookResponse* r) {
          ++calls;
          r->set_decision(v1::DECISION_ALLOW);
          r->set_http_status(200);
          return status;
        }) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~Replica() { server_->Shutdown(std::chrono::system_clock::now()); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }

  std::atomic<int> calls{0};
  int port = 0;

 private:
  FakeService service_;
  std::unique_ptr<grpc::Server> server_;
};

// Two replicas behind one target (as a headless Service's DNS name gives):
// Create's default service config sends calls to both (round_robin) and
// retries a call that one of them answers UNAVAILABLE on the other.
TEST(GrpcWebhookGuard, DefaultServiceConfigSpreadsCallsAndRetriesUnavailable) {
  Replica down(grpc::Status(grpc::StatusCode::UNAVAILABLE, "going away"));
  Replica up(grpc::Status::OK);
  GrpcWebhookGuardOptions options;
  options.timeout = std::chrono::seconds(2);
  auto guard = GrpcWebhookGuard::Create("ipv4:" + down.address() + "," + up.address(), options);
  // Until both replicas are connected round_robin picks only the ready one: a
  // call can spend its three attempts on the failing one if it connects first
  // (a loaded machine). Warm up until each has answered a call.
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       (down.calls == 0 || up.calls == 0) && std::chrono::steady_clock::now() < deadline;) {
    guard->Authorize({});
  }
  ASSERT_TRUE(down.calls > 0 && up.calls > 0) << "not both connected";
  const int down_before = down.calls;
  const int up_before = up.calls;
  for (int i = 0; i < 20; ++i) {
    Verdict v = guard->Authorize({});
    ASSERT_TRUE(v.allowed) << "call " << i << ": " << v.detail;
  }
  EXPECT_EQ(up.calls - up_before, 20);
  EXPECT_GT(down.calls, down_before);
}

TEST(GrpcWebhookGuard, DefaultRetryStopsAfterThreeAttempts) {
  Replica down(grpc::Status(grpc::StatusCode::UNAVAILABLE, "db down"));
  GrpcWebhookGuardOptions options;
  options.timeout = std::chrono::seconds(2);
  Verdict v = GrpcWebhookGuard::Create(down.address(), options)->Authorize({});
  EXPECT_EQ(v.http_status, 503);
  EXPECT_EQ(v.error, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(down.calls, 3);
}

// The gMock shape: code under test takes a WebhookGuard&.
int HandleWebhook(WebhookGuard& guard, const std::string& body, std::string* owner) {
  WebhookRequest request;
  request.body = body;
  Verdict v = guard.Authorize(request);
  if (!v.allowed) return v.http_status;
  *owner = v.owner_id;
  return 200;
}

TEST(MockWebhookGuard, StandsInForTheService) {
  MockWebhookGuard guard;
  Verdict allow;
  allow.allowed = true;
  allow.owner_id = "7";
  allow.http_status = 200;
  EXPECT_CALL(guard, Authorize(testing::Field(&WebhookRequest::body, "{}")))
      .WillOnce(testing::Return(allow))
      .WillOnce(
          testing::Return(VerdictFromStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, ""))));
  std::string owner;
  EXPECT_EQ(HandleWebhook(guard, "{}", &owner), 200);
  EXPECT_EQ(owner, "7");
  EXPECT_EQ(HandleWebhook(guard, "{}", &owner), 503);
}

// Fail-open: a missing decision lets through, with no owner, `error` set and
// the warning called; a decision is obeyed; off by default.
struct FailOpenCase {
  std::string name;
  grpc::Status status;  // the fake's status; OK: it answers `decision`
  v1::Decision decision;
  bool fail_open;
  bool want_allowed;
  int want_http_status;
  bool want_logged;
};

class FailOpenTest : public testing::TestWithParam<FailOpenCase> {};

TEST_P(FailOpenTest, ObeysDecisionsAndOpensOnlyWithoutOne) {
  const FailOpenCase& c = GetParam();
  FakeService service([&c](const auto&, v1::AuthorizeWebhookResponse* r) {
    r->set_decision(c.decision);
    r->set_owner_id("9");
    r->set_http_status(c.decision == v1::DECISION_ALLOW ? 200 : 403);
    return c.status;
  });
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  std::vector<std::string> logged;
  GrpcWebhookGuardOptions options;
  options.fail_open = c.fail_open;
  options.fail_open_log = [&logged](const Verdict& v, const std::string& profile) {
    logged.push_back(profile + ":" + std::to_string(static_cast<int>(v.error)));
  };
  GrpcWebhookGuard guard(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()),
      options);
  WebhookRequest request;
  request.profile = "vapi";
  Verdict v = guard.Authorize(request);
  server->Shutdown(std::chrono::system_clock::now());
  EXPECT_EQ(v.allowed, c.want_allowed);
  EXPECT_EQ(v.http_status, c.want_http_status);
  EXPECT_EQ(v.FailedOpen(), c.want_logged);
  if (!c.status.ok()) {
    EXPECT_EQ(v.owner_id, "");
  }
  EXPECT_EQ(logged.size(), c.want_logged ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(
    FailOpen, FailOpenTest,
    testing::Values(
        FailOpenCase{"UnavailableFailsOpen", grpc::Status(grpc::StatusCode::UNAVAILABLE, "db"),
                     v1::DECISION_ALLOW, true, true, 200, true},
        FailOpenCase{"UnavailableFailsClosedByDefault",
                     grpc::Status(grpc::StatusCode::UNAVAILABLE, "db"), v1::DECISION_ALLOW, false,
                     false, 503, false},
        FailOpenCase{"DenyIsObeyed", grpc::Status::OK, v1::DECISION_DENY, true, false, 403, false},
        FailOpenCase{"AllowKeepsItsOwner", grpc::Status::OK, v1::DECISION_ALLOW, true, true, 200,
                     false}),
    [](const testing::TestParamInfo<FailOpenCase>& info) { return info.param.name; });

TEST(FailOpen, UnreachableServerLetsThroughWithErrorAndNoOwner) {
  GrpcWebhookGuardOptions options;
  options.timeout = std::chrono::milliseconds(300);
  options.fail_open = true;
  std::vector<std::string> profiles;
  options.fail_open_log = [&profiles](const Verdict&, const std::string& p) {
    profiles.push_back(p);
  };
  auto guard = GrpcWebhookGuard::Create("127.0.0.1:1", options);
  WebhookRequest request;
  request.body = "{}";
  request.profile = "vapi";
  Verdict v = guard->Authorize(request);
  EXPECT_TRUE(v.allowed);
  EXPECT_TRUE(v.FailedOpen());
  EXPECT_EQ(v.http_status, 200);
  EXPECT_EQ(v.owner_id, "");
  EXPECT_NE(v.error, grpc::StatusCode::OK);
  EXPECT_EQ(profiles, std::vector<std::string>{"vapi"});
}

}  // namespace
}  // namespace hookguard

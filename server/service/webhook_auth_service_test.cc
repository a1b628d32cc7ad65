// The RPCs in-process over a real gRPC channel; the database is a gMock.
#include "server/service/webhook_auth_service.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "server/common/echo.h"
#include "server/config/config.h"
#include "server/config/fake_secret_source.h"
#include "server/config/server_spec.h"
#include "server/ownership/mock_ownership_store.h"
#include "server/service/unparseable_request_interceptor.h"

namespace hookguard {
namespace {

using ::testing::_;
using ::testing::NiceMock;
using ::testing::Return;

constexpr char kSecret[] = "service-test-secret";

// The default profile, its secret kSecret.
std::shared_ptr<const ProfileSet> DefaultProfiles() {
  return *ProfileSet::Build(
      *Compile(DefaultConfig(),
               FakeSecretSource(std::map<std::string, std::string>{{kDefaultSecretEnv, kSecret}})));
}

std::string Sign(const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret, sizeof(kSecret) - 1,
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(mac), len));
}

class WebhookAuthServiceTest : public ::testing::Test {
 protected:
  void Start(ServiceOptions options = {}) {
    profiles_ = std::make_unique<ProfileHolder>(DefaultProfiles());
    rules_ = std::make_unique<CallEventAuthorizer>(store_);
    authorizer_ = std::make_unique<WebhookAuthorizer>(*profiles_, *rules_, ids_,
                                                      WebhookAuthorizerOptions{1 << 20});
    service_ =
        std::make_unique<WebhookAuthServiceImpl>(*authorizer_, workers_, audit_, metrics_, options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(
        std::make_unique<UnparseableRequestInterceptorFactory>(audit_, metrics_, workers_));
    builder.experimental().SetInterceptorCreators(std::move(creators));
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::WebhookAuthService::NewStub(channel_);
  }

  // Calls `method` with raw request bytes, as a client with another
  // (or a broken) proto library could.
  grpc::Status CallRaw(const std::string& method, const std::string& bytes) {
    grpc::GenericStub generic(channel_);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    absl::Notification done;
    grpc::Status status;
    generic.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                      [&](grpc::Status s) {
                        status = std::move(s);
                        done.Notify();
                      });
    done.WaitForNotification();
    return status;
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    std::fclose(log_file_);
  }

  // Everything the audit log has written so far.
  std::string LogText() {
    audit_.Flush();
    std::fflush(log_file_);
    std::rewind(log_file_);
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), log_file_)) > 0) text.append(buf, n);
    return text;
  }

  v1::AuthorizeWebhookRequest Webhook(const std::string& body) {
    v1::AuthorizeWebhookRequest request;
    request.mutable_request()->set_body(body);
    (*request.mutable_request()->mutable_headers())["x-vapi-signature"] = Sign(body);
    return request;
  }

  NiceMock<MockOwnershipStore> store_;
  DecisionIdGenerator ids_;
  WorkerPool workers_{2};
  std::FILE* log_file_ = std::tmpfile();
  AuditLog audit_{log_file_};
  Metrics metrics_;
  std::unique_ptr<ProfileHolder> profiles_;
  std::unique_ptr<CallEventAuthorizer> rules_;
  std::unique_ptr<WebhookAuthorizer> authorizer_;
  std::unique_ptr<WebhookAuthServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::WebhookAuthService::Stub> stub_;
};

TEST_F(WebhookAuthServiceTest, VerifySignatureAnswersValid) {
  Start();
  v1::VerifySignatureRequest request;
  request.mutable_request()->set_body("hello");
  (*request.mutable_request()->mutable_headers())["X-VAPI-SIGNATURE"] = Sign("hello");
  v1::VerifySignatureResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->VerifySignature(&context, request, &response).ok());
  EXPECT_EQ(response.result(), v1::SIGNATURE_RESULT_VALID);
  EXPECT_EQ(response.http_status(), 200);
}

TEST_F(WebhookAuthServiceTest, AllowIsOkWithDecisionInside) {
  Start();
  CallOwnership call;
  call.owner_id = "7";
  call.assistant_id = "a";
  call.assistant_owner_id = "7";
  EXPECT_CALL(store_, FindCall(absl::string_view("c1"), _))
      .WillOnce(Return(std::optional<CallOwnership>(call)));
  v1::AuthorizeWebhookResponse response;
  grpc::ClientContext context;
  grpc::Status status = stub_->AuthorizeWebhook(
      &context, Webhook(R"({"call":{"id":"c1","assistantId":"a"}})"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(response.owner_id(), "7");
  EXPECT_EQ(response.http_status(), 200);
  EXPECT_EQ(response.decision_id().size(), 32u);
  EXPECT_NE(metrics_.Render().find("decision=\"DECISION_ALLOW\""), std::string::npos);
}

TEST_F(WebhookAuthServiceTest, DenyIsOkWithDecisionInside) {
  Start();
  EXPECT_CALL(store_, FindCall(_, _)).WillOnce(Return(std::optional<CallOwnership>()));
  v1::AuthorizeWebhookResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(
      stub_->AuthorizeWebhook(&context, Webhook(R"({"call":{"id":"nope"}})"), &response).ok());
  EXPECT_EQ(response.decision(), v1::DECISION_DENY);
  EXPECT_EQ(response.reason(), v1::DENY_REASON_CALL_NOT_FOUND);
  EXPECT_EQ(response.http_status(), 404);
}

TEST_F(WebhookAuthServiceTest, DatabaseUnavailableIsUnavailable) {
  Start();
  EXPECT_CALL(store_, FindCall(_, _)).WillOnce(Return(absl::UnavailableError("down")));
  v1::AuthorizeCallEventRequest request;
  request.mutable_event()->set_call_id("c1");
  v1::AuthorizeCallEventResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(stub_->AuthorizeCallEvent(&context, request, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(response.decision(), v1::DECISION_ALLOW);
}

// A driver's message names the SQL and the bound id: the caller gets a
// short message, the server log the whole one.
TEST_F(WebhookAuthServiceTest, DatabaseErrorTextGoesToTheLogNotToTheCaller) {
  Start();
  const std::string driver_message =
      "ownership query failed: no such table: api_assistant while executing \"SELECT "
      "a.user_id FROM api_assistant a WHERE x = :call_id\" with :call_id=\"c1-secret-id\".";
  EXPECT_CALL(store_, FindCall(_, _))
      .WillOnce(Return(absl::UnavailableError(driver_message)))
      .WillOnce(Return(absl::FailedPreconditionError(driver_message)));
  for (grpc::StatusCode code :
       {grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::FAILED_PRECONDITION}) {
    v1::AuthorizeWebhookResponse response;
    grpc::ClientContext context;
    const grpc::Status status =
        stub_->AuthorizeWebhook(&context, Webhook(R"({"call":{"id":"c1-secret-id"}})"), &response);
    EXPECT_EQ(status.error_code(), code);
    EXPECT_EQ(status.error_message().find("SELECT"), std::string::npos) << status.error_message();
    EXPECT_EQ(status.error_message().find("c1-secret-id"), std::string::npos)
        << status.error_message();
  }
  EXPECT_NE(LogText().find("no such table: api_assistant while executing"), std::string::npos);
}

TEST_F(WebhookAuthServiceTest, DatabaseTimeoutIsDeadlineExceeded) {
  Start();
  EXPECT_CALL(store_, FindCall(_, _))
      .WillOnce(Return(absl::DeadlineExceededError("no answer in time")));
  v1::AuthorizeCallEventRequest request;
  request.mutable_event()->set_call_id("c1");
  v1::AuthorizeCallEventResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(stub_->AuthorizeCallEvent(&context, request, &response).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(WebhookAuthServiceTest, UnknownProfileIsInvalidArgument) {
  Start();
  auto request = Webhook("{}");
  request.set_profile("missing");
  v1::AuthorizeWebhookResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(stub_->AuthorizeWebhook(&context, request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(WebhookAuthServiceTest, RequestStringsAreCappedInTheStatusAndTheLog) {
  Start();
  const std::string huge(100 * 1024, 'p');
  auto request = Webhook("{}");
  request.set_profile(huge);
  v1::AuthorizeWebhookResponse response;
  grpc::ClientContext context;
  const grpc::Status status = stub_->AuthorizeWebhook(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(status.error_message().size(), 2 * kMaxEchoBytes) << status.error_message().size();
  v1::AuthorizeCallEventRequest event;
  event.mutable_event()->set_call_id(huge);
  v1::AuthorizeCallEventResponse event_response;
  grpc::ClientContext event_context;
  ASSERT_TRUE(stub_->AuthorizeCallEvent(&event_context, event, &event_response).ok());
  EXPECT_EQ(event_response.reason(), v1::DENY_REASON_MALFORMED_EVENT);
  const std::string log = LogText();
  EXPECT_GT(log.size(), 0u);
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    EXPECT_LT(line.size(), 4 * kMaxEchoBytes + 512) << line.substr(0, 200);
  }
}

// gRPC answers a request it cannot parse before any handler runs; without
// the interceptor that is UNIMPLEMENTED, unlogged and uncounted.
TEST_F(WebhookAuthServiceTest, UnparseableRequestIsInvalidArgumentLoggedAndCounted) {
  Start();
  // Field 1 (profile, a proto3 string) holding the invalid UTF-8 "\xff\xfe".
  const std::string invalid_utf8("\x0a\x02\xff\xfe", 4);
  const std::string truncated("\x0a\x10vapi", 6);  // says 16 bytes, has 4
  for (const std::string& method :
       {std::string("/hookguard.v1.WebhookAuthService/VerifySignature"),
        std::string("/hookguard.v1.WebhookAuthService/AuthorizeWebhook")}) {
    for (const std::string& bytes : {invalid_utf8, truncated}) {
      const grpc::Status status = CallRaw(method, bytes);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
      EXPECT_NE(status.error_message().find("not a valid"), std::string::npos)
          << status.error_message();
    }
  }
  // A well-formed request on the same path is served as usual.
  EXPECT_TRUE(CallRaw("/hookguard.v1.WebhookAuthService/VerifySignature", "").ok());
  workers_.Schedule([] {});  // the audit lines are written on the workers
  absl::SleepFor(absl::Milliseconds(100));
  const std::string log = LogText();
  EXPECT_NE(log.find(R"("rpc":"VerifySignature")"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("grpc_code":"INVALID_ARGUMENT")"), std::string::npos) << log;
  EXPECT_NE(metrics_.Render().find(
                R"(rpc="AuthorizeWebhook",decision="",reason="",code="INVALID_ARGUMENT"} 2)"),
            std::string::npos)
      << metrics_.Render();
}

TEST_F(WebhookAuthServiceTest, AllowlistRefusesCallersWithoutCertificate) {
  ServiceOptions options;
  options.allowed_clients = {"web.example"};
  Start(options);
  v1::VerifySignatureRequest request;
  v1::VerifySignatureResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(stub_->VerifySignature(&context, request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace hookguard

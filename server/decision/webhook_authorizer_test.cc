#include "server/decision/webhook_authorizer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/config.h"
#include "server/config/fake_secret_source.h"
#include "server/config/server_spec.h"
#include "server/ownership/mock_ownership_store.h"
#include "server/signature/openssl_fault_for_test.h"

namespace hookguard {
namespace {

using ::testing::_;
using ::testing::Invoke;
using ::testing::Return;
using ::testing::StrictMock;

constexpr char kSecret[] = "test-secret";

// The default profile, its secret kSecret.
std::shared_ptr<const ProfileSet> DefaultProfiles() {
  return *ProfileSet::Build(
      *Compile(DefaultConfig(),
               FakeSecretSource(std::map<std::string, std::string>{{kDefaultSecretEnv, kSecret}})));
}

// The default profile under the resolution chain `by` for chat events
// (ownership.resolve: {"types": ["chat.*"], "by": by}).
std::shared_ptr<const ProfileSet> ProfilesResolvingChatsBy(std::vector<std::string> by) {
  config::v1::Config config = DefaultConfig();
  config::v1::ResolveRule* rule = config.mutable_ownership()->add_resolve();
  rule->add_types("chat.*");
  for (std::string& source : by) rule->add_by(std::move(source));
  return *ProfileSet::Build(*Compile(
      config, FakeSecretSource(std::map<std::string, std::string>{{kDefaultSecretEnv, kSecret}})));
}

std::string HexHmacSha256(const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret, sizeof(kSecret) - 1,
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(mac), len));
}

v1::HttpRequest Signed(const std::string& body) {
  v1::HttpRequest request;
  request.set_body(body);
  (*request.mutable_headers())["X-Vapi-Signature"] = HexHmacSha256(body);
  return request;
}

CallOwnership AliceCall() {
  CallOwnership call;
  call.owner_id = "1";
  call.assistant_id = "asst_alice";
  call.assistant_owner_id = "1";
  return call;
}

class WebhookAuthorizerTest : public ::testing::Test {
 protected:
  WebhookAuthorizerTest()
      : profiles_(DefaultProfiles()),
        rules_(store_),
        authorizer_(profiles_, rules_, ids_, WebhookAuthorizerOptions{1024}) {}

  absl::Time now_ = absl::Now();
  absl::Time deadline_ = now_ + absl::Seconds(1);
  StrictMock<MockOwnershipStore> store_;
  ProfileHolder profiles_;
  CallEventAuthorizer rules_;
  DecisionIdGenerator ids_;
  WebhookAuthorizer authorizer_;
};

TEST_F(WebhookAuthorizerTest, VerifySignatureAcceptsTheDefaultProfile) {
  v1::VerifySignatureRequest request;
  *request.mutable_request() = Signed(R"({"call":{"id":"c1"}})");
  v1::VerifySignatureResponse response;
  ASSERT_TRUE(authorizer_.VerifySignature(request, now_, &response).ok());
  EXPECT_EQ(response.result(), v1::SIGNATURE_RESULT_VALID);
  EXPECT_EQ(response.key_id(), "env");
  EXPECT_EQ(response.http_status(), 200);
}

TEST_F(WebhookAuthorizerTest, VerifySignatureReportsTamperedBodyAs401) {
  v1::VerifySignatureRequest request;
  *request.mutable_request() = Signed(R"({"call":{"id":"c1"}})");
  request.mutable_request()->set_body(R"({"call":{"id":"c2"}})");
  v1::VerifySignatureResponse response;
  ASSERT_TRUE(authorizer_.VerifySignature(request, now_, &response).ok());
  EXPECT_EQ(response.result(), v1::SIGNATURE_RESULT_MISMATCH);
  EXPECT_EQ(response.http_status(), 401);
}

TEST_F(WebhookAuthorizerTest, UnknownProfileIsInvalidArgument) {
  v1::VerifySignatureRequest request;
  request.set_profile("nope");
  v1::VerifySignatureResponse response;
  EXPECT_EQ(authorizer_.VerifySignature(request, now_, &response).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(WebhookAuthorizerTest, OversizedBodyIsResourceExhausted) {
  v1::AuthorizeWebhookRequest request;
  *request.mutable_request() = Signed(std::string(1025, 'x'));
  v1::AuthorizeWebhookResponse response;
  EXPECT_EQ(authorizer_.AuthorizeWebhook(request, now_, deadline_, &response).code(),
            absl::StatusCode::kResourceExhausted);
}

// The MAC could not be computed: the call fails (INTERNAL, which the service
// logs and the web tier answers with a 503, so the platform retries), and is
// never decided, neither a 401 nor an ALLOW.
TEST_F(WebhookAuthorizerTest, AnOpenSslFailureFailsTheCallInsteadOfDeciding) {
  v1::AuthorizeWebhookRequest request;
  *request.mutable_request() = Signed(R"({"call":{"id":"c1"}})");
  v1::AuthorizeWebhookResponse response;
  FailOpenSslMacs fail;
  EXPECT_EQ(authorizer_.AuthorizeWebhook(request, now_, deadline_, &response).code(),
            absl::StatusCode::kInternal);
  v1::VerifySignatureRequest verify;
  *verify.mutable_request() = Signed(R"({"call":{"id":"c1"}})");
  v1::VerifySignatureResponse verified;
  EXPECT_EQ(authorizer_.VerifySignature(verify, now_, &verified).code(),
            absl::StatusCode::kInternal);
}

TEST_F(WebhookAuthorizerTest, ForgedWebhookIsDeniedBeforeParsingOrLookup) {
  v1::AuthorizeWebhookRequest request;
  *request.mutable_request() = Signed(R"({"call":{"id":"c1"}})");
  request.mutable_request()->set_body(R"({"call":{"id":"call_of_bob"}})");
  v1::AuthorizeWebhookResponse response;
  ASSERT_TRUE(authorizer_.AuthorizeWebhook(request, now_, deadline_, &response).ok());
  EXPECT_EQ(response.decision(), v1::DECISION_DENY);
  EXPECT_EQ(response.reason(), v1::DENY_REASON_SIGNATURE_INVALID);
  EXPECT_EQ(response.signature(), v1::SIGNATURE_RESULT_MISMATCH);
  EXPECT_EQ(response.http_status(), 401);
  EXPECT_TRUE(response.event().call_id().empty()) << "an unverified body was parsed";
  EXPECT_FALSE(response.decision_id().empty());
}

TEST_F(WebhookAuthorizerTest, MalformedSignedBodyIs400WithoutLookup) {
  v1::AuthorizeWebhookRequest request;
  *request.mutable_request() = Signed("not json");
  v1::AuthorizeWebhookResponse response;
  ASSERT_TRUE(authorizer_.AuthorizeWebhook(request, now_, deadline_, &response).ok());
  EXPECT_EQ(response.reason(), v1::DENY_REASON_MALFORMED_EVENT);
  EXPECT_EQ(response.http_status(), 400);
}

TEST_F(WebhookAuthorizerTest, AllowsTheOwnersWebhook) {
  EXPECT_CALL(store_, FindCall(absl::string_view("call_alice_1"), _))
      .WillOnce(Return(std::optional<CallOwnership>(AliceCall())));
  v1::AuthorizeWebhookRequest request;
  *request.mutable_request() =
      Signed(R"({"message":{"type":"status-update","call":{"id":"call_alice_1",)"
             R"("assistantId":"asst_alice"}}})");
  v1::AuthorizeWebhookResponse response;
  ASSERT_TRUE(authorizer_.AuthorizeWebhook(request, now_, deadline_, &response).ok());
  EXPECT_EQ(response.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(response.owner_id(), "1");
  EXPECT_EQ(response.http_status(), 200);
  EXPECT_EQ(response.key_id(), "env");
  EXPECT_EQ(response.event().type(), "status-update");
}

TEST_F(WebhookAuthorizerTest, DeniesCrossUserAssistant) {
  EXPECT_CALL(store_, FindCall(absl::string_view("call_alice_1"), _))
      .WillOnce(Return(std::optional<CallOwnership>(AliceCall())));
  v1::AuthorizeCallEventRequest request;
  request.mutable_event()->set_call_id("call_alice_1");
  request.mutable_event()->set_assistant_id("asst_bob");
  v1::AuthorizeCallEventResponse response;
  ASSERT_TRUE(authorizer_.AuthorizeCallEvent(request, deadline_, &response).ok());
  EXPECT_EQ(response.reason(), v1::DENY_REASON_ASSISTANT_MISMATCH);
  EXPECT_EQ(response.http_status(), 403);
  EXPECT_TRUE(response.owner_id().empty());
}

TEST_F(WebhookAuthorizerTest, DatabaseDownIsAnErrorNeverAllow) {
  EXPECT_CALL(store_, FindCall(_, _)).WillOnce(Return(absl::UnavailableError("db down")));
  v1::AuthorizeWebhookRequest request;
  *request.mutable_request() = Signed(R"({"call":{"id":"call_alice_1"}})");
  v1::AuthorizeWebhookResponse response;
  EXPECT_EQ(authorizer_.AuthorizeWebhook(request, now_, deadline_, &response).code(),
            absl::StatusCode::kUnavailable);
}

// The service's asynchronous forms answer as the blocking ones, and call
// back exactly once, also when no lookup runs.
TEST_F(WebhookAuthorizerTest, AsynchronousFormsAnswerAsTheBlockingOnes) {
  EXPECT_CALL(store_, FindCall(absl::string_view("call_alice_1"), _))
      .WillOnce(Return(std::optional<CallOwnership>(AliceCall())))
      .WillOnce(Return(absl::UnavailableError("db down")))
      .WillOnce(Return(std::optional<CallOwnership>(AliceCall())));
  auto webhook = [&](const std::string& body, bool forge) {
    v1::AuthorizeWebhookRequest request;
    *request.mutable_request() = Signed(body);
    if (forge) request.mutable_request()->set_body(body + " ");
    v1::AuthorizeWebhookResponse response;
    int calls = 0;
    absl::Status status = absl::UnknownError("never answered");
    authorizer_.AuthorizeWebhookAsync(request, now_, deadline_, &response, [&](absl::Status s) {
      ++calls;
      status = std::move(s);
    });
    EXPECT_EQ(calls, 1);
    return std::make_pair(status, response);
  };
  const std::string owned =
      R"({"message":{"type":"status-update","call":{"id":"call_alice_1","assistantId":"asst_alice"}}})";
  auto [allowed, allow] = webhook(owned, false);
  ASSERT_TRUE(allowed.ok()) << allowed;
  EXPECT_EQ(allow.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(allow.owner_id(), "1");
  EXPECT_EQ(allow.resolved_by(), v1::OWNER_SOURCE_CALL);
  EXPECT_FALSE(allow.decision_id().empty());
  EXPECT_FALSE(allow.delivery_key().empty());
  auto [down, unused] = webhook(owned, false);
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable);
  auto [forged_status, forged] = webhook(owned, true);  // no lookup
  ASSERT_TRUE(forged_status.ok());
  EXPECT_EQ(forged.reason(), v1::DENY_REASON_SIGNATURE_INVALID);
  auto [malformed_status, malformed] = webhook("{not json", false);  // no lookup
  ASSERT_TRUE(malformed_status.ok());
  EXPECT_EQ(malformed.reason(), v1::DENY_REASON_MALFORMED_EVENT);

  v1::AuthorizeCallEventRequest event;
  event.mutable_event()->set_call_id("call_alice_1");
  event.mutable_event()->set_assistant_id("asst_bob");
  v1::AuthorizeCallEventResponse response;
  int calls = 0;
  authorizer_.AuthorizeCallEventAsync(event, deadline_, &response, [&](absl::Status s) {
    ++calls;
    EXPECT_TRUE(s.ok()) << s;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(response.reason(), v1::DENY_REASON_ASSISTANT_MISMATCH);
  EXPECT_TRUE(response.owner_id().empty());
}

TEST_F(WebhookAuthorizerTest, CallEventIdsWithControlCharactersAreMalformedWithoutLookup) {
  // libpq would cut "call_alice_1\0x" at the NUL and find alice's call.
  struct Case {
    const char* field;
    std::string value;
  };
  const Case cases[] = {
      {"call_id", std::string("call_alice_1\0x", 14)},
      {"call_id", std::string(257, 'c')},
      {"assistant_id", "asst\nalice"},
      {"phone_number_id", std::string("p\x7f", 2)},
  };
  for (const Case& c : cases) {
    v1::AuthorizeCallEventRequest request;
    request.mutable_event()->set_call_id("call_alice_1");
    const auto* field = v1::CallEvent::descriptor()->FindFieldByName(c.field);
    request.mutable_event()->GetReflection()->SetString(request.mutable_event(), field, c.value);
    v1::AuthorizeCallEventResponse response;
    ASSERT_TRUE(authorizer_.AuthorizeCallEvent(request, deadline_, &response).ok());
    EXPECT_EQ(response.reason(), v1::DENY_REASON_MALFORMED_EVENT) << c.field;
    EXPECT_EQ(response.http_status(), 400);
  }
}

TEST_F(WebhookAuthorizerTest, DecisionIdsAreUnique) {
  v1::AuthorizeCallEventRequest request;  // no call id: denied without a lookup
  v1::AuthorizeCallEventResponse a, b;
  ASSERT_TRUE(authorizer_.AuthorizeCallEvent(request, deadline_, &a).ok());
  ASSERT_TRUE(authorizer_.AuthorizeCallEvent(request, deadline_, &b).ok());
  EXPECT_EQ(a.reason(), v1::DENY_REASON_MALFORMED_EVENT);
  EXPECT_NE(a.decision_id(), b.decision_id());
}

// Reload atomicity (threats table, the reload row): the profiles that verify
// a request and the chain that decides it are one snapshot. The chain comes
// from the profile set the request read, never from anywhere else (the
// rules' own chain here stands for a half-applied reload).
TEST_F(WebhookAuthorizerTest, DecidesUnderTheChainOfTheSnapshotThatVerified) {
  profiles_.Set(ProfilesResolvingChatsBy({"assistant"}));
  EXPECT_CALL(store_, FindOwner(OwnerLookup::kAssistant, absl::string_view("asst_alice"), _))
      .Times(2)
      .WillRepeatedly(Return(std::optional<std::string>("1")));
  v1::AuthorizeCallEventRequest request;
  request.mutable_event()->set_type("chat.created");
  request.mutable_event()->set_assistant_id("asst_alice");
  request.set_expected_owner_id("1");
  v1::AuthorizeCallEventResponse response;
  ASSERT_TRUE(authorizer_.AuthorizeCallEvent(request, deadline_, &response).ok());
  EXPECT_EQ(response.decision(), v1::DECISION_ALLOW) << response.ShortDebugString();
  EXPECT_EQ(response.resolved_by(), v1::OWNER_SOURCE_ASSISTANT);

  // The same through a signed webhook, asynchronously.
  v1::AuthorizeWebhookRequest webhook;
  *webhook.mutable_request() = Signed(
      R"({"message":{"type":"chat.created","chat":{"id":"chat_1","assistantId":"asst_alice"}}})");
  webhook.set_expected_owner_id("1");
  v1::AuthorizeWebhookResponse answer;
  absl::Status status = absl::UnknownError("not called");
  authorizer_.AuthorizeWebhookAsync(webhook, now_, deadline_, &answer,
                                    [&](absl::Status s) { status = s; });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(answer.decision(), v1::DECISION_ALLOW) << answer.ShortDebugString();
}

// A reload that lands while a request waits for its first lookup: the
// request goes on under the snapshot it started with (its chain still tries
// the assistant), not the new one (call only).
TEST_F(WebhookAuthorizerTest, AReloadDuringARequestNeverMixesSnapshots) {
  profiles_.Set(ProfilesResolvingChatsBy({"call", "assistant"}));
  EXPECT_CALL(store_, FindCall(absl::string_view("call_unknown"), _))
      .WillOnce(Invoke([&](absl::string_view, absl::Time) {
        profiles_.Set(ProfilesResolvingChatsBy({"call"}));  // the reload
        return std::optional<CallOwnership>();
      }));
  EXPECT_CALL(store_, FindOwner(OwnerLookup::kAssistant, absl::string_view("asst_alice"), _))
      .WillOnce(Return(std::optional<std::string>("1")));
  v1::AuthorizeCallEventRequest request;
  request.mutable_event()->set_type("chat.created");
  request.mutable_event()->set_call_id("call_unknown");
  request.mutable_event()->set_assistant_id("asst_alice");
  request.set_expected_owner_id("1");
  v1::AuthorizeCallEventResponse response;
  absl::Status status = absl::UnknownError("not called");
  authorizer_.AuthorizeCallEventAsync(request, deadline_, &response,
                                      [&](absl::Status s) { status = s; });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(response.decision(), v1::DECISION_ALLOW) << response.ShortDebugString();
  EXPECT_EQ(response.resolved_by(), v1::OWNER_SOURCE_ASSISTANT);
}

}  // namespace
}  // namespace hookguard

namespace hookguard {
namespace {

// A profile "stripe" (kind hmac over the body, secret kSecret) authorizing
// by the subject `account`, in shadow mode when `shadow`; the default
// profile stays the VAPI call model.
std::shared_ptr<const ProfileSet> SubjectProfiles(bool shadow = false) {
  absl::StatusOr<config::v1::Config> config =
      ParseConfigJson(absl::StrCat(R"({"profiles": [
        {"name": "vapi", "kind": "hmac", "secrets": [{"key_id": "v", "env": "K"}]},
        {"name": "stripe", "kind": "hmac", "mode": ")",
                                   shadow ? "shadow" : "enforce", R"(",
         "secrets": [{"key_id": "s", "env": "K"}],
         "ownership": {"subjects": [{"name": "account", "from": "/account",
                                     "query": "SELECT o FROM a WHERE k = :id"}]}}],
       "default_profile": "vapi"})"),
                      "test.json");
  EXPECT_TRUE(config.ok()) << config.status();
  return *ProfileSet::Build(
      *Compile(*config, FakeSecretSource(std::map<std::string, std::string>{{"K", kSecret}})));
}

class SubjectWebhookTest : public ::testing::Test {
 protected:
  explicit SubjectWebhookTest(bool shadow = false)
      : profiles_(SubjectProfiles(shadow)),
        rules_(store_),
        subjects_(store_),
        authorizer_(profiles_, rules_, ids_, WebhookAuthorizerOptions{1024}, &subjects_) {}

  v1::AuthorizeWebhookRequest Request(const std::string& body, std::string expected = "") {
    v1::AuthorizeWebhookRequest request;
    request.set_profile("stripe");
    request.set_expected_owner_id(std::move(expected));
    *request.mutable_request() = Signed(body);
    return request;
  }

  absl::Time now_ = absl::Now();
  absl::Time deadline_ = now_ + absl::Seconds(1);
  StrictMock<MockOwnershipStore> store_;
  ProfileHolder profiles_;
  CallEventAuthorizer rules_;
  SubjectAuthorizer subjects_;
  DecisionIdGenerator ids_;
  WebhookAuthorizer authorizer_;
};

TEST_F(SubjectWebhookTest, AllowsBySubjectAndTracesEachStep) {
  EXPECT_CALL(store_, FindSubjectOwner(0, absl::string_view("acct_a"), _))
      .WillOnce(Return(std::optional<std::string>("1")));
  v1::AuthorizeWebhookResponse response;
  std::vector<OwnershipStep> trace;
  SubjectIds ids;
  ASSERT_TRUE(authorizer_
                  .AuthorizeWebhook(Request(R"({"object":"event","account":"acct_a"})"), now_,
                                    deadline_, &response, &trace, &ids)
                  .ok());
  EXPECT_EQ(response.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(response.http_status(), 200);
  EXPECT_EQ(response.owner_id(), "1");
  EXPECT_EQ(response.resolved_by(), v1::OWNER_SOURCE_SUBJECT);
  EXPECT_EQ(response.resolved_subject(), "account");
  EXPECT_FALSE(response.has_event()) << "a subject profile parses no call event";
  EXPECT_EQ(ids, (SubjectIds{{"account", "acct_a"}}));
  std::vector<std::string> names;
  for (const OwnershipStep& step : trace) names.push_back(step.name);
  EXPECT_EQ(names, (std::vector<std::string>{"read_subjects", "subject:account",
                                             "owner_consistency", "expected_owner"}));
}

TEST_F(SubjectWebhookTest, AMalformedSubjectIsDecidedWithoutLookup) {
  // StrictMock: any lookup fails the test.
  for (const char* body : {R"({"account":"acct_a","Account":"acct_b"})", R"({"account":1.5})",
                           R"({"object":"event"})", "account=acct_a"}) {
    v1::AuthorizeWebhookResponse response;
    std::vector<OwnershipStep> trace;
    ASSERT_TRUE(
        authorizer_.AuthorizeWebhook(Request(body), now_, deadline_, &response, &trace).ok());
    EXPECT_EQ(response.reason(), v1::DENY_REASON_MALFORMED_EVENT) << body;
    EXPECT_EQ(response.http_status(), 400) << body;
    ASSERT_FALSE(trace.empty()) << body;
    EXPECT_EQ(trace.front().name, "read_subjects") << body;
  }
}

TEST_F(SubjectWebhookTest, UnknownSubjectIs404AndAStoreErrorStaysAnError) {
  EXPECT_CALL(store_, FindSubjectOwner(0, absl::string_view("acct_z"), _))
      .WillOnce(Return(std::optional<std::string>()))
      .WillOnce(Return(absl::UnavailableError("down")));
  auto run = [&] {
    v1::AuthorizeWebhookResponse response;
    absl::Status status = absl::UnknownError("never answered");
    authorizer_.AuthorizeWebhookAsync(Request(R"({"account":"acct_z"})"), now_, deadline_,
                                      &response, [&](absl::Status s) { status = std::move(s); });
    return std::make_pair(status, response);
  };
  auto [found, not_found] = run();
  ASSERT_TRUE(found.ok()) << found;
  EXPECT_EQ(not_found.reason(), v1::DENY_REASON_SUBJECT_NOT_FOUND);
  EXPECT_EQ(not_found.http_status(), 404);
  EXPECT_EQ(run().first.code(), absl::StatusCode::kUnavailable);
}

TEST_F(SubjectWebhookTest, TheVapiProfileBesideItKeepsTheCallModel) {
  EXPECT_CALL(store_, FindCall(absl::string_view("call_alice_1"), _))
      .WillOnce(Return(std::optional<CallOwnership>(AliceCall())));
  v1::AuthorizeWebhookRequest request =
      Request(R"({"message":{"type":"status-update","call":{"id":"call_alice_1"}}})");
  request.set_profile("vapi");
  v1::AuthorizeWebhookResponse response;
  ASSERT_TRUE(authorizer_.AuthorizeWebhook(request, now_, deadline_, &response).ok());
  EXPECT_EQ(response.resolved_by(), v1::OWNER_SOURCE_CALL);
  EXPECT_EQ(response.resolved_subject(), "");
}

class ShadowSubjectWebhookTest : public SubjectWebhookTest {
 protected:
  ShadowSubjectWebhookTest() : SubjectWebhookTest(/*shadow=*/true) {}
};

TEST_F(ShadowSubjectWebhookTest, AnswersAllowWithTheWouldBeDeny) {
  EXPECT_CALL(store_, FindSubjectOwner(0, absl::string_view("acct_z"), _))
      .WillOnce(Return(std::optional<std::string>()));
  v1::AuthorizeWebhookResponse response;
  ASSERT_TRUE(
      authorizer_.AuthorizeWebhook(Request(R"({"account":"acct_z"})"), now_, deadline_, &response)
          .ok());
  EXPECT_EQ(response.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(response.http_status(), 200);
  EXPECT_EQ(response.shadow_decision(), v1::DECISION_DENY);
  EXPECT_EQ(response.shadow_reason(), v1::DENY_REASON_SUBJECT_NOT_FOUND);
}

}  // namespace
}  // namespace hookguard

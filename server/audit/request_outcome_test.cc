#include "server/audit/request_outcome.h"

#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "server/audit/audit_log.h"

namespace hookguard {
namespace {

TEST(Rpc, NamesAreTheProtosMethodNames) {
  for (Rpc rpc : {Rpc::kVerifySignature, Rpc::kAuthorizeCallEvent, Rpc::kAuthorizeWebhook}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            "hookguard.v1.WebhookAuthService");
    ASSERT_NE(service, nullptr);
    EXPECT_NE(service->FindMethodByName(RpcName(rpc)), nullptr) << RpcName(rpc);
    EXPECT_EQ(RpcFromName(RpcName(rpc)), rpc);
  }
  EXPECT_EQ(RpcFromName("Check"), std::nullopt);
  EXPECT_EQ(RpcFromName(""), std::nullopt);
}

TEST(RequestOutcome, AllowedIsAnAllowOrAValidSignatureOfASucceededRpc) {
  RequestOutcome o;
  o.rpc = Rpc::kVerifySignature;
  EXPECT_FALSE(o.allowed());
  o.signature = v1::SIGNATURE_RESULT_VALID;
  EXPECT_TRUE(o.allowed());
  o.signature = v1::SIGNATURE_RESULT_STALE;
  EXPECT_FALSE(o.allowed());

  o.rpc = Rpc::kAuthorizeWebhook;
  o.signature = v1::SIGNATURE_RESULT_VALID;
  o.decision = v1::DECISION_DENY;
  o.reason = v1::DENY_REASON_ASSISTANT_MISMATCH;
  EXPECT_FALSE(o.allowed()) << "a valid signature does not make a deny an allow";
  o.decision = v1::DECISION_ALLOW;
  o.reason = v1::DENY_REASON_UNSPECIFIED;
  EXPECT_TRUE(o.allowed());
  o.code = absl::StatusCode::kUnavailable;
  EXPECT_FALSE(o.allowed());
}

// The audit line is the contract of docs/reference/audit-log.md: these are the exact
// lines (without kind, level and time, which AuditLog adds) the service
// wrote before the outcome was typed.
TEST(ToAuditRecord, WritesTheDocumentedFieldsAndValues) {
  RequestOutcome deny;
  deny.rpc = Rpc::kAuthorizeWebhook;
  deny.decision_id = "512e3a72209cf79a0000000000000002";
  deny.key_id = "env";
  deny.signature = v1::SIGNATURE_RESULT_VALID;
  deny.decision = v1::DECISION_DENY;
  deny.reason = v1::DENY_REASON_ASSISTANT_MISMATCH;
  deny.call_id = "call_bob_1";
  deny.caller = "ipv4:127.0.0.1:44320";
  deny.latency = absl::Microseconds(209);
  deny.detail = "assistant asst_alice is not the assistant of call call_bob_1";
  deny.assistant_id = "asst_alice";
  deny.event_type = "status-update";
  EXPECT_EQ(AuditLog::ToJson(ToAuditRecord(deny)),
            R"({"decision_id":"512e3a72209cf79a0000000000000002","rpc":"AuthorizeWebhook",)"
            R"("key_id":"env","signature":"SIGNATURE_RESULT_VALID","decision":"DECISION_DENY",)"
            R"("reason":"DENY_REASON_ASSISTANT_MISMATCH","call_id":"call_bob_1",)"
            R"("caller":"ipv4:127.0.0.1:44320","latency_us":"209",)"
            R"("detail":"assistant asst_alice is not the assistant of call call_bob_1",)"
            R"("event_type":"status-update","assistant_id":"asst_alice"})");

  RequestOutcome shadow;
  shadow.rpc = Rpc::kAuthorizeCallEvent;
  shadow.profile = "vapi";
  shadow.decision = v1::DECISION_ALLOW;
  shadow.owner_id = "1";
  shadow.resolved_by = v1::OWNER_SOURCE_PHONE_NUMBER;
  shadow.shadow = true;
  shadow.phone_number_id = "phone_alice";
  EXPECT_EQ(AuditLog::ToJson(ToAuditRecord(shadow)),
            R"({"rpc":"AuthorizeCallEvent","profile":"vapi","decision":"DECISION_ALLOW",)"
            R"("owner_id":"1","resolved_by":"OWNER_SOURCE_PHONE_NUMBER","mode":"shadow",)"
            R"("phone_number_id":"phone_alice"})");

  RequestOutcome failed;
  failed.rpc = Rpc::kVerifySignature;
  failed.code = absl::StatusCode::kInvalidArgument;
  failed.detail = "unknown profile \"x\"";
  failed.message_id = "m1";
  EXPECT_EQ(AuditLog::ToJson(ToAuditRecord(failed)),
            R"({"rpc":"VerifySignature","grpc_code":"INVALID_ARGUMENT",)"
            R"("detail":"unknown profile \"x\"","message_id":"m1"})");
}

}  // namespace
}  // namespace hookguard

namespace hookguard {
namespace {

TEST(FormatSubjects, WritesNameEqualsIdPairsThatSplitBackUnambiguously) {
  const struct {
    std::vector<std::pair<std::string, std::string>> subjects;
    std::string want;
  } cases[] = {
      {{}, ""},
      {{{"account", "acct_1"}}, "account=acct_1"},
      {{{"agent", "ag_1"}, {"number", "+12137771234"}}, "agent=ag_1,number=+12137771234"},
      {{{"a", "x,b=y%"}}, "a=x%2Cb%3Dy%25"},
  };
  for (const auto& c : cases) EXPECT_EQ(FormatSubjects(c.subjects), c.want);
}

TEST(ToAuditRecord, CarriesTheSubjectsAndTheResolvedSubject) {
  RequestOutcome outcome;
  outcome.subjects = "account=acct_1";
  outcome.resolved_subject = "account";
  outcome.resolved_by = v1::OWNER_SOURCE_SUBJECT;
  const audit::v1::AuditRecord r = ToAuditRecord(outcome);
  EXPECT_EQ(r.subjects(), "account=acct_1");
  EXPECT_EQ(r.resolved_subject(), "account");
  EXPECT_EQ(r.resolved_by(), "OWNER_SOURCE_SUBJECT");
}

}  // namespace
}  // namespace hookguard

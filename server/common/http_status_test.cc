#include "server/common/http_status.h"

#include "gtest/gtest.h"

namespace hookguard {
namespace {

struct DecisionCase {
  v1::Decision decision;
  v1::DenyReason reason;
  int status;
};

TEST(HttpStatusForDecision, FollowsTheContractTable) {
  const DecisionCase cases[] = {
      {v1::DECISION_ALLOW, v1::DENY_REASON_UNSPECIFIED, 200},
      {v1::DECISION_DENY, v1::DENY_REASON_MALFORMED_EVENT, 400},
      {v1::DECISION_DENY, v1::DENY_REASON_SIGNATURE_INVALID, 401},
      {v1::DECISION_DENY, v1::DENY_REASON_CALL_NOT_FOUND, 404},
      {v1::DECISION_DENY, v1::DENY_REASON_ASSISTANT_MISMATCH, 403},
      {v1::DECISION_DENY, v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH, 403},
      {v1::DECISION_DENY, v1::DENY_REASON_PHONE_NUMBER_MISMATCH, 403},
      {v1::DECISION_DENY, v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH, 403},
      {v1::DECISION_DENY, v1::DENY_REASON_OWNER_MISMATCH, 403},
      {v1::DECISION_DENY, v1::DENY_REASON_OWNER_CONFLICT, 403},
      {v1::DECISION_DENY, v1::DENY_REASON_SUBJECT_NOT_FOUND, 404},
      {v1::DECISION_DENY, v1::DENY_REASON_UNSPECIFIED, 403},
      {v1::DECISION_UNSPECIFIED, v1::DENY_REASON_UNSPECIFIED, 403},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(HttpStatusForDecision(c.decision, c.reason), c.status)
        << v1::Decision_Name(c.decision) << " " << v1::DenyReason_Name(c.reason);
  }
}

TEST(HttpStatusForSignature, OnlyValidIs200) {
  EXPECT_EQ(HttpStatusForSignature(v1::SIGNATURE_RESULT_VALID), 200);
  for (auto r : {v1::SIGNATURE_RESULT_UNSPECIFIED, v1::SIGNATURE_RESULT_MISSING,
                 v1::SIGNATURE_RESULT_MALFORMED, v1::SIGNATURE_RESULT_MISMATCH,
                 v1::SIGNATURE_RESULT_STALE}) {
    EXPECT_EQ(HttpStatusForSignature(r), 401) << v1::SignatureResult_Name(r);
  }
}

}  // namespace
}  // namespace hookguard

#include "server/common/http_status.h"

namespace hookguard {

int HttpStatusForDecision(v1::Decision decision, v1::DenyReason reason) {
  if (decision == v1::DECISION_ALLOW) return 200;
  switch (reason) {
    case v1::DENY_REASON_MALFORMED_EVENT:
      return 400;
    case v1::DENY_REASON_SIGNATURE_INVALID:
      return 401;
    case v1::DENY_REASON_CALL_NOT_FOUND:
    case v1::DENY_REASON_SUBJECT_NOT_FOUND:
      return 404;
    default:
      return 403;
  }
}

int HttpStatusForSignature(v1::SignatureResult result) {
  return result == v1::SIGNATURE_RESULT_VALID ? 200 : 401;
}

}  // namespace hookguard

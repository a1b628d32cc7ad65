// The one place that maps a decision to the HTTP status the web tier answers
// the platform with (the proto's http_status comments), so every language mirrors it.
#ifndef HOOKGUARD_SERVER_COMMON_HTTP_STATUS_H_
#define HOOKGUARD_SERVER_COMMON_HTTP_STATUS_H_

#include "hookguard/v1/hookguard.pb.h"

namespace hookguard {

// ALLOW 200; MALFORMED_EVENT 400; SIGNATURE_INVALID 401; CALL_NOT_FOUND 404;
// every other deny 403. An UNSPECIFIED decision is a deny (403).
int HttpStatusForDecision(v1::Decision decision, v1::DenyReason reason);

// VALID 200, anything else 401.
int HttpStatusForSignature(v1::SignatureResult result);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_COMMON_HTTP_STATUS_H_

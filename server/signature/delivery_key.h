// The delivery key: one value for every delivery of the same event, so that
// an app can drop duplicates with a unique constraint.
#ifndef HOOKGUARD_SERVER_SIGNATURE_DELIVERY_KEY_H_
#define HOOKGUARD_SERVER_SIGNATURE_DELIVERY_KEY_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/signature/verifier.h"

namespace hookguard {

// For a VALID `outcome`: its message id when the MAC covers it (a retry
// carries the same id, and nobody can forge one), else the lowercase hex
// SHA-256 of `body` (a retry carries the same bytes). "" for any other
// result: an unverified request has no key.
std::string DeliveryKey(const VerifyOutcome& outcome, absl::string_view body);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_DELIVERY_KEY_H_

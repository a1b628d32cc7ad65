// What one RPC answered, as typed values: the audit line and the metrics
// are both made from it, so neither reads the other's strings.
#ifndef HOOKGUARD_SERVER_AUDIT_REQUEST_OUTCOME_H_
#define HOOKGUARD_SERVER_AUDIT_REQUEST_OUTCOME_H_

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "hookguard/audit/v1/audit.pb.h"
#include "hookguard/v1/hookguard.pb.h"

namespace hookguard {

// The RPCs of hookguard.v1.WebhookAuthService.
enum class Rpc { kVerifySignature, kAuthorizeCallEvent, kAuthorizeWebhook };

// The method's name in the proto, e.g. "AuthorizeWebhook".
const char* RpcName(Rpc rpc);

// The Rpc whose RpcName is `name`; nullopt for any other name.
std::optional<Rpc> RpcFromName(absl::string_view name);

// One answered RPC. Request-supplied strings (profile, ids, message id,
// caller) are held capped (CapEcho) by whoever fills them in. Never holds a
// secret, a signature or a body.
struct RequestOutcome {
  Rpc rpc = Rpc::kVerifySignature;
  // The RPC's status; `detail` then holds its whole message (for the log:
  // the caller gets ToGrpcStatus's).
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string caller;
  absl::Duration latency;

  std::string profile;  // as the request named it; empty: the default profile
  // UNSPECIFIED when no signature was checked (AuthorizeCallEvent, or a
  // failed RPC).
  v1::SignatureResult signature = v1::SIGNATURE_RESULT_UNSPECIFIED;
  std::string key_id;
  std::string message_id;

  // An authorization's decision: what the checks reached. In shadow mode
  // (`shadow`) that is the decision enforcement would have given, while the
  // caller was answered ALLOW. UNSPECIFIED for VerifySignature and failed
  // RPCs.
  v1::Decision decision = v1::DECISION_UNSPECIFIED;
  v1::DenyReason reason = v1::DENY_REASON_UNSPECIFIED;
  v1::OwnerSource resolved_by = v1::OWNER_SOURCE_UNSPECIFIED;
  bool shadow = false;
  std::string decision_id;
  std::string owner_id;

  // The event's ids, as the parser or the caller gave them.
  std::string call_id;
  std::string event_type;
  std::string assistant_id;
  std::string phone_number_id;

  // A subject profile's subjects, as the audit line writes them
  // (FormatSubjects), and the one that gave the owner.
  std::string subjects;
  std::string resolved_subject;

  std::string detail;

  // An allow: the RPC succeeded and the decision is ALLOW, or, for
  // VerifySignature, the signature is VALID. Everything else (a deny, a bad
  // signature, a failed RPC) is a security event.
  bool allowed() const;
};

// The audit line's record: every field by its proto name, enums by their
// names, unset values left empty (docs/reference/audit-log.md).
// `kind`, `level` and `time` are the AuditLog's to set.
audit::v1::AuditRecord ToAuditRecord(RequestOutcome outcome);

// The (name, id) pairs of the subjects a body named, as the audit line's
// `subjects`: "name=id" joined by ","; in an id '%', ',' and '=' become
// %25, %2C and %3D, so that the text splits back unambiguously.
std::string FormatSubjects(absl::Span<const std::pair<std::string, std::string>> subjects);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_AUDIT_REQUEST_OUTCOME_H_

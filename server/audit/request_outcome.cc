#include "server/audit/request_outcome.h"

#include <utility>

namespace hookguard {
namespace {

constexpr Rpc kRpcs[] = {Rpc::kVerifySignature, Rpc::kAuthorizeCallEvent, Rpc::kAuthorizeWebhook};

}  // namespace

const char* RpcName(Rpc rpc) {
  switch (rpc) {
    case Rpc::kVerifySignature:
      return "VerifySignature";
    case Rpc::kAuthorizeCallEvent:
      return "AuthorizeCallEvent";
    case Rpc::kAuthorizeWebhook:
      return "AuthorizeWebhook";
  }
  return "";
}

std::optional<Rpc> RpcFromName(absl::string_view name) {
  for (Rpc rpc : kRpcs) {
    if (name == RpcName(rpc)) return rpc;
  }
  return std::nullopt;
}

bool RequestOutcome::allowed() const {
  if (code != absl::StatusCode::kOk) return false;
  if (decision != v1::DECISION_UNSPECIFIED) return decision == v1::DECISION_ALLOW;
  return signature == v1::SIGNATURE_RESULT_VALID;
}

audit::v1::AuditRecord ToAuditRecord(RequestOutcome o) {
  audit::v1::AuditRecord r;
  r.set_decision_id(std::move(o.decision_id));
  r.set_rpc(RpcName(o.rpc));
  r.set_profile(std::move(o.profile));
  r.set_key_id(std::move(o.key_id));
  if (o.signature != v1::SIGNATURE_RESULT_UNSPECIFIED) {
    r.set_signature(v1::SignatureResult_Name(o.signature));
  }
  if (o.decision != v1::DECISION_UNSPECIFIED) r.set_decision(v1::Decision_Name(o.decision));
  if (o.reason != v1::DENY_REASON_UNSPECIFIED) r.set_reason(v1::DenyReason_Name(o.reason));
  r.set_call_id(std::move(o.call_id));
  r.set_owner_id(std::move(o.owner_id));
  r.set_caller(std::move(o.caller));
  r.set_latency_us(absl::ToInt64Microseconds(o.latency));
  if (o.code != absl::StatusCode::kOk) r.set_grpc_code(absl::StatusCodeToString(o.code));
  r.set_detail(std::move(o.detail));
  r.set_message_id(std::move(o.message_id));
  if (o.resolved_by != v1::OWNER_SOURCE_UNSPECIFIED) {
    r.set_resolved_by(v1::OwnerSource_Name(o.resolved_by));
  }
  if (o.shadow) r.set_mode("shadow");
  r.set_event_type(std::move(o.event_type));
  r.set_assistant_id(std::move(o.assistant_id));
  r.set_phone_number_id(std::move(o.phone_number_id));
  r.set_subjects(std::move(o.subjects));
  r.set_resolved_subject(std::move(o.resolved_subject));
  return r;
}

std::string FormatSubjects(absl::Span<const std::pair<std::string, std::string>> subjects) {
  std::string out;
  for (const auto& [name, id] : subjects) {
    if (!out.empty()) out.push_back(',');
    out.append(name);
    out.push_back('=');
    for (char c : id) {
      switch (c) {
        case '%':
          out.append("%25");
          break;
        case ',':
          out.append("%2C");
          break;
        case '=':
          out.append("%3D");
          break;
        default:
          out.push_back(c);
      }
    }
  }
  return out;
}

}  // namespace hookguard

// `hookguard audit-db`: finds the rows of the ownership database that make
// the service deny a legitimate webhook (or that an attacker could exploit):
// calls whose assistant or phone number belongs to another user, or points
// at no row. Read-only; no gRPC in here.
#ifndef HOOKGUARD_TOOLS_HOOKGUARD_OWNERSHIP_AUDIT_H_
#define HOOKGUARD_TOOLS_HOOKGUARD_OWNERSHIP_AUDIT_H_

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hookguard/v1/hookguard.pb.h"
#include "server/ownership/ownership_queries.h"
#include "server/ownership/soci_session.h"

namespace hookguard::cli {

// What is wrong with one call. The names (FindingKindName) are part of the
// stable JSON output.
enum class FindingKind {
  kAssistantOwnerMismatch = 0,  // the call's assistant is another user's
  kAssistantMissing,            // the call's assistant row is missing (or has no owner)
  kPhoneNumberOwnerMismatch,    // the call's phone number is another user's
  kPhoneNumberMissing,          // the call's phone number row is missing (or has no owner)
};
inline constexpr int kFindingKinds = 4;

// "assistant_owner_mismatch", "assistant_missing",
// "phone_number_owner_mismatch", "phone_number_missing".
const char* FindingKindName(FindingKind kind);

// The deny reason the service gives every webhook of such a call.
v1::DenyReason DenyReasonOf(FindingKind kind);

// True for the two assistant kinds.
bool IsAssistantKind(FindingKind kind);

struct AuditFinding {
  FindingKind kind = FindingKind::kAssistantOwnerMismatch;
  std::string call_id;
  std::optional<std::string> call_owner_id;
  std::optional<std::string> reference_id;        // the assistant's or phone number's provider id
  std::optional<std::string> reference_owner_id;  // its owner
};

struct AuditReport {
  std::vector<AuditFinding> findings;          // assistant findings, then phone number findings
  std::array<int, kFindingKinds> counts = {};  // indexed by FindingKind
  bool clean() const { return findings.empty(); }
};

// Opens `database` (read-only: SQLite is opened read-only, PostgreSQL
// sessions are set to read-only transactions) and runs both audit queries
// (`queries.audit_assistant` / `audit_phone_number`: config
// ownership.audit_*_query, or the default schema's). A returned row is classified by its owners: a
// NULL reference owner is *_missing, an owner other than the call's is
// *_owner_mismatch; a row whose owners agree is not a finding (a custom
// query may be broader than needed).
// Errors: UNAVAILABLE when the database cannot be reached, INVALID_ARGUMENT
// when a query fails (the message names the query's config key). Messages
// never hold the password.
absl::StatusOr<AuditReport> RunOwnershipAudit(const SociDatabase& database,
                                              const OwnershipQueries& queries);

}  // namespace hookguard::cli

#endif  // HOOKGUARD_TOOLS_HOOKGUARD_OWNERSHIP_AUDIT_H_

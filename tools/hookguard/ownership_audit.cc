#include "tools/hookguard/ownership_audit.h"

#include <soci/soci.h>

#include <exception>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace hookguard::cli {

const char* FindingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kAssistantOwnerMismatch:
      return "assistant_owner_mismatch";
    case FindingKind::kAssistantMissing:
      return "assistant_missing";
    case FindingKind::kPhoneNumberOwnerMismatch:
      return "phone_number_owner_mismatch";
    case FindingKind::kPhoneNumberMissing:
      return "phone_number_missing";
  }
  return "unknown";
}

bool IsAssistantKind(FindingKind kind) {
  return kind == FindingKind::kAssistantOwnerMismatch || kind == FindingKind::kAssistantMissing;
}

v1::DenyReason DenyReasonOf(FindingKind kind) {
  return IsAssistantKind(kind) ? v1::DENY_REASON_ASSISTANT_OWNER_MISMATCH
                               : v1::DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH;
}

namespace {

std::optional<std::string> Optional(const std::string& value, soci::indicator ind) {
  if (ind == soci::i_null) return std::nullopt;
  return value;
}

// Runs one audit query and appends its findings.
absl::Status RunQuery(const SociDatabase& database, soci::session& session,
                      const std::string& query, const char* config_key, bool assistant,
                      AuditReport* report) {
  std::string call_id, call_owner, reference, reference_owner;
  soci::indicator call_ind = soci::i_null, call_owner_ind = soci::i_null,
                  reference_ind = soci::i_null, reference_owner_ind = soci::i_null;
  try {
    soci::statement statement =
        (session.prepare << query, soci::into(call_id, call_ind),
         soci::into(call_owner, call_owner_ind), soci::into(reference, reference_ind),
         soci::into(reference_owner, reference_owner_ind));
    statement.execute();
    while (statement.fetch()) {
      AuditFinding finding;
      finding.call_id = call_ind == soci::i_null ? std::string() : call_id;
      finding.call_owner_id = Optional(call_owner, call_owner_ind);
      finding.reference_id = Optional(reference, reference_ind);
      finding.reference_owner_id = Optional(reference_owner, reference_owner_ind);
      if (!finding.reference_owner_id.has_value()) {
        finding.kind =
            assistant ? FindingKind::kAssistantMissing : FindingKind::kPhoneNumberMissing;
      } else if (finding.reference_owner_id != finding.call_owner_id) {
        finding.kind = assistant ? FindingKind::kAssistantOwnerMismatch
                                 : FindingKind::kPhoneNumberOwnerMismatch;
      } else {
        continue;  // owners agree: consistent
      }
      ++report->counts[static_cast<int>(finding.kind)];
      report->findings.push_back(std::move(finding));
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ownership.", config_key, " failed on ", database.Where(), ": ", database.Scrub(e.what())));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AuditReport> RunOwnershipAudit(const SociDatabase& database,
                                              const OwnershipQueries& queries) {
  absl::StatusOr<std::unique_ptr<soci::session>> session = database.Open();
  if (!session.ok()) return session.status();
  if (database.kind == SociDatabase::Kind::kPostgresql) {
    try {
      // A custom query cannot write, even with a role that could.
      **session << "SET default_transaction_read_only = on";
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("cannot configure the PostgreSQL session: ", database.Scrub(e.what())));
    }
  }
  AuditReport report;
  if (absl::Status s =
          RunQuery(database, **session, queries.audit_assistant, "audit_assistant_query",
                   /*assistant=*/true, &report);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          RunQuery(database, **session, queries.audit_phone_number, "audit_phone_number_query",
                   /*assistant=*/false, &report);
      !s.ok()) {
    return s;
  }
  return report;
}

}  // namespace hookguard::cli

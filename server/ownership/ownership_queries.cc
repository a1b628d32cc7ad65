#include "server/ownership/ownership_queries.h"

#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hookguard {

const char kDefaultCallQuery[] =
    "SELECT CAST(c.user_id AS TEXT),"
    " a.vapi_assistant_id,"
    " CAST(a.user_id AS TEXT),"
    " CASE WHEN c.phone_number_id IS NULL THEN NULL"
    " ELSE COALESCE(p.vapi_phone_number_id, '') END,"
    " CAST(p.user_id AS TEXT)"
    " FROM api_interviewcall c"
    " LEFT JOIN api_assistant a ON a.id = c.assistant_id"
    " LEFT JOIN api_phonenumber p ON p.id = c.phone_number_id"
    " WHERE c.vapi_call_id = :call_id";

const char kDefaultPhoneNumberQuery[] =
    "SELECT CAST(user_id AS TEXT) FROM api_phonenumber"
    " WHERE vapi_phone_number_id = :phone_number_id";

const char kDefaultAssistantQuery[] =
    "SELECT CAST(user_id AS TEXT) FROM api_assistant WHERE vapi_assistant_id = :assistant_id";

const char kDefaultAuditAssistantQuery[] =
    "SELECT c.vapi_call_id, CAST(c.user_id AS TEXT), a.vapi_assistant_id,"
    " CAST(a.user_id AS TEXT)"
    " FROM api_interviewcall c"
    " LEFT JOIN api_assistant a ON a.id = c.assistant_id"
    " WHERE a.id IS NULL OR a.user_id IS NULL OR c.user_id IS NULL OR a.user_id <> c.user_id"
    " ORDER BY c.vapi_call_id";

const char kDefaultAuditPhoneNumberQuery[] =
    "SELECT c.vapi_call_id, CAST(c.user_id AS TEXT), p.vapi_phone_number_id,"
    " CAST(p.user_id AS TEXT)"
    " FROM api_interviewcall c"
    " LEFT JOIN api_phonenumber p ON p.id = c.phone_number_id"
    " WHERE c.phone_number_id IS NOT NULL"
    " AND (p.id IS NULL OR p.user_id IS NULL OR c.user_id IS NULL OR p.user_id <> c.user_id)"
    " ORDER BY c.vapi_call_id";

bool OwnershipQueries::operator==(const OwnershipQueries& o) const {
  return std::tie(call, phone_number, assistant, audit_assistant, audit_phone_number) ==
         std::tie(o.call, o.phone_number, o.assistant, o.audit_assistant, o.audit_phone_number);
}

absl::StatusOr<OwnershipQueries> CompileOwnershipQueries(const config::v1::Ownership& ownership) {
  OwnershipQueries queries;
  const struct {
    const char* key;
    const std::string& configured;
    std::string* out;
    const char* parameter;  // nullptr: takes none
  } fields[] = {
      {"call_query", ownership.call_query(), &queries.call, ":call_id"},
      {"phone_number_query", ownership.phone_number_query(), &queries.phone_number,
       ":phone_number_id"},
      {"assistant_query", ownership.assistant_query(), &queries.assistant, ":assistant_id"},
      {"audit_assistant_query", ownership.audit_assistant_query(), &queries.audit_assistant,
       nullptr},
      {"audit_phone_number_query", ownership.audit_phone_number_query(),
       &queries.audit_phone_number, nullptr},
  };
  for (const auto& f : fields) {
    if (f.configured.empty()) continue;
    if (f.parameter != nullptr && !absl::StrContains(f.configured, f.parameter)) {
      return absl::InvalidArgumentError(
          absl::StrCat("ownership.", f.key, ": must bind ", f.parameter,
                       " (a bound parameter, never text built from the request)"));
    }
    *f.out = f.configured;
  }
  return queries;
}

}  // namespace hookguard

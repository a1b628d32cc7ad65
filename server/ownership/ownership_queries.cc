#include "server/ownership/ownership_queries.h"

#include <algorithm>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
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

namespace {

// The batched forms look each id up on its own (see DefaultBatchQuery),
// and reach the assistant and the phone number through correlated scalar
// subqueries on their primary keys rather than joins: a join, even for one
// call row, may be hashed against the whole table (PostgreSQL does so for a
// table of one page). Same answers as the LEFT JOINs of kDefaultCallQuery,
// NULLs included (soci_ownership_store_test compares them on every fixture).
struct DefaultParts {
  const char* columns;
  const char* from;
  const char* key;
};
// Indexed by LookupQuery.
constexpr DefaultParts kDefaultParts[] = {
    {"CAST(c.user_id AS TEXT),"
     " (SELECT a.vapi_assistant_id FROM api_assistant a WHERE a.id = c.assistant_id),"
     " (SELECT CAST(a.user_id AS TEXT) FROM api_assistant a WHERE a.id = c.assistant_id),"
     " CASE WHEN c.phone_number_id IS NULL THEN NULL ELSE COALESCE((SELECT"
     " p.vapi_phone_number_id FROM api_phonenumber p WHERE p.id = c.phone_number_id), '') END,"
     " (SELECT CAST(p.user_id AS TEXT) FROM api_phonenumber p WHERE p.id = c.phone_number_id)",
     "api_interviewcall c", "c.vapi_call_id"},
    {"CAST(user_id AS TEXT)", "api_phonenumber", "vapi_phone_number_id"},
    {"CAST(user_id AS TEXT)", "api_assistant", "vapi_assistant_id"},
};

}  // namespace

std::string DefaultBatchQuery(LookupQuery query, int n, bool postgresql) {
  const DefaultParts& parts = kDefaultParts[static_cast<int>(query)];
  // The ids as a relation (slot, id): portable, and each id a bound parameter.
  std::string keys;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&keys,
                    i == 0 ? "SELECT 0 AS slot, CAST(:id0 AS TEXT) AS id"
                           : absl::StrCat(" UNION ALL SELECT ", i, ", CAST(:id", i, " AS TEXT)"));
  }
  if (postgresql) {
    // LATERAL ... OFFSET 0: a subquery planned per id (never flattened into
    // a join the planner could hash), i.e. the one-id query's plan n times.
    return absl::StrCat("SELECT k.slot, r.* FROM (", keys, ") k CROSS JOIN LATERAL (SELECT ",
                        parts.columns, " FROM ", parts.from, " WHERE ", parts.key,
                        " = k.id OFFSET 0) r");
  }
  // SQLite only loops: CROSS JOIN keeps the ids as the outer loop.
  return absl::StrCat("SELECT k.slot, ", parts.columns, " FROM (", keys, ") k CROSS JOIN ",
                      parts.from, " WHERE ", parts.key, " = k.id");
}

namespace {

bool IdentifierChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// `query` with every :`parameter` outside quotes and comments renamed
// :`renamed`; nullopt when the query holds a ';' before its end or names
// the parameter nowhere. Follows the SQL both databases parse: '...' and
// "..." (a doubled quote inside stays inside), -- and /* */ comments, and
// '::' casts (not parameters); a query with a backslash or a '$' is not
// rewritten at all.
std::optional<std::string> RenameParameter(absl::string_view query, absl::string_view parameter,
                                           absl::string_view renamed) {
  // Backslash escapes (E'...') and dollar quoting ($$...$$) are left
  // alone: such a query runs one lookup per query.
  if (absl::StrContains(query, '\\') || absl::StrContains(query, '$')) return std::nullopt;
  // A trailing ';' (and the blanks around it) is dropped: the copy is
  // wrapped in a subquery.
  while (!query.empty() &&
         (absl::ascii_isspace(static_cast<unsigned char>(query.back())) || query.back() == ';')) {
    query.remove_suffix(1);
  }
  std::string out;
  out.reserve(query.size() + 16);
  bool found = false;
  for (size_t i = 0; i < query.size();) {
    const char c = query[i];
    if (c == '\'' || c == '"') {
      size_t end = i + 1;
      while (end < query.size()) {
        if (query[end] == c) {
          if (end + 1 < query.size() && query[end + 1] == c) {
            end += 2;  // a doubled quote
            continue;
          }
          break;
        }
        ++end;
      }
      if (end >= query.size()) return std::nullopt;  // unterminated
      absl::StrAppend(&out, query.substr(i, end + 1 - i));
      i = end + 1;
    } else if (c == '-' && i + 1 < query.size() && query[i + 1] == '-') {
      // To the line's end (the wrapper starts a new line after the copy).
      const size_t end = std::min(query.find('\n', i), query.size());
      absl::StrAppend(&out, query.substr(i, end - i));
      i = end;
    } else if (c == '/' && i + 1 < query.size() && query[i + 1] == '*') {
      const size_t end = query.find("*/", i + 2);
      if (end == absl::string_view::npos) return std::nullopt;
      absl::StrAppend(&out, query.substr(i, end + 2 - i));
      i = end + 2;
    } else if (c == ';') {
      return std::nullopt;  // more than one statement
    } else if (c == ':' && i + 1 < query.size() && query[i + 1] == ':') {
      out.append("::");  // a cast
      i += 2;
    } else if (c == ':' && query.substr(i + 1, parameter.size()) == parameter &&
               (i + 1 + parameter.size() >= query.size() ||
                !IdentifierChar(query[i + 1 + parameter.size()]))) {
      absl::StrAppend(&out, ":", renamed);
      i += 1 + parameter.size();
      found = true;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  if (!found) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::string> ConfiguredBatchQuery(absl::string_view query,
                                                absl::string_view parameter, int n) {
  std::string batch;
  for (int i = 0; i < n; ++i) {
    std::optional<std::string> copy = RenameParameter(query, parameter, absl::StrCat("id", i));
    if (!copy.has_value()) return std::nullopt;
    absl::StrAppend(&batch, i == 0 ? "" : " UNION ALL ", "SELECT ", i, " AS slot, q", i,
                    ".* FROM (", *copy, "\n) q", i);
  }
  return batch;
}

bool OwnershipQueries::operator==(const OwnershipQueries& o) const {
  return std::tie(call, phone_number, assistant, audit_assistant, audit_phone_number) ==
         std::tie(o.call, o.phone_number, o.assistant, o.audit_assistant, o.audit_phone_number);
}

absl::StatusOr<OwnershipQueries> CompileOwnershipQueries(const config::v1::Ownership& ownership) {
  OwnershipQueries queries;
  if (!ownership.call_query().empty()) {
    // An own schema: the default schema's tables are not there to read.
    queries.phone_number.clear();
    queries.assistant.clear();
  }
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

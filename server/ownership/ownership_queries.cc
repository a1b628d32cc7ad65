#include "server/ownership/ownership_queries.h"

#include <algorithm>
#include <tuple>
#include <vector>

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
  // PostgreSQL and SQLite both take bytes >= 0x80 (UTF-8) into identifiers.
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Where the quoted text that opens at `i` with `quote` ends (one past its
// closing quote), a doubled quote staying inside; npos when unterminated.
size_t QuotedEnd(absl::string_view query, size_t i, char quote) {
  for (size_t end = i + 1; end < query.size(); ++end) {
    if (query[end] != quote) continue;
    if (end + 1 < query.size() && query[end + 1] == quote) {
      ++end;  // a doubled quote
      continue;
    }
    return end + 1;
  }
  return absl::string_view::npos;
}

// The parameters SOCI's PostgreSQL backend finds in `text` when it turns
// :name into $n: its own scan knows '...' strings and "::" / ":=" only (some
// versions "..." too: both are asked), not comments, dollar quoting or
// escapes. nullopt when the two readings differ.
std::optional<std::vector<std::string>> SociPostgresqlNames(absl::string_view text) {
  std::optional<std::vector<std::string>> agreed;
  for (const bool knows_identifiers : {false, true}) {
    std::vector<std::string> names;
    char in = 0;  // the quote we are inside, or 0
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (in != 0) {
        if (c == in) in = 0;
      } else if (c == '\'' || (knows_identifiers && c == '"')) {
        in = c;
      } else if (c == ':') {
        if (i + 1 < text.size() && (text[i + 1] == ':' || text[i + 1] == '=')) {
          ++i;
          continue;
        }
        size_t end = i + 1;
        while (end < text.size() &&
               (absl::ascii_isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
          ++end;
        }
        names.emplace_back(text.substr(i + 1, end - i - 1));
        i = end - 1;
      }
    }
    if (agreed.has_value() && *agreed != names) return std::nullopt;
    agreed = std::move(names);
  }
  return agreed;
}

// Every ':' followed by a name in `text`, read without regard to quotes or
// comments ("::" casts skipped): what either database or SOCI could take
// for a parameter.
std::vector<std::string> AnyParameterText(absl::string_view text) {
  std::vector<std::string> names;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != ':') continue;
    if (i + 1 < text.size() && text[i + 1] == ':') {
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < text.size() && IdentifierChar(text[end])) ++end;
    if (end > i + 1) names.emplace_back(text.substr(i + 1, end - i - 1));
    i = end - 1;
  }
  return names;
}

// `query` with every :`parameter` in its SQL (outside quotes and comments)
// renamed :`renamed`, and its comments dropped (each replaced by a space);
// nullopt when the query holds a ';' before its end, names the parameter
// nowhere, or holds anything this lexer of `dialect` does not follow for
// sure (see ConfiguredBatchQuery).
std::optional<std::string> RenameParameter(absl::string_view query, absl::string_view parameter,
                                           absl::string_view renamed, SqlDialect dialect,
                                           int* renames) {
  const bool pg = dialect == SqlDialect::kPostgresql;
  // A trailing ';' (and the blanks around it) is dropped: the copy is
  // wrapped in a subquery.
  while (!query.empty() &&
         (absl::ascii_isspace(static_cast<unsigned char>(query.back())) || query.back() == ';')) {
    query.remove_suffix(1);
  }
  std::string out;
  out.reserve(query.size() + 16);
  *renames = 0;
  constexpr size_t npos = absl::string_view::npos;
  for (size_t i = 0; i < query.size();) {
    const char c = query[i];
    const char next = i + 1 < query.size() ? query[i + 1] : '\0';
    const bool after_identifier = i > 0 && (IdentifierChar(query[i - 1]) || query[i - 1] == '$');
    size_t end = npos;  // one past a quoted token copied as it is
    if (c == '\'') {
      const bool escapes = pg && i > 0 && (query[i - 1] == 'E' || query[i - 1] == 'e') &&
                           !(i > 1 && (IdentifierChar(query[i - 2]) || query[i - 2] == '$'));
      if (escapes) {  // PostgreSQL E'...': backslash escapes, and '' inside
        for (size_t j = i + 1; j < query.size(); ++j) {
          if (query[j] == '\\') {
            ++j;
          } else if (query[j] == '\'') {
            if (j + 1 < query.size() && query[j + 1] == '\'') {
              ++j;
            } else {
              end = j + 1;
              break;
            }
          }
        }
      } else {
        end = QuotedEnd(query, i, '\'');
        // A backslash in a plain PostgreSQL string is an escape when
        // standard_conforming_strings is off: not followed.
        if (pg && end != npos && absl::StrContains(query.substr(i, end - i), '\\')) {
          return std::nullopt;
        }
      }
      if (end == npos) return std::nullopt;
    } else if (c == '"' || (!pg && c == '`')) {
      end = QuotedEnd(query, i, c);
      if (end == npos) return std::nullopt;
    } else if (!pg && c == '[') {  // SQLite [identifier]: no escapes
      end = query.find(']', i + 1);
      if (end == npos) return std::nullopt;
      ++end;
    } else if (pg && c == '$' && !after_identifier) {
      // $n (a positional parameter) or $tag$...$tag$ (dollar quoting).
      size_t tag_end = i + 1;
      while (tag_end < query.size() && IdentifierChar(query[tag_end])) ++tag_end;
      if (tag_end >= query.size() || query[tag_end] != '$' ||
          absl::ascii_isdigit(static_cast<unsigned char>(next))) {
        return std::nullopt;
      }
      const absl::string_view tag = query.substr(i, tag_end + 1 - i);
      const size_t close = query.find(tag, tag_end + 1);
      if (close == npos) return std::nullopt;
      end = close + tag.size();
    } else if (!pg && (c == '?' || ((c == '$' || c == '@') && IdentifierChar(next)))) {
      return std::nullopt;  // SQLite's other parameter forms: never bound
    } else if (c == '-' && next == '-') {
      // To the line's end: PostgreSQL ends it at '\r' too, SQLite at '\n'
      // only; a bare '\r' in one (the two disagree) is not followed.
      size_t stop = query.find('\n', i);
      if (stop == npos) stop = query.size();
      const size_t cr = query.substr(0, stop).find('\r', i);
      if (cr != npos && cr + 1 != stop) return std::nullopt;
      out.push_back(' ');
      i = stop;
      continue;
    } else if (c == '/' && next == '*') {
      // PostgreSQL nests /* */, SQLite does not: a comment that opens
      // another inside (where the two disagree) is not followed.
      const size_t close = query.find("*/", i + 2);
      if (close == npos) return std::nullopt;
      if (query.substr(i + 2, close - i - 2).find("/*") != npos) return std::nullopt;
      out.push_back(' ');
      i = close + 2;
      continue;
    } else if (c == ';') {
      return std::nullopt;  // more than one statement
    } else if (c == ':' && next == ':') {
      out.append("::");  // a cast
      i += 2;
      continue;
    } else if (c == ':' && query.substr(i + 1, parameter.size()) == parameter &&
               (i + 1 + parameter.size() >= query.size() ||
                !IdentifierChar(query[i + 1 + parameter.size()]))) {
      absl::StrAppend(&out, ":", renamed);
      i += 1 + parameter.size();
      ++*renames;
      continue;
    }
    if (end != npos) {
      absl::StrAppend(&out, query.substr(i, end - i));
      i = end;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  if (*renames == 0) return std::nullopt;
  return out;
}

}  // namespace

namespace {

// How many times `text` holds `:name`, whatever precedes the colon or follows
// the name.
int TimesAfterAColon(absl::string_view text, absl::string_view name) {
  const std::string needle = absl::StrCat(":", name);
  int times = 0;
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + 1)) {
    ++times;
  }
  return times;
}

}  // namespace

std::optional<std::string> ConfiguredBatchQuery(absl::string_view query,
                                                absl::string_view parameter, int n,
                                                SqlDialect dialect) {
  std::string batch;
  std::vector<std::string> renamed;
  for (int i = 0; i < n; ++i) {
    const std::string name = absl::StrCat("id", i);
    int renames = 0;
    std::optional<std::string> copy = RenameParameter(query, parameter, name, dialect, &renames);
    if (!copy.has_value()) return std::nullopt;
    // Parameter text left anywhere (even where this lexer saw a string or
    // a quoted name: a database may read it otherwise): refused.
    if (AnyParameterText(*copy) != std::vector<std::string>(renames, name)) return std::nullopt;
    // Nor the parameter's name after a colon in any other form (`::call_id`,
    // a cast on PostgreSQL, is a syntax error or a parameter elsewhere;
    // `::call_idx` a name SQLite may read as a parameter).
    // The renamed parameters themselves (`:id0` holds `:id`) are the only
    // ones allowed.
    const int renamed_holding_it = absl::StartsWith(name, parameter) ? renames : 0;
    if (TimesAfterAColon(*copy, parameter) != renamed_holding_it) return std::nullopt;
    renamed.insert(renamed.end(), renames, name);
    absl::StrAppend(&batch, i == 0 ? "" : " UNION ALL ", "SELECT ", i, " AS slot, q", i,
                    ".* FROM (", *copy, "\n) q", i);
  }
  // SOCI turns :name into $n on PostgreSQL with a scan of its own: it must
  // find exactly the parameters renamed, in order.
  if (dialect == SqlDialect::kPostgresql && SociPostgresqlNames(batch) != renamed) {
    return std::nullopt;
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

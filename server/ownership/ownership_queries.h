// The SQL hookguard runs on the application's database: the default schema's
// queries (the one place they are written) and the configured ones.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_QUERIES_H_
#define HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_QUERIES_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hookguard/config/v1/config.pb.h"

namespace hookguard {

// The queries for the Django schema of docs/explanation/ownership.md, valid on
// PostgreSQL and SQLite (and DefaultBatchQuery below).
//
// The call lookup binds :call_id. A call whose phone_number_id points at no
// row gets '' as its phone number id (and a NULL owner), so that rules 5 and
// 6 deny it rather than treat it as "no phone".
extern const char kDefaultCallQuery[];
// The owner lookups bind :phone_number_id or :assistant_id and return the
// owner's id as text.
extern const char kDefaultPhoneNumberQuery[];
extern const char kDefaultAssistantQuery[];
// `hookguard audit-db`: each takes no parameter and returns, ordered by call
// id, four text columns: the call's provider id, the call's owner id, the
// assistant's (phone number's) provider id (NULL when its row is missing),
// that row's owner id (NULL when missing), for every call whose assistant
// (phone number) is owned by another user than the call, or is missing.
extern const char kDefaultAuditAssistantQuery[];
extern const char kDefaultAuditPhoneNumberQuery[];

// The store's three lookups.
enum class LookupQuery { kCall = 0, kPhoneNumber = 1, kAssistant = 2 };

// The batched form of a default lookup, for `n` ids bound as :id0 ..
// :id<n-1>: each row is the slot of its id (0 .. n-1), then the default
// query's columns, so that rows map back to their ids by position whatever
// the ids (duplicates included). Each id is looked up on its own, as the
// one-id query would (on PostgreSQL a LATERAL subquery per id, so that the
// plan stays an index lookup per id and never hashes a whole table; SQLite
// always loops). What the store prepares.
std::string DefaultBatchQuery(LookupQuery query, int n, bool postgresql);

// Whose SQL a configured query is read as.
enum class SqlDialect { kPostgresql, kSqlite };

// The batched form of a configured lookup query for `n` ids bound as :id0 ..
// :id<n-1>: n copies of `query` joined by UNION ALL, copy i with its
// parameter (`parameter`, e.g. "call_id", renamed :id<i>) and its rows led by
// the slot i. Each copy is the configured query itself, so each id is looked
// up exactly as the one-id query would, the parameter keeps its place (and
// the type the database infers for it), and the plan stays the one-id
// query's plan n times. Comments are dropped from the copies (SOCI's own
// scan for :name on PostgreSQL does not know them).
//
// The text is read as `dialect`'s lexer reads it: '...' and "..." with
// doubled quotes; on PostgreSQL also E'...' (backslash escapes), $tag$...$tag$,
// -- comments ending at '\n' or '\r' and nested /* */; on SQLite also [...]
// and `...` names and -- comments ending at '\n'. nullopt (the query then
// runs one lookup per query) when the text is not one statement this can
// wrap for sure: a ';' before its end; the parameter found nowhere outside
// quotes and comments; any ':name' text left in a copy after renaming
// (wherever it is: a database or SOCI might read it as a parameter);
// where PostgreSQL and SQLite read comments differently (a bare '\r' in a
// -- comment, a /* inside a /* */ comment); a backslash in a plain
// PostgreSQL string (its meaning depends on standard_conforming_strings);
// $1-style or SQLite's ?, @name, $name parameters; and, on PostgreSQL, a
// text in which SOCI's scan would find other parameters than the renamed
// ones.
std::optional<std::string> ConfiguredBatchQuery(absl::string_view query,
                                                absl::string_view parameter, int n,
                                                SqlDialect dialect);

// The five queries of config `ownership`, each the configured text or the
// default schema's. Comparable: a change of a lookup query needs a restart
// (the server prepares them once per connection).
//
// `phone_number` and `assistant` are empty when that lookup is off: the
// configuration maps its own schema (sets `call_query`) and leaves that
// query unset, so no query of the default schema is run on it. A lookup
// that is off is never prepared, and the chain steps that need it deny
// (ResolvePolicy::IsOff). `call` is empty (and the three lookups are off)
// only for an app that uses no call model: no `call_query` is set and every
// profile authorizes by its subjects (Compile in server/config).
struct OwnershipQueries {
  std::string call = kDefaultCallQuery;
  std::string phone_number = kDefaultPhoneNumberQuery;
  std::string assistant = kDefaultAssistantQuery;
  std::string audit_assistant = kDefaultAuditAssistantQuery;
  std::string audit_phone_number = kDefaultAuditPhoneNumberQuery;

  bool call_on() const { return !call.empty(); }
  bool phone_number_on() const { return !phone_number.empty(); }
  bool assistant_on() const { return !assistant.empty(); }

  bool operator==(const OwnershipQueries& other) const;
  bool operator!=(const OwnershipQueries& other) const { return !(*this == other); }
};

// The queries of `ownership`, defaults for those left empty, except that
// when `call_query` is set (the app's own schema), an unset
// `phone_number_query` / `assistant_query` leaves that lookup off (empty)
// rather than reading the default schema's tables. The audit queries keep
// their defaults (only `hookguard audit-db` runs them). What can be
// told without a database is checked: each lookup query binds its parameter
// (call_query :call_id, phone_number_query :phone_number_id,
// assistant_query :assistant_id). InvalidArgument names the key.
absl::StatusOr<OwnershipQueries> CompileOwnershipQueries(const config::v1::Ownership& ownership);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_OWNERSHIP_QUERIES_H_

// The lookup query of a subject (config profiles[].ownership.subjects[].query).
#ifndef HOOKGUARD_SERVER_OWNERSHIP_SUBJECT_QUERY_H_
#define HOOKGUARD_SERVER_OWNERSHIP_SUBJECT_QUERY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hookguard {

// The parameter every subject query binds: the subject's id.
inline constexpr char kSubjectParameter[] = "id";

// The named parameters (":name", without the colon) of `query`, in order of
// appearance, repeats included: outside '...' literals, "..." identifiers,
// -- and /* */ comments, and not a '::' cast. What SOCI binds by name.
std::vector<std::string> NamedParameters(absl::string_view query);

// Checks what can be told of a subject query without a database: not empty,
// and it binds :id and no other parameter (the id is the only value a
// subject lookup has; anything else would be unbound at run time).
// InvalidArgument saying which.
absl::Status CheckSubjectQuery(absl::string_view query);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_SUBJECT_QUERY_H_

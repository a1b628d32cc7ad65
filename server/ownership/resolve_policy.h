// Where the owner of an event may be found when the app has no row for its
// call: the resolution chain of config ownership.resolve, per message type.
#ifndef HOOKGUARD_SERVER_OWNERSHIP_RESOLVE_POLICY_H_
#define HOOKGUARD_SERVER_OWNERSHIP_RESOLVE_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "hookguard/config/v1/config.pb.h"
#include "hookguard/v1/hookguard.pb.h"

namespace hookguard {

// One rule: the message types it applies to ("x", "prefix*", "*") and the
// sources it allows, in order (OWNER_SOURCE_CALL, _PHONE_NUMBER, _ASSISTANT).
struct ResolveRule {
  std::vector<std::string> types;
  std::vector<v1::OwnerSource> by;
};

// Immutable after construction; thread-safe.
class ResolvePolicy {
 public:
  // The default chain: assistant-request by call, then phone number (an
  // inbound call's number names its tenant before the app has a row); every
  // other type by call only.
  ResolvePolicy();

  // Checks and compiles config ownership.resolve; an empty list gives the
  // default. Each rule needs at least one type and one source; a type is
  // non-empty and has "*" only as its last character; sources are "call",
  // "phone_number" or "assistant", each at most once, "call" first when
  // present. InvalidArgument names the rule ("ownership.resolve[1].by[0]").
  // `off`: the sources whose lookup is off (their query is not set, see
  // OwnershipQueries); a rule may still name them, and then its events that
  // reach that step are denied (CallEventAuthorizer).
  static absl::StatusOr<ResolvePolicy> Compile(
      const google::protobuf::RepeatedPtrField<config::v1::ResolveRule>& rules,
      std::vector<v1::OwnerSource> off = {});

  // The first rule whose types match `type`, or nullptr when none does (the
  // event is then resolved by its call row only).
  const ResolveRule* RuleFor(absl::string_view type) const;

  const std::vector<ResolveRule>& rules() const { return rules_; }

  // Whether the lookup of `source` is off (Compile's `off`).
  bool IsOff(v1::OwnerSource source) const;

  // One line per rule, for operators: `types by a, b (off: ...)`, e.g.
  // `assistant-request by call, phone_number (phone_number off:
  // ownership.phone_number_query is not set)`.
  std::vector<std::string> Describe() const;

 private:
  ResolvePolicy(std::vector<ResolveRule> rules, std::vector<v1::OwnerSource> off)
      : rules_(std::move(rules)), off_(std::move(off)) {}

  std::vector<ResolveRule> rules_;
  std::vector<v1::OwnerSource> off_;
};

// "call", "phone_number" or "assistant": the config's name of a source.
const char* OwnerSourceConfigName(v1::OwnerSource source);

// The configuration key of a source's query: "ownership.call_query",
// "ownership.phone_number_query" or "ownership.assistant_query".
const char* OwnerSourceQueryKey(v1::OwnerSource source);

// What a step on an off source says, e.g. "phone_number lookup is off:
// ownership.phone_number_query is not set".
std::string LookupOffDetail(v1::OwnerSource source);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_OWNERSHIP_RESOLVE_POLICY_H_

// Reads the ownership-relevant fields of a platform webhook body
// (docs/reference/rpcs.md lists the fields read).
#ifndef HOOKGUARD_SERVER_PAYLOAD_CALL_EVENT_PARSER_H_
#define HOOKGUARD_SERVER_PAYLOAD_CALL_EVENT_PARSER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "hookguard/v1/hookguard.pb.h"

namespace hookguard {

// Containers nested deeper than this (the root object is depth 1) make the
// body malformed. Real VAPI messages stay below 16.
inline constexpr int kMaxJsonDepth = 64;

// Any id longer than this many bytes (after unescaping) makes the body
// malformed. VAPI ids are 36-byte UUIDs.
inline constexpr size_t kMaxIdBytes = 256;

// Parses `body`, the raw bytes of a webhook as received, in either shape:
//   VAPI: {"message": {"type": .., "call": {"id", "assistantId",
//          "phoneNumberId", "orgId", ..}, "phoneNumber": {"id": ..}, ..}}
//   flat: {"type": .., "call": {..}, "phoneNumber": {..}}
// The event object is root.message when that is an object, else the root;
// a body with both (a message object and any of type, call, phoneNumber,
// chat, session at the root) is malformed. phone_number_id comes from
// call.phoneNumberId, else phoneNumber.id (both present and different:
// malformed). Events without a call (chat.*, session.*) carry a `chat` or
// `session` object: its assistantId and orgId are read and call_id stays
// empty; such an event must name an assistant. When several of call, chat
// and session name an assistant (or org), they must agree. Unknown fields
// are ignored.
//
// The whole document is validated (strict RFC 8259 JSON, valid UTF-8, no
// trailing bytes, nesting at most kMaxJsonDepth), not only the fields read:
// whatever another parser might read differently is rejected. Numbers are
// checked against the grammar only, never converted: a number of any size
// in a field we do not read is valid. In each object whose fields are read
// (the root, the event, call, phoneNumber, chat, session), a key that occurs
// twice (compared after unescaping, so "c\u0061ll" equals "call") is
// rejected, and so is a key that differs from a read key only in case
// ("Call", "ID", also the Kelvin sign and long s that Unicode folds to k
// and s): the web tier's reader may take the other occurrence, or match
// keys without case (Go's encoding/json does), where we took the exact one.
//
// Errors: InvalidArgument with a short message that never quotes the body:
// not JSON, bad UTF-8, too deep, root not an object, no `call` (nor `chat`
// or `session`) object, `call.id` missing/empty/not a string, an id of the
// wrong type (null counts as absent for the optional ids), an id over
// kMaxIdBytes or holding a control character (e.g. NUL), a duplicate or
// case-variant key, two shapes in one body.
//
// Thread-safe: each thread reuses its own parser and padded buffer (the body
// is copied once into it; a string_view cannot promise simdjson's padding).
absl::StatusOr<v1::CallEvent> ParseCallEvent(absl::string_view body);

// The rule every id of an event keeps, wherever the event comes from: at most
// kMaxIdBytes bytes, no control character (a NUL would cut the id short in
// libpq: "call_a\0x" would be looked up as "call_a"). `name` names the
// field in the error. InvalidArgument when broken.
absl::Status CheckEventId(absl::string_view name, absl::string_view id);

// CheckEventId on the four ids of an event a caller extracted itself
// (AuthorizeCallEvent); ParseCallEvent's events already keep it.
absl::Status ValidateCallEvent(const v1::CallEvent& event);

// Reads the values at `pointers` in the JSON body `body` (the ids of a
// profile's subjects, config profiles[].ownership.subjects). Each pointer is
// given as its reference tokens, already unescaped (RFC 6901: "/a~1b/c" is
// {"a/b", "c"}), at least one; each token names an object member (array
// indexes are not read). Values come back in the order of `pointers`:
//   - a JSON string, held to CheckEventId, or an integer JSON number as its
//     decimal text (GitHub's installation.id): 0 to 2^53 - 1, no fraction,
//     no exponent, no leading zero (JavaScript readers round beyond 2^53);
//   - nullopt when the member, or an object on its way, is absent or null,
//     or the string is empty.
// The document is validated exactly as ParseCallEvent validates it (strict
// JSON, UTF-8, depth, no trailing bytes), and every object on a pointer's
// way is read with the same key rules: a duplicate key, or one that differs
// from a read key only in case, is malformed. A value of another type (bool,
// object, array, a fraction) or an object on the way that is not one is
// malformed. Errors: InvalidArgument ("malformed event: ..."), naming the
// pointer, never quoting the body. Thread-safe, as ParseCallEvent.
absl::StatusOr<std::vector<std::optional<std::string>>> ReadJsonPointers(
    absl::string_view body, absl::Span<const std::vector<std::string>> pointers);

// One reference token written as in a JSON Pointer: '~' as "~0", '/' as "~1".
std::string EscapePointerToken(absl::string_view token);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_PAYLOAD_CALL_EVENT_PARSER_H_

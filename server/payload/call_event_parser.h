// Reads the ownership-relevant fields of a platform webhook body
// (CONTRACT.md section 4).
#ifndef HOOKGUARD_SERVER_PAYLOAD_CALL_EVENT_PARSER_H_
#define HOOKGUARD_SERVER_PAYLOAD_CALL_EVENT_PARSER_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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
// The event object is root.message when that is an object, else the root.
// phone_number_id comes from call.phoneNumberId, else phoneNumber.id (both
// present and different: malformed). Unknown fields are ignored.
//
// The whole document is validated (strict RFC 8259 JSON, valid UTF-8, no
// trailing bytes, nesting at most kMaxJsonDepth), not only the fields read:
// whatever another parser might read differently is rejected. A key that
// occurs twice in the root, the event, `call` or `phoneNumber` object
// (compared after unescaping, so "c\u0061ll" equals "call") is rejected too:
// the web tier's parser may take the last occurrence where we took the first.
//
// Errors: InvalidArgument with a short message that never quotes the body:
// not JSON, bad UTF-8, too deep, root not an object, `call` missing or not an
// object, `call.id` missing/empty/not a string, an id of the wrong type (null
// counts as absent for the optional ids), an id over kMaxIdBytes or holding a
// control character (e.g. NUL), a duplicate key.
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

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_PAYLOAD_CALL_EVENT_PARSER_H_

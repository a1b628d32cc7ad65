// Capture files: one delivery that was denied (or would have been, in
// shadow mode), written by the client libraries' capture helpers in the
// format "hookguard-capture/v1", and read back by `hookguard explain
// --capture=FILE` to replay it through the service's own checks.
#ifndef HOOKGUARD_TOOLS_HOOKGUARD_CAPTURE_FILE_H_
#define HOOKGUARD_TOOLS_HOOKGUARD_CAPTURE_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hookguard/v1/hookguard.pb.h"

namespace hookguard::cli {

inline constexpr char kCaptureFormat[] = "hookguard-capture/v1";

struct Capture {
  // What to replay: profile, expected_owner_id, and the request (body
  // decoded from body_base64, headers with their names as captured, method,
  // url).
  v1::AuthorizeWebhookRequest request;
  // What the app was answered then (may be empty in a hand-made file).
  std::string captured_at;
  std::string decision;         // e.g. "DECISION_DENY"
  std::string shadow_decision;  // "" or DECISION_UNSPECIFIED in enforce mode
  std::string reason;           // e.g. "DENY_REASON_CALL_NOT_FOUND"
  int http_status = 0;
  std::string decision_id;
};

// Parses the JSON text of a capture file. Unknown keys are ignored;
// "format" must be "hookguard-capture/v1"; "body_base64" is required and
// must be base64; "headers" is an object of strings; the other fields are
// strings (http_status a number) and may be absent. InvalidArgument naming
// the key, never a header value or the body.
absl::StatusOr<Capture> ParseCapture(absl::string_view json);

}  // namespace hookguard::cli

#endif  // HOOKGUARD_TOOLS_HOOKGUARD_CAPTURE_FILE_H_

// Keeping a delivery that was denied, or that shadow mode would have denied,
// for `hookguard explain --capture=FILE`: one JSON file (format
// hookguard-capture/v1) per delivery, mode 0600, written atomically (a
// temporary file renamed into place).
//
//   Verdict v = guard->Authorize(request);
//   if (ShouldCapture(v)) {
//     std::string path, error;
//     if (!WriteCapture("/var/lib/app/captures", request, v, url, &path, &error)) log(error);
//   }
//
// A capture file holds the signature headers and the body: secrets-bearing
// data. Thread-safe (no shared state).
#ifndef HOOKGUARD_CLIENT_CAPTURE_H_
#define HOOKGUARD_CLIENT_CAPTURE_H_

#include <ctime>
#include <string>

#include "hookguard/client/webhook_guard.h"

namespace hookguard {

// The "format" of every capture file.
inline constexpr char kCaptureFormat[] = "hookguard-capture/v1";

// True for a DENY and for a shadow-mode ALLOW that enforcement would deny;
// never for an allow nor a missing decision.
bool ShouldCapture(const Verdict& verdict);

// The capture file's JSON text for `request` (header names lowercased;
// names that differ only in case joined with ", "), answered `verdict`,
// received at `url` ("" if unknown), captured at `now` (UTC seconds).
std::string CaptureRecord(const WebhookRequest& request, const Verdict& verdict,
                          const std::string& url, std::time_t now);

// Writes the capture into directory `dir` (created 0700 if missing) as
// <yyyymmddThhmmssZ>-<decision id or random>.json, mode 0600, atomically.
// On success sets *path and returns true; on failure sets *error (no body
// or header in it) and returns false.
bool WriteCapture(const std::string& dir, const WebhookRequest& request, const Verdict& verdict,
                  const std::string& url, std::string* path, std::string* error);

}  // namespace hookguard

#endif  // HOOKGUARD_CLIENT_CAPTURE_H_

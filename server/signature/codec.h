// Reading what signature headers carry: header values with limits, hex,
// base64 and Unix timestamps. Pure functions; thread-safe.
#ifndef HOOKGUARD_SERVER_SIGNATURE_CODEC_H_
#define HOOKGUARD_SERVER_SIGNATURE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/map.h"
#include "hookguard/v1/hookguard.pb.h"

namespace hookguard {

// A header value longer than this (after trimming) is MALFORMED, not parsed.
inline constexpr size_t kMaxHeaderValueBytes = size_t{8} * 1024;

struct HeaderValue {
  enum class State {
    kAbsent,     // no such header, or only whitespace
    kFound,      // `value` is set (surrounding ASCII whitespace removed)
    kAmbiguous,  // several entries differing only in case (FindHeader)
    kTooLong,    // longer than kMaxHeaderValueBytes
  };
  State state = State::kAbsent;
  absl::string_view value;  // points into the request's map
};

// FindHeader (the one case-insensitive lookup) plus trimming and the length
// limit. An empty or all-whitespace value counts as absent.
HeaderValue ReadHeaderValue(const google::protobuf::Map<std::string, std::string>& headers,
                            absl::string_view name);

// Why a header could not be used: kAbsent is MISSING, the other states
// MALFORMED; the detail names the header, never its value.
struct HeaderProblem {
  v1::SignatureResult result;
  std::string detail;
};
// nullopt when `header` was found.
std::optional<HeaderProblem> DescribeHeaderProblem(const HeaderValue& header,
                                                   absl::string_view name);

// Hex digits, either case, even length, non-empty. nullopt otherwise.
std::optional<std::string> DecodeHex(absl::string_view text);

// Standard base64 alphabet (A-Z a-z 0-9 + /), with or without '=' padding,
// non-empty, no whitespace or other characters. nullopt otherwise.
std::optional<std::string> DecodeBase64(absl::string_view text);

// A Unix timestamp written in ASCII digits only (no sign, no spaces, no
// leading zero: one time has one text), in seconds, or in milliseconds when the value is above
// 10^11 (year 5138 in seconds; March 1973 in milliseconds). Returns whole seconds.
std::optional<int64_t> ParseUnixTimestamp(absl::string_view text);

// |now - timestamp| <= tolerance.
bool WithinTolerance(int64_t timestamp_unix, absl::Time now, absl::Duration tolerance);

// Printable ASCII without spaces (0x21..0x7E): what a message id may hold
// for it to be reported (the response's string fields must stay UTF-8).
bool IsVisibleAscii(absl::string_view text);

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_SIGNATURE_CODEC_H_

#include "server/signature/codec.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/common/headers.h"

namespace hookguard {
namespace {

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsBase64AlphabetChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

// Values above this are milliseconds (see ParseUnixTimestamp).
constexpr int64_t kMillisecondsThreshold = 100'000'000'000;  // 10^11
// 18 digits cannot overflow int64.
constexpr size_t kMaxTimestampDigits = 18;

}  // namespace

HeaderValue ReadHeaderValue(const google::protobuf::Map<std::string, std::string>& headers,
                            absl::string_view name) {
  const HeaderLookup found = FindHeader(headers, name);
  switch (found.state) {
    case HeaderLookup::State::kAbsent:
      return {HeaderValue::State::kAbsent, {}};
    case HeaderLookup::State::kAmbiguous:
      return {HeaderValue::State::kAmbiguous, {}};
    case HeaderLookup::State::kFound:
      break;
  }
  // Length is checked before trimming too, so a huge value is never scanned.
  if (found.value.size() > 2 * kMaxHeaderValueBytes) return {HeaderValue::State::kTooLong, {}};
  const absl::string_view value = absl::StripAsciiWhitespace(found.value);
  if (value.empty()) return {HeaderValue::State::kAbsent, {}};
  if (value.size() > kMaxHeaderValueBytes) return {HeaderValue::State::kTooLong, {}};
  return {HeaderValue::State::kFound, value};
}

std::optional<HeaderProblem> DescribeHeaderProblem(const HeaderValue& header,
                                                   absl::string_view name) {
  switch (header.state) {
    case HeaderValue::State::kFound:
      return std::nullopt;
    case HeaderValue::State::kAbsent:
      return HeaderProblem{v1::SIGNATURE_RESULT_MISSING, absl::StrCat("no ", name, " header")};
    case HeaderValue::State::kAmbiguous:
      return HeaderProblem{v1::SIGNATURE_RESULT_MALFORMED,
                           absl::StrCat("several ", name, " headers differing only in case")};
    case HeaderValue::State::kTooLong:
      return HeaderProblem{
          v1::SIGNATURE_RESULT_MALFORMED,
          absl::StrCat(name, " header longer than ", kMaxHeaderValueBytes, " bytes")};
  }
  return HeaderProblem{v1::SIGNATURE_RESULT_MALFORMED, "unreadable header"};
}

std::optional<std::string> DecodeHex(absl::string_view text) {
  if (text.empty() || text.size() % 2 != 0) return std::nullopt;
  std::string out(text.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexDigitValue(text[2 * i]);
    const int lo = HexDigitValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::optional<std::string> DecodeBase64(absl::string_view text) {
  // Padding: at most two '=' at the very end, and only where the length
  // calls for them; absl's decoder does the rest once the alphabet is known.
  size_t data_len = text.size();
  while (data_len > 0 && text[data_len - 1] == '=') --data_len;
  const size_t padding = text.size() - data_len;
  if (data_len == 0 || padding > 2) return std::nullopt;
  if (data_len % 4 == 1) return std::nullopt;  // never a whole number of bytes
  if (padding != 0 && (data_len + padding) % 4 != 0) return std::nullopt;
  for (size_t i = 0; i < data_len; ++i) {
    if (!IsBase64AlphabetChar(text[i])) return std::nullopt;
  }
  std::string out;
  if (!absl::Base64Unescape(text.substr(0, data_len), &out)) return std::nullopt;
  return out;
}

std::optional<int64_t> ParseUnixTimestamp(absl::string_view text) {
  if (text.empty() || text.size() > kMaxTimestampDigits) return std::nullopt;
  // One time, one text: "0170..." is refused, so that a signed payload holds
  // one timestamp only (threat row 28).
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > kMillisecondsThreshold) value /= 1000;
  return value;
}

bool WithinTolerance(int64_t timestamp_unix, absl::Time now, absl::Duration tolerance) {
  const absl::Duration skew = now - absl::FromUnixSeconds(timestamp_unix);
  return absl::AbsDuration(skew) <= tolerance;
}

bool IsVisibleAscii(absl::string_view text) {
  for (char c : text) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace hookguard

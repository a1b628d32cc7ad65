#include "server/audit/json_string.h"

#include <cstdint>
#include <utility>

namespace hookguard {
namespace {

// The ASCII bytes AppendJsonString escapes, as Protobuf's JSON printer does
// (quote, backslash, control characters, DEL, '<', '>'), and the lead bytes
// of multi-byte UTF-8 sequences, some of which it escapes too (below).
constexpr bool NeedsEscape(unsigned char c) {
  return c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c >= 0xc2;
}

// The code points above ASCII that Protobuf 3.21's JSON printer escapes (read
// off it for every code point): C1 controls (U+0080..U+009F), U+2028 and
// U+2029, bidirectional overrides and other invisible format characters.
// JSON allows them raw, but line tools take U+0085, U+2028 and U+2029 for
// line breaks, and the others hide or reorder text on a terminal: an id
// holding one could split or disguise an audit line.
constexpr std::pair<uint32_t, uint32_t> kEscapedAboveAscii[] = {
    {0x80, 0x9f},     {0xad, 0xad},     {0x600, 0x603},     {0x6dd, 0x6dd},     {0x70f, 0x70f},
    {0x17b4, 0x17b5}, {0x200b, 0x200f}, {0x2028, 0x202e},   {0x2060, 0x2064},   {0x206a, 0x206f},
    {0xfeff, 0xfeff}, {0xfff9, 0xfffb}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001}, {0xe0020, 0xe007f},
};

bool EscapedAboveAscii(uint32_t code_point) {
  for (const auto& [first, last] : kEscapedAboveAscii) {
    if (code_point >= first && code_point <= last) return true;
  }
  return false;
}

// The code point of the UTF-8 sequence starting at value[i] and its length
// in bytes; length 0 when the sequence is cut off or not UTF-8.
struct CodePoint {
  uint32_t value;
  size_t length;
};
CodePoint DecodeUtf8At(absl::string_view value, size_t i) {
  const unsigned char lead = static_cast<unsigned char>(value[i]);
  const size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
  if (length == 0 || i + length > value.size()) return {0, 0};
  uint32_t code_point = lead & (0x7f >> length);
  for (size_t k = 1; k < length; ++k) {
    const unsigned char next = static_cast<unsigned char>(value[i + k]);
    if ((next & 0xc0) != 0x80) return {0, 0};
    code_point = code_point << 6 | (next & 0x3f);
  }
  return {code_point, length};
}

// "\\uXXXX", or a surrogate pair of them above U+FFFF, as JSON writes it.
void AppendUnicodeEscape(std::string* out, uint32_t code_point) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (code_point > 0xffff) {
    code_point -= 0x10000;
    AppendUnicodeEscape(out, 0xd800 + (code_point >> 10));
    AppendUnicodeEscape(out, 0xdc00 + (code_point & 0x3ff));
    return;
  }
  const char escaped[] = {'\\',
                          'u',
                          kHex[(code_point >> 12) & 0xf],
                          kHex[(code_point >> 8) & 0xf],
                          kHex[(code_point >> 4) & 0xf],
                          kHex[code_point & 0xf]};
  out->append(escaped, sizeof(escaped));
}

}  // namespace

void AppendJsonString(std::string* out, absl::string_view value) {
  out->push_back('"');
  size_t run = 0;  // start of the plain bytes not yet copied
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (!NeedsEscape(c)) continue;
    CodePoint escaped{c, 1};
    if (c >= 0x80) {
      escaped = DecodeUtf8At(value, i);
      if (escaped.length == 0) continue;  // not UTF-8: copied
      if (!EscapedAboveAscii(escaped.value)) {
        i += escaped.length - 1;
        continue;
      }
    }
    out->append(value.data() + run, i - run);
    run = i + escaped.length;
    i += escaped.length - 1;
    switch (escaped.value) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        AppendUnicodeEscape(out, escaped.value);
    }
  }
  out->append(value.data() + run, value.size() - run);
  out->push_back('"');
}

std::string JsonString(absl::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  AppendJsonString(&out, value);
  return out;
}

}  // namespace hookguard

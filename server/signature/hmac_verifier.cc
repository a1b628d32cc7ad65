#include "server/signature/hmac_verifier.h"

#include <optional>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/signature/codec.h"

namespace hookguard {
namespace {

using v1::SIGNATURE_RESULT_MALFORMED;
using v1::SIGNATURE_RESULT_MISMATCH;
using v1::SIGNATURE_RESULT_STALE;
using v1::SIGNATURE_RESULT_VALID;

// Digits of a Unix time in milliseconds from 2001 to 2286.
constexpr size_t kMillisecondDigits = 13;

}  // namespace

absl::StatusOr<std::unique_ptr<const HmacVerifier>> HmacVerifier::Create(
    HmacScheme scheme, std::vector<SecretKey> keys) {
  absl::StatusOr<PayloadTemplate> payload = PayloadTemplate::Parse(scheme.payload_format);
  if (!payload.ok()) return payload.status();
  absl::StatusOr<KeyRing> ring = KeyRing::Create(scheme.algorithm, std::move(keys));
  if (!ring.ok()) return ring.status();
  return std::unique_ptr<const HmacVerifier>(
      new HmacVerifier(std::move(scheme), *std::move(payload), *std::move(ring)));
}

HmacVerifier::HmacVerifier(HmacScheme scheme, PayloadTemplate payload, KeyRing keys)
    : scheme_(std::move(scheme)), payload_(std::move(payload)), keys_(std::move(keys)) {}

absl::StatusOr<VerifyOutcome> HmacVerifier::Verify(const v1::HttpRequest& request,
                                                   absl::Time now) const {
  VerifyOutcome out;
  const auto& headers = request.headers();

  const HeaderValue signature = ReadHeaderValue(headers, scheme_.signature_header);
  if (auto problem = DescribeHeaderProblem(signature, scheme_.signature_header)) {
    return FailOutcome(out, problem->result, std::move(problem->detail));
  }

  absl::string_view message_id;
  if (!scheme_.message_id_header.empty()) {
    const HeaderValue id = ReadHeaderValue(headers, scheme_.message_id_header);
    if (id.state == HeaderValue::State::kAbsent) {
      if (payload_.Uses(Placeholder::kId)) {
        return FailOutcome(
            out, SIGNATURE_RESULT_MALFORMED,
            absl::StrCat("no ", scheme_.message_id_header, " header (it is signed)"));
      }
    } else if (auto problem = DescribeHeaderProblem(id, scheme_.message_id_header)) {
      return FailOutcome(out, SIGNATURE_RESULT_MALFORMED, std::move(problem->detail));
    } else if (!IsVisibleAscii(id.value)) {
      return FailOutcome(out, SIGNATURE_RESULT_MALFORMED,
                         absl::StrCat(scheme_.message_id_header, " header is not printable ASCII"));
    } else {
      message_id = id.value;
      out.message_id = std::string(message_id);
    }
  }

  // The timestamp text (signed as sent) and the encoded candidate MACs.
  absl::string_view timestamp_text;
  absl::InlinedVector<absl::string_view, 2> encoded;
  if (!scheme_.signature_timestamp_key.empty()) {
    bool seen_timestamp = false;
    for (absl::string_view part : absl::StrSplit(signature.value, ',')) {
      part = absl::StripAsciiWhitespace(part);
      const size_t eq = part.find('=');
      if (eq == absl::string_view::npos) {
        return FailOutcome(
            out, SIGNATURE_RESULT_MALFORMED,
            absl::StrCat(scheme_.signature_header, " header has a part without '='"));
      }
      const absl::string_view key = part.substr(0, eq);
      const absl::string_view value = part.substr(eq + 1);
      if (key == scheme_.signature_timestamp_key) {
        if (seen_timestamp) {
          return FailOutcome(out, SIGNATURE_RESULT_MALFORMED,
                             absl::StrCat(scheme_.signature_header, " header has several ",
                                          scheme_.signature_timestamp_key, "= parts"));
        }
        seen_timestamp = true;
        timestamp_text = value;
      } else if (key == scheme_.signature_key) {
        encoded.push_back(value);
      }  // other parts (e.g. Stripe's v0) are not ours to check
    }
    if (!seen_timestamp) {
      return FailOutcome(out, SIGNATURE_RESULT_MALFORMED,
                         absl::StrCat(scheme_.signature_header, " header has no ",
                                      scheme_.signature_timestamp_key, "= part"));
    }
    if (encoded.empty()) {
      return FailOutcome(out, SIGNATURE_RESULT_MALFORMED,
                         absl::StrCat(scheme_.signature_header, " header has no ",
                                      scheme_.signature_key, "= part"));
    }
  } else {
    encoded.push_back(signature.value);
    if (!scheme_.timestamp_header.empty()) {
      const HeaderValue ts = ReadHeaderValue(headers, scheme_.timestamp_header);
      if (auto problem = DescribeHeaderProblem(ts, scheme_.timestamp_header)) {
        return FailOutcome(out, SIGNATURE_RESULT_MALFORMED, std::move(problem->detail));
      }
      timestamp_text = ts.value;
    }
  }

  std::optional<int64_t> timestamp;
  if (!scheme_.signature_timestamp_key.empty() || !scheme_.timestamp_header.empty()) {
    timestamp = ParseUnixTimestamp(timestamp_text);
    if (!timestamp) {
      return FailOutcome(out, SIGNATURE_RESULT_MALFORMED,
                         "timestamp is not a Unix time in decimal digits");
    }
    // Signed right after the body: milliseconds only (13 digits until the
    // year 2286), so that body and timestamp split the signed bytes one way.
    if (payload_.TimestampFollowsBody() && timestamp_text.size() < kMillisecondDigits) {
      return FailOutcome(out, SIGNATURE_RESULT_MALFORMED,
                         "timestamp is not in milliseconds (it is signed right after the body)");
    }
    out.timestamp_unix = *timestamp;
  }

  absl::InlinedVector<std::string, 2> candidates;
  for (absl::string_view e : encoded) {
    if (!absl::ConsumePrefix(&e, scheme_.signature_prefix)) {
      return FailOutcome(
          out, SIGNATURE_RESULT_MALFORMED,
          absl::StrCat("signature does not start with \"", scheme_.signature_prefix, "\""));
    }
    std::optional<std::string> mac =
        scheme_.encoding == SignatureEncoding::kHex ? DecodeHex(e) : DecodeBase64(e);
    if (!mac) {
      return FailOutcome(out, SIGNATURE_RESULT_MALFORMED,
                         scheme_.encoding == SignatureEncoding::kHex
                             ? "signature is not valid hex"
                             : "signature is not valid base64");
    }
    candidates.push_back(*std::move(mac));
  }

  if (payload_.Uses(Placeholder::kMethod) && request.method().empty()) {
    return FailOutcome(out, SIGNATURE_RESULT_MALFORMED,
                       "request has no method, and the profile signs it");
  }
  if (payload_.Uses(Placeholder::kUrl) && request.url().empty()) {
    return FailOutcome(out, SIGNATURE_RESULT_MALFORMED,
                       "request has no url, and the profile signs it");
  }

  const PayloadTemplate::Parts parts = payload_.Expand(PayloadTemplate::Values{
      request.body(), timestamp_text, request.method(), request.url(), message_id});
  absl::StatusOr<const std::string*> matched = keys_.Match(parts, candidates);
  if (!matched.ok()) return matched.status();
  if (*matched == nullptr) {
    return FailOutcome(out, SIGNATURE_RESULT_MISMATCH,
                       "signature matches no secret of the profile");
  }
  out.key_id = **matched;
  out.message_id_signed = !message_id.empty() && payload_.Uses(Placeholder::kId);
  if (timestamp && !WithinTolerance(*timestamp, now, scheme_.tolerance)) {
    out.result = SIGNATURE_RESULT_STALE;
    out.detail = absl::StrCat(
        "timestamp is ", absl::ToInt64Seconds(now - absl::FromUnixSeconds(*timestamp)),
        " s from the server clock; tolerance is ", absl::ToInt64Seconds(scheme_.tolerance), " s");
    return out;
  }
  out.result = SIGNATURE_RESULT_VALID;
  return out;
}

}  // namespace hookguard

#include "server/signature/standard_webhooks_verifier.h"

#include <optional>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/signature/codec.h"

namespace hookguard {
namespace {

constexpr absl::string_view kIdHeader = "webhook-id";
constexpr absl::string_view kTimestampHeader = "webhook-timestamp";
constexpr absl::string_view kSignatureHeader = "webhook-signature";
constexpr absl::string_view kVersionPrefix = "v1,";

}  // namespace

absl::StatusOr<std::unique_ptr<const StandardWebhooksVerifier>> StandardWebhooksVerifier::Create(
    StandardWebhooksScheme scheme, std::vector<SecretKey> keys) {
  absl::StatusOr<KeyRing> ring = KeyRing::Create(HashAlgorithm::kSha256, std::move(keys));
  if (!ring.ok()) return ring.status();
  return std::unique_ptr<const StandardWebhooksVerifier>(
      new StandardWebhooksVerifier(scheme.tolerance, *std::move(ring)));
}

StandardWebhooksVerifier::StandardWebhooksVerifier(absl::Duration tolerance, KeyRing keys)
    : tolerance_(tolerance), keys_(std::move(keys)) {}

absl::StatusOr<VerifyOutcome> StandardWebhooksVerifier::Verify(const v1::HttpRequest& request,
                                                               absl::Time now) const {
  VerifyOutcome out;
  const auto& headers = request.headers();
  const HeaderValue signature = ReadHeaderValue(headers, kSignatureHeader);
  if (auto problem = DescribeHeaderProblem(signature, kSignatureHeader)) {
    return FailOutcome(out, problem->result, std::move(problem->detail));
  }
  const HeaderValue id = ReadHeaderValue(headers, kIdHeader);
  if (auto problem = DescribeHeaderProblem(id, kIdHeader)) {
    return FailOutcome(out, v1::SIGNATURE_RESULT_MALFORMED, std::move(problem->detail));
  }
  if (!IsVisibleAscii(id.value)) {
    return FailOutcome(out, v1::SIGNATURE_RESULT_MALFORMED,
                       "webhook-id header is not printable ASCII");
  }
  out.message_id = std::string(id.value);
  const HeaderValue ts = ReadHeaderValue(headers, kTimestampHeader);
  if (auto problem = DescribeHeaderProblem(ts, kTimestampHeader)) {
    return FailOutcome(out, v1::SIGNATURE_RESULT_MALFORMED, std::move(problem->detail));
  }
  const std::optional<int64_t> timestamp = ParseUnixTimestamp(ts.value);
  if (!timestamp) {
    return FailOutcome(out, v1::SIGNATURE_RESULT_MALFORMED,
                       "webhook-timestamp is not a Unix time in decimal digits");
  }
  out.timestamp_unix = *timestamp;

  // Entries of other versions (e.g. "v1a," for asymmetric signatures) are
  // skipped, as the specification says; a v1 entry that is not base64 makes
  // the whole header MALFORMED.
  absl::InlinedVector<std::string, 2> candidates;
  for (absl::string_view entry : absl::StrSplit(signature.value, ' ', absl::SkipEmpty())) {
    if (!absl::ConsumePrefix(&entry, kVersionPrefix)) continue;
    std::optional<std::string> mac = DecodeBase64(entry);
    if (!mac) {
      return FailOutcome(out, v1::SIGNATURE_RESULT_MALFORMED, "a v1 signature is not valid base64");
    }
    candidates.push_back(*std::move(mac));
  }
  if (candidates.empty()) {
    return FailOutcome(out, v1::SIGNATURE_RESULT_MALFORMED, "webhook-signature has no v1 entry");
  }

  const absl::string_view parts[] = {id.value, ".", ts.value, ".", request.body()};
  absl::StatusOr<const std::string*> matched = keys_.Match(parts, candidates);
  if (!matched.ok()) return matched.status();
  if (*matched == nullptr) {
    return FailOutcome(out, v1::SIGNATURE_RESULT_MISMATCH,
                       "signature matches no secret of the profile");
  }
  out.key_id = **matched;
  out.message_id_signed = true;  // webhook-id is the first signed part
  if (!WithinTolerance(*timestamp, now, tolerance_)) {
    out.result = v1::SIGNATURE_RESULT_STALE;
    out.detail = absl::StrCat(
        "timestamp is ", absl::ToInt64Seconds(now - absl::FromUnixSeconds(*timestamp)),
        " s from the server clock; tolerance is ", absl::ToInt64Seconds(tolerance_), " s");
    return out;
  }
  out.result = v1::SIGNATURE_RESULT_VALID;
  return out;
}

}  // namespace hookguard

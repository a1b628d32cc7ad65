#include "server/signature/signer.h"

#include <variant>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/signature/codec.h"
#include "server/signature/mac.h"
#include "server/signature/payload_template.h"

namespace hookguard {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The MAC of the concatenation of `parts` with `key`.
absl::StatusOr<std::string> Mac(HashAlgorithm algorithm, absl::string_view key,
                                absl::Span<const absl::string_view> parts) {
  absl::StatusOr<PrekeyedHmac> hmac = PrekeyedHmac::Create(algorithm, key);
  if (!hmac.ok()) return hmac.status();
  unsigned char out[kMaxMacBytes];
  if (!hmac->Compute(parts, out)) return absl::InternalError("OpenSSL failed to compute an HMAC");
  return std::string(reinterpret_cast<const char*>(out), hmac->mac_size());
}

absl::Status Require(bool needed, absl::string_view value, absl::string_view what) {
  if (needed && value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the profile's scheme needs ", what));
  }
  return absl::OkStatus();
}

absl::Status CheckInput(const SignNeeds& needs, const SignInput& input) {
  for (const absl::Status& s :
       {Require(needs.timestamp, input.timestamp, "a timestamp"),
        Require(needs.message_id, input.message_id, "a message id"),
        Require(needs.method, input.method, "the request method ({method} is signed)"),
        Require(needs.url, input.url, "the request URL ({url} is signed)")}) {
    if (!s.ok()) return s;
  }
  if (needs.timestamp && !ParseUnixTimestamp(input.timestamp).has_value()) {
    return absl::InvalidArgumentError("the timestamp must be a Unix time in decimal digits");
  }
  return absl::OkStatus();
}

absl::StatusOr<Headers> SignHmac(const HmacScheme& scheme, absl::string_view key,
                                 const SignInput& input) {
  absl::StatusOr<PayloadTemplate> payload = PayloadTemplate::Parse(scheme.payload_format);
  if (!payload.ok()) return payload.status();
  const PayloadTemplate::Parts parts = payload->Expand(PayloadTemplate::Values{
      input.body, input.timestamp, input.method, input.url, input.message_id});
  absl::StatusOr<std::string> mac = Mac(scheme.algorithm, key, parts);
  if (!mac.ok()) return mac.status();
  const std::string encoded =
      absl::StrCat(scheme.signature_prefix, scheme.encoding == SignatureEncoding::kHex
                                                ? absl::BytesToHexString(*mac)
                                                : absl::Base64Escape(*mac));
  Headers headers;
  if (!scheme.signature_timestamp_key.empty()) {
    headers.emplace_back(scheme.signature_header,
                         absl::StrCat(scheme.signature_timestamp_key, "=", input.timestamp, ",",
                                      scheme.signature_key, "=", encoded));
  } else {
    headers.emplace_back(scheme.signature_header, encoded);
    if (!scheme.timestamp_header.empty()) {
      headers.emplace_back(scheme.timestamp_header, std::string(input.timestamp));
    }
  }
  if (!scheme.message_id_header.empty()) {
    headers.emplace_back(scheme.message_id_header, std::string(input.message_id));
  }
  return headers;
}

absl::StatusOr<Headers> SignStandardWebhooks(absl::string_view key, const SignInput& input) {
  const absl::string_view parts[] = {input.message_id, ".", input.timestamp, ".", input.body};
  absl::StatusOr<std::string> mac = Mac(HashAlgorithm::kSha256, key, parts);
  if (!mac.ok()) return mac.status();
  return Headers{{"webhook-id", std::string(input.message_id)},
                 {"webhook-timestamp", std::string(input.timestamp)},
                 {"webhook-signature", absl::StrCat("v1,", absl::Base64Escape(*mac))}};
}

// X-Twilio-Signature for a request to input.url with input.body (a form
// body; or any body when the URL carries its bodySHA256).
absl::StatusOr<Headers> SignTwilio(absl::string_view key, const SignInput& input) {
  absl::StatusOr<TwilioSignedRequest> request =
      ReadTwilioRequest(input.url, input.body, /*body_is_form=*/true);
  if (!request.ok()) return request.status();
  if (!request->BodyMatchesHash(input.body)) {
    return absl::InvalidArgumentError("the url's bodySHA256 is not the body's SHA-256");
  }
  absl::StatusOr<std::string> mac = Mac(HashAlgorithm::kSha1, key, request->Parts(input.url));
  if (!mac.ok()) return mac.status();
  return Headers{{"x-twilio-signature", absl::Base64Escape(*mac)}};
}

}  // namespace

SignNeeds NeedsOf(const SignatureScheme& scheme) {
  SignNeeds needs;
  if (const auto* hmac = std::get_if<HmacScheme>(&scheme)) {
    absl::StatusOr<PayloadTemplate> payload = PayloadTemplate::Parse(hmac->payload_format);
    needs.timestamp = !hmac->timestamp_header.empty() || !hmac->signature_timestamp_key.empty();
    needs.message_id = !hmac->message_id_header.empty();
    needs.method = payload.ok() && payload->Uses(Placeholder::kMethod);
    needs.url = payload.ok() && payload->Uses(Placeholder::kUrl);
    needs.timestamp_in_milliseconds =
        absl::EqualsIgnoreCase(hmac->timestamp_header, "x-timestamp") ||
        (payload.ok() && payload->TimestampFollowsBody());
  } else if (std::holds_alternative<StandardWebhooksScheme>(scheme)) {
    needs.timestamp = true;
    needs.message_id = true;
  } else if (std::holds_alternative<TwilioScheme>(scheme)) {
    needs.url = true;  // Twilio signs the URL it calls
  }
  return needs;
}

absl::StatusOr<Headers> SignDelivery(const SignatureScheme& scheme, absl::string_view key,
                                     const SignInput& input) {
  if (key.empty()) return absl::InvalidArgumentError("the secret is empty");
  if (absl::Status s = CheckInput(NeedsOf(scheme), input); !s.ok()) return s;
  if (const auto* hmac = std::get_if<HmacScheme>(&scheme)) return SignHmac(*hmac, key, input);
  if (const auto* shared = std::get_if<SharedSecretScheme>(&scheme)) {
    return Headers{
        {shared->header, shared->bearer_prefix ? absl::StrCat("Bearer ", key) : std::string(key)}};
  }
  if (std::holds_alternative<TwilioScheme>(scheme)) return SignTwilio(key, input);
  return SignStandardWebhooks(key, input);
}

}  // namespace hookguard

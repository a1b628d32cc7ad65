#include "server/signature/twilio_verifier.h"

#include <openssl/sha.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/payload/form_body.h"
#include "server/signature/codec.h"
#include "server/signature/mac.h"

namespace hookguard {
namespace {

using v1::SIGNATURE_RESULT_MALFORMED;
using v1::SIGNATURE_RESULT_MISMATCH;
using v1::SIGNATURE_RESULT_VALID;

constexpr absl::string_view kSignatureHeader = "x-twilio-signature";
constexpr absl::string_view kContentTypeHeader = "content-type";
constexpr absl::string_view kFormContentType = "application/x-www-form-urlencoded";
constexpr absl::string_view kBodyHashParameter = "bodySHA256";
constexpr size_t kSha1Bytes = 20;

// The pieces of an absolute http(s) URL that the port variants and the
// bodySHA256 check need. Views into the URL.
struct UrlParts {
  absl::string_view authority_end_prefix;  // the URL up to the end of the authority
  absl::string_view rest;                  // path, query and fragment
  absl::string_view port;                  // digits after the host's ':', empty if none
  absl::string_view query;                 // between '?' and '#' or the end
  bool https = false;
};

std::optional<UrlParts> SplitUrl(absl::string_view url) {
  UrlParts parts;
  size_t authority_start;
  if (absl::StartsWithIgnoreCase(url, "https://")) {
    parts.https = true;
    authority_start = 8;
  } else if (absl::StartsWithIgnoreCase(url, "http://")) {
    authority_start = 7;
  } else {
    return std::nullopt;
  }
  size_t authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == absl::string_view::npos) authority_end = url.size();
  const absl::string_view authority = url.substr(authority_start, authority_end - authority_start);
  if (authority.empty()) return std::nullopt;
  // The port follows the last ':' unless that ':' is inside an IPv6 literal.
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');
  if (colon != absl::string_view::npos && (bracket == absl::string_view::npos || colon > bracket)) {
    parts.port = authority.substr(colon + 1);
    if (parts.port.empty() || colon == 0 ||
        !std::all_of(parts.port.begin(), parts.port.end(), absl::ascii_isdigit)) {
      return std::nullopt;
    }
  }
  parts.authority_end_prefix = url.substr(0, authority_end);
  parts.rest = url.substr(authority_end);
  const size_t question = parts.rest.find('?');
  if (question != absl::string_view::npos) {
    parts.query = parts.rest.substr(question + 1);
    parts.query = parts.query.substr(0, parts.query.find('#'));
  }
  return parts;
}

// The other spelling of `url` that Twilio may have signed: with the default
// port written out, or without it; nullopt for a non-default port.
std::optional<std::string> DefaultPortVariant(const UrlParts& parts) {
  const absl::string_view default_port = parts.https ? "443" : "80";
  if (parts.port.empty()) {
    return absl::StrCat(parts.authority_end_prefix, ":", default_port, parts.rest);
  }
  if (parts.port != default_port) return std::nullopt;
  const absl::string_view without = parts.authority_end_prefix.substr(
      0, parts.authority_end_prefix.size() - parts.port.size() - 1);
  return absl::StrCat(without, parts.rest);
}

// Whether a Content-Type header value names the form media type (parameters
// such as "; charset=utf-8" are allowed).
bool IsFormContentType(absl::string_view value) {
  absl::string_view media_type = value.substr(0, value.find(';'));
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(media_type), kFormContentType);
}

}  // namespace

absl::StatusOr<std::unique_ptr<const TwilioVerifier>> TwilioVerifier::Create(
    TwilioScheme /*scheme*/, std::vector<SecretKey> keys) {
  absl::StatusOr<KeyRing> ring = KeyRing::Create(HashAlgorithm::kSha1, std::move(keys));
  if (!ring.ok()) return ring.status();
  return std::unique_ptr<const TwilioVerifier>(new TwilioVerifier(*std::move(ring)));
}

absl::StatusOr<TwilioSignedRequest> ReadTwilioRequest(absl::string_view url, absl::string_view body,
                                                      bool body_is_form) {
  if (url.empty()) {
    return absl::InvalidArgumentError(
        "request has no url: Twilio signs the full URL it requested, so the caller must pass it "
        "(HttpRequest.url, e.g. https://example.com/twilio/status?tenant=1)");
  }
  const std::optional<UrlParts> parts = SplitUrl(url);
  if (!parts) {
    return absl::InvalidArgumentError("url is not an absolute http:// or https:// URL with a host");
  }
  absl::StatusOr<std::vector<FormParameter>> query = ParseFormBody(parts->query);
  if (!query.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("url query: ", query.status().message()));
  }
  TwilioSignedRequest out;
  out.url_variant = DefaultPortVariant(*parts);
  std::optional<std::string> body_hash;
  for (FormParameter& p : *query) {
    if (p.name != kBodyHashParameter) continue;
    if (body_hash) return absl::InvalidArgumentError("url has bodySHA256 more than once");
    body_hash = std::move(p.value);
  }
  if (body_hash) {
    out.body_sha256 = body_hash->size() == size_t{2} * SHA256_DIGEST_LENGTH ? DecodeHex(*body_hash)
                                                                            : std::nullopt;
    if (!out.body_sha256) {
      return absl::InvalidArgumentError("url's bodySHA256 is not 64 hex digits");
    }
    return out;
  }
  if (body.empty()) return out;
  if (!body_is_form) {
    return absl::InvalidArgumentError(
        "body is not application/x-www-form-urlencoded and the url has no bodySHA256: Twilio "
        "would have signed none of it");
  }
  absl::StatusOr<std::vector<FormParameter>> sorted = SortedFormParameters(body);
  if (!sorted.ok()) return sorted.status();
  out.parameters = *std::move(sorted);
  out.parameters.erase(std::unique(out.parameters.begin(), out.parameters.end()),
                       out.parameters.end());
  return out;
}

std::vector<absl::string_view> TwilioSignedRequest::Parts(absl::string_view url) const {
  std::vector<absl::string_view> parts;
  parts.reserve(1 + 2 * parameters.size());
  parts.push_back(url);
  for (const FormParameter& p : parameters) {
    parts.push_back(p.name);
    parts.push_back(p.value);
  }
  return parts;
}

bool TwilioSignedRequest::BodyMatchesHash(absl::string_view body) const {
  if (!body_sha256) return true;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  return ConstantTimeEquals(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)), *body_sha256);
}

absl::StatusOr<VerifyOutcome> TwilioVerifier::Verify(const v1::HttpRequest& request,
                                                     absl::Time /*now*/) const {
  VerifyOutcome out;
  const auto& headers = request.headers();
  const HeaderValue signature = ReadHeaderValue(headers, kSignatureHeader);
  if (auto problem = DescribeHeaderProblem(signature, kSignatureHeader)) {
    return FailOutcome(out, problem->result, std::move(problem->detail));
  }
  std::optional<std::string> mac = DecodeBase64(signature.value);
  if (!mac || mac->size() != kSha1Bytes) {
    return FailOutcome(out, SIGNATURE_RESULT_MALFORMED,
                       "x-twilio-signature is not the base64 of an HMAC-SHA1");
  }
  // A Content-Type that is given and is not the form type (or is ambiguous)
  // means the body is not form parameters.
  const HeaderValue content_type = ReadHeaderValue(headers, kContentTypeHeader);
  const bool body_is_form =
      content_type.state == HeaderValue::State::kAbsent ||
      (content_type.state == HeaderValue::State::kFound && IsFormContentType(content_type.value));
  absl::StatusOr<TwilioSignedRequest> signed_request =
      ReadTwilioRequest(request.url(), request.body(), body_is_form);
  if (!signed_request.ok()) {
    return FailOutcome(out, SIGNATURE_RESULT_MALFORMED,
                       std::string(signed_request.status().message()));
  }

  // The URL as given, then its other default-port spelling.
  const std::string candidates[] = {*std::move(mac)};
  absl::StatusOr<const std::string*> matched =
      keys_.Match(signed_request->Parts(request.url()), candidates);
  if (!matched.ok()) return matched.status();
  if (*matched == nullptr && signed_request->url_variant) {
    matched = keys_.Match(signed_request->Parts(*signed_request->url_variant), candidates);
    if (!matched.ok()) return matched.status();
  }
  if (*matched == nullptr) {
    return FailOutcome(out, SIGNATURE_RESULT_MISMATCH,
                       "signature matches no auth token of the profile for this url and body");
  }
  if (!signed_request->BodyMatchesHash(request.body())) {
    return FailOutcome(out, SIGNATURE_RESULT_MISMATCH,
                       "body does not hash to the url's bodySHA256");
  }
  out.key_id = **matched;
  out.result = SIGNATURE_RESULT_VALID;
  return out;
}

}  // namespace hookguard

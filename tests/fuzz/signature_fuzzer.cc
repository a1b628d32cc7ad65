// libFuzzer target: every Verifier kind (hmac with and without a signed
// timestamp and message id, shared_secret with and without "Bearer ",
// standard_webhooks, the retell and elevenlabs presets, twilio) on fuzzed
// header values, body, method and url.
// Nothing may crash, and a forged request must never be VALID: the fuzzer
// does not know the secrets, so VALID would mean a broken comparison.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fuzzer/FuzzedDataProvider.h"
#include "google/protobuf/util/json_util.h"
#include "server/signature/signature_scheme.h"

namespace {

struct Kind {
  const char* profile_json;
  const char* secret;
  std::vector<std::string> headers;  // the header names this kind reads
};

const Kind kKinds[] = {
    {R"({"name":"hmac","kind":"hmac"})", "fuzz-secret", {"x-vapi-signature"}},
    {R"({"name":"hmac_ts","kind":"hmac","algorithm":"sha512","signature_header":"x-signature",
        "signature_prefix":"v1=","signature_encoding":"base64","timestamp_header":"x-timestamp",
        "message_id_header":"x-id","payload_format":"{id}.{timestamp}.{method}.{url}.{body}"})",
     "fuzz-secret",
     {"x-signature", "x-timestamp", "x-id"}},
    {R"({"name":"stripe","preset":"stripe"})", "whsec_fuzz", {"stripe-signature"}},
    {R"({"name":"shared","kind":"shared_secret"})", "fuzz-secret", {"x-vapi-secret"}},
    {R"({"name":"bearer","kind":"shared_secret","header":"authorization","bearer_prefix":true})",
     "fuzz-secret",
     {"authorization"}},
    {R"({"name":"std","kind":"standard_webhooks"})",
     "whsec_ZnV6ei1zZWNyZXQ=",
     {"webhook-id", "webhook-timestamp", "webhook-signature"}},
    {R"({"name":"retell","preset":"retell"})", "fuzz-secret", {"x-retell-signature"}},
    {R"({"name":"elevenlabs","preset":"elevenlabs"})", "fuzz-secret", {"elevenlabs-signature"}},
    {R"({"name":"twilio","kind":"twilio"})", "fuzz-secret", {"x-twilio-signature", "content-type"}},
};

std::vector<std::unique_ptr<const hookguard::Verifier>> MakeAll() {
  std::vector<std::unique_ptr<const hookguard::Verifier>> out;
  for (const Kind& kind : kKinds) {
    hookguard::config::v1::Profile profile;
    if (!google::protobuf::util::JsonStringToMessage(kind.profile_json, &profile).ok()) {
      std::abort();
    }
    auto scheme = hookguard::ParseSignatureScheme(profile);
    if (!scheme.ok()) std::abort();
    auto key = hookguard::DecodeSecretKey(*scheme, kind.secret);
    if (!key.ok()) std::abort();
    auto verifier = hookguard::MakeVerifier(*scheme, {{"k", *key}});
    if (!verifier.ok()) std::abort();
    out.push_back(*std::move(verifier));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* verifiers =
      new std::vector<std::unique_ptr<const hookguard::Verifier>>(MakeAll());
  FuzzedDataProvider in(data, size);
  const size_t which = in.ConsumeIntegralInRange<size_t>(0, verifiers->size() - 1);
  const Kind& kind = kKinds[which];
  hookguard::v1::HttpRequest request;
  for (const std::string& name : kind.headers) {
    if (in.ConsumeBool()) (*request.mutable_headers())[name] = in.ConsumeRandomLengthString(512);
  }
  if (in.ConsumeBool()) {
    // A header under a name of the fuzzer's choosing (case variants, junk).
    std::string name = in.ConsumeRandomLengthString(32);
    (*request.mutable_headers())[name] = in.ConsumeRandomLengthString(256);
  }
  request.set_method(in.ConsumeRandomLengthString(16));
  request.set_url(in.ConsumeRandomLengthString(64));
  request.set_body(in.ConsumeRemainingBytesAsString());
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  absl::StatusOr<hookguard::VerifyOutcome> outcome = (*verifiers)[which]->Verify(request, now);
  // Say which rule broke before aborting: a CI log may be all there is.
  if (!outcome.ok()) {
    std::fprintf(stderr, "signature_fuzzer: %s: Verify failed: %s\n", kind.profile_json,
                 outcome.status().ToString().c_str());
    std::abort();
  }
  if (outcome->result == hookguard::v1::SIGNATURE_RESULT_VALID ||
      outcome->result == hookguard::v1::SIGNATURE_RESULT_UNSPECIFIED) {
    std::fprintf(stderr, "signature_fuzzer: %s: a forged request got %s (%s)\n", kind.profile_json,
                 hookguard::v1::SignatureResult_Name(outcome->result).c_str(),
                 outcome->detail.c_str());
    std::abort();
  }
  return 0;
}

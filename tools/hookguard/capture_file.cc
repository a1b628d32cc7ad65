#include "tools/hookguard/capture_file.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/signature/codec.h"

namespace hookguard::cli {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

absl::Status Bad(absl::string_view key, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("capture file: \"", key, "\" ", what));
}

// The string at `key`: "" when absent or null, an error for another type.
absl::StatusOr<std::string> String(const Struct& doc, absl::string_view key) {
  auto it = doc.fields().find(std::string(key));
  if (it == doc.fields().end() || it->second.has_null_value()) return std::string();
  if (!it->second.has_string_value()) return Bad(key, "must be a string");
  return it->second.string_value();
}

}  // namespace

absl::StatusOr<Capture> ParseCapture(absl::string_view json) {
  Struct doc;
  google::protobuf::util::JsonParseOptions options;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &doc, options).ok()) {
    return absl::InvalidArgumentError("capture file: not a JSON object");
  }
  absl::StatusOr<std::string> format = String(doc, "format");
  if (!format.ok()) return format.status();
  if (*format != kCaptureFormat) {
    return Bad("format", absl::StrCat("must be \"", kCaptureFormat, "\""));
  }
  Capture capture;
  v1::HttpRequest* http = capture.request.mutable_request();
  const struct {
    const char* key;
    std::string* out;
  } strings[] = {
      {"profile", capture.request.mutable_profile()},
      {"expected_owner_id", capture.request.mutable_expected_owner_id()},
      {"method", http->mutable_method()},
      {"url", http->mutable_url()},
      {"captured_at", &capture.captured_at},
      {"decision", &capture.decision},
      {"shadow_decision", &capture.shadow_decision},
      {"reason", &capture.reason},
      {"decision_id", &capture.decision_id},
  };
  for (const auto& s : strings) {
    absl::StatusOr<std::string> value = String(doc, s.key);
    if (!value.ok()) return value.status();
    *s.out = *std::move(value);
  }
  if (auto it = doc.fields().find("http_status");
      it != doc.fields().end() && !it->second.has_null_value()) {
    if (!it->second.has_number_value()) return Bad("http_status", "must be a number");
    capture.http_status = static_cast<int>(it->second.number_value());
  }
  absl::StatusOr<std::string> body = String(doc, "body_base64");
  if (!body.ok()) return body.status();
  if (doc.fields().count("body_base64") == 0) return Bad("body_base64", "is required");
  if (!body->empty()) {
    std::optional<std::string> bytes = DecodeBase64(*body);
    if (!bytes) return Bad("body_base64", "is not standard base64");
    http->set_body(*std::move(bytes));
  }
  if (auto it = doc.fields().find("headers");
      it != doc.fields().end() && !it->second.has_null_value()) {
    if (!it->second.has_struct_value()) return Bad("headers", "must be an object");
    for (const auto& [name, value] : it->second.struct_value().fields()) {
      if (!value.has_string_value()) {
        return Bad(absl::StrCat("headers.", name), "must be a string");
      }
      (*http->mutable_headers())[name] = value.string_value();
    }
  }
  return capture;
}

}  // namespace hookguard::cli

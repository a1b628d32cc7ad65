// Contract runner for the C++ client: every vector of
// tests/contract/vectors.json against the live server at HOOKGUARD_TARGET
// (started by tests/contract/run.sh). Not registered with ctest: it needs a
// running server; run.sh runs the binary.
#include <absl/strings/escaping.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "hookguard/client/webhook_guard.h"

namespace hookguard {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

struct Vector {
  std::string name;
  Struct fields;
};

void PrintTo(const Vector& v, std::ostream* os) { *os << v.name; }

std::vector<Vector> LoadVectors() {
  const char* env = std::getenv("HOOKGUARD_VECTORS");
  std::ifstream in(env ? env : HOOKGUARD_VECTORS_PATH, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  Struct doc;
  if (!in || !google::protobuf::util::JsonStringToMessage(text.str(), &doc).ok()) {
    ADD_FAILURE() << "cannot read vectors";
    return {};
  }
  std::vector<Vector> out;
  for (const Value& v : doc.fields().at("vectors").list_value().values()) {
    out.push_back({v.struct_value().fields().at("name").string_value(), v.struct_value()});
  }
  return out;
}

std::string Str(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

class Contract : public testing::TestWithParam<Vector> {};

TEST_P(Contract, MatchesExpectation) {
  const char* target = std::getenv("HOOKGUARD_TARGET");
  ASSERT_NE(target, nullptr) << "HOOKGUARD_TARGET is required";
  static auto guard = [&] {
    GrpcWebhookGuardOptions options;
    options.timeout = std::chrono::seconds(5);  // large vectors on a loaded CI machine
    return GrpcWebhookGuard::Create(target, options);
  }();
  const Struct& v = GetParam().fields;
  WebhookRequest request;
  if (v.fields().count("body_base64")) {
    ASSERT_TRUE(absl::Base64Unescape(Str(v, "body_base64"), &request.body));
  } else {
    request.body = Str(v, "body");
  }
  for (const auto& [name, value] : v.fields().at("headers").struct_value().fields()) {
    request.headers[name] = value.string_value();
  }
  request.profile = Str(v, "profile");
  request.expected_owner_id = Str(v, "expected_owner_id");
  request.method = Str(v, "method");
  request.url = Str(v, "url");
  Verdict got = guard->Authorize(request);

  const Struct& expect = v.fields().at("expect").struct_value();
  std::map<std::string, std::string> actual = {
      {"decision", v1::Decision_Name(got.decision)},
      {"reason", v1::DenyReason_Name(got.reason)},
      {"http_status", std::to_string(got.http_status)},
      {"owner_id", got.owner_id},
      {"signature", v1::SignatureResult_Name(got.signature)},
      {"key_id", got.key_id},
      {"error", ""},
      {"resolved_by", v1::OwnerSource_Name(got.resolved_by)},
      {"delivery_key", got.delivery_key},
      {"shadow_decision", v1::Decision_Name(got.shadow_decision)},
      {"shadow_reason", v1::DenyReason_Name(got.shadow_reason)},
      {"resolved_subject", got.resolved_subject},
  };
  static const std::map<grpc::StatusCode, std::string> kCodes = {
      {grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT"},
      {grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE"},
      {grpc::StatusCode::DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED"},
      {grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED"},
      {grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_DENIED"},
  };
  if (got.error != grpc::StatusCode::OK) {
    auto it = kCodes.find(got.error);
    actual["error"] = it == kCodes.end() ? "code " + std::to_string(got.error) : it->second;
  }
  // Every expect key, and only those; a key this runner cannot read fails.
  for (const auto& [key, want] : expect.fields()) {
    std::string w = want.kind_case() == Value::kNumberValue
                        ? std::to_string(static_cast<int>(want.number_value()))
                        : want.string_value();
    auto it = actual.find(key);
    if (it == actual.end()) {
      ADD_FAILURE() << "unknown expect key " << key;
      continue;
    }
    EXPECT_EQ(it->second, w) << key << ": " << Str(v, "description") << " (" << got.detail << ")";
  }
  EXPECT_EQ(got.allowed, Str(expect, "decision") == "DECISION_ALLOW");
  EXPECT_EQ(got.ShadowDeny(), Str(expect, "shadow_decision") == "DECISION_DENY");
}

std::string ReadFile(const char* env_name) {
  const char* path = std::getenv(env_name);
  if (path == nullptr) return "";
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The client's TLS options against the server with mutual TLS (run.py).
Verdict AskOverTls(bool with_client_certificate) {
  const char* target = std::getenv("HOOKGUARD_TLS_TARGET");
  if (target == nullptr) {
    ADD_FAILURE() << "HOOKGUARD_TLS_TARGET is required";
    return {};
  }
  GrpcWebhookGuardOptions options;
  options.timeout = std::chrono::seconds(5);
  options.use_tls = true;
  options.ca_pem = ReadFile("HOOKGUARD_TLS_CA");
  if (with_client_certificate) {
    options.cert_pem = ReadFile("HOOKGUARD_TLS_CERT");
    options.key_pem = ReadFile("HOOKGUARD_TLS_KEY");
  }
  auto guard = GrpcWebhookGuard::Create(target, options);
  for (const Vector& v : LoadVectors()) {
    if (v.name != "allow_message_shape") continue;
    WebhookRequest request;
    request.body = Str(v.fields, "body");
    for (const auto& [name, value] : v.fields.fields().at("headers").struct_value().fields()) {
      request.headers[name] = value.string_value();
    }
    return guard->Authorize(request);
  }
  ADD_FAILURE() << "allow_message_shape not in vectors";
  return {};
}

TEST(ContractTls, MutualTlsClientIsAllowed) {
  Verdict v = AskOverTls(true);
  EXPECT_TRUE(v.allowed) << v.detail;
  EXPECT_EQ(v.owner_id, "1");
}

TEST(ContractTls, WithoutClientCertificateFailsClosed) {
  Verdict v = AskOverTls(false);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.http_status, 503);
  EXPECT_NE(v.error, grpc::StatusCode::OK);
}

INSTANTIATE_TEST_SUITE_P(Vectors, Contract, testing::ValuesIn(LoadVectors()),
                         [](const testing::TestParamInfo<Vector>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace hookguard

#include "tools/hookguard/capture_file.h"

#include <string>

#include "gtest/gtest.h"

namespace hookguard::cli {
namespace {

// The example of the format's description: body {"message":{"type":"x"}}.
constexpr char kCapture[] = R"({
  "format": "hookguard-capture/v1",
  "captured_at": "2026-12-05T07:30:00Z",
  "profile": "vapi",
  "method": "POST",
  "url": "https://app.example.com/webhooks/vapi",
  "headers": {"x-signature": "abc", "x-timestamp": "1700000000000"},
  "body_base64": "eyJtZXNzYWdlIjp7InR5cGUiOiJ4In19",
  "expected_owner_id": "7",
  "decision": "DECISION_ALLOW",
  "shadow_decision": "DECISION_DENY",
  "reason": "DENY_REASON_CALL_NOT_FOUND",
  "http_status": 404,
  "decision_id": "d-1",
  "written_by": "a newer helper: unknown keys are ignored"
})";

TEST(ParseCapture, ReadsEveryFieldOfTheFormat) {
  absl::StatusOr<Capture> c = ParseCapture(kCapture);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->request.profile(), "vapi");
  EXPECT_EQ(c->request.expected_owner_id(), "7");
  EXPECT_EQ(c->request.request().body(), R"({"message":{"type":"x"}})");
  EXPECT_EQ(c->request.request().method(), "POST");
  EXPECT_EQ(c->request.request().url(), "https://app.example.com/webhooks/vapi");
  ASSERT_EQ(c->request.request().headers().size(), 2u);
  EXPECT_EQ(c->request.request().headers().at("x-timestamp"), "1700000000000");
  EXPECT_EQ(c->captured_at, "2026-12-05T07:30:00Z");
  EXPECT_EQ(c->decision, "DECISION_ALLOW");
  EXPECT_EQ(c->shadow_decision, "DECISION_DENY");
  EXPECT_EQ(c->reason, "DENY_REASON_CALL_NOT_FOUND");
  EXPECT_EQ(c->http_status, 404);
  EXPECT_EQ(c->decision_id, "d-1");
}

TEST(ParseCapture, OnlyFormatAndBodyAreRequired) {
  absl::StatusOr<Capture> c =
      ParseCapture(R"({"format": "hookguard-capture/v1", "body_base64": "", "url": null})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->request.request().body(), "");
  EXPECT_EQ(c->request.profile(), "");
  EXPECT_EQ(c->http_status, 0);
}

TEST(ParseCapture, RefusesWhatIsNotTheFormatNamingTheKey) {
  const struct {
    std::string json;
    const char* says;
  } cases[] = {
      {"not json", "not a JSON object"},
      {"[1]", "not a JSON object"},
      {R"({"body_base64": "e30="})", "format"},
      {R"({"format": "hookguard-capture/v2", "body_base64": "e30="})", "format"},
      {R"({"format": "hookguard-capture/v1"})", "body_base64"},
      {R"({"format": "hookguard-capture/v1", "body_base64": "not base64!"})", "body_base64"},
      {R"({"format": "hookguard-capture/v1", "body_base64": "e30=", "headers": []})", "headers"},
      {R"({"format": "hookguard-capture/v1", "body_base64": "e30=", "headers": {"x": 1}})",
       "headers.x"},
      {R"({"format": "hookguard-capture/v1", "body_base64": "e30=", "profile": 3})", "profile"},
      {R"({"format": "hookguard-capture/v1", "body_base64": "e30=", "http_status": "404"})",
       "http_status"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<Capture> got = ParseCapture(c.json);
    ASSERT_FALSE(got.ok()) << c.json;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(c.says), absl::string_view::npos) << got.status();
  }
}

}  // namespace
}  // namespace hookguard::cli

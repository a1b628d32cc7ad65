// The capture file (format hookguard-capture/v1): exact keys and bytes,
// mode 0600, atomic write, safe file names.
#include "hookguard/client/capture.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

namespace hookguard {
namespace {

std::string TempDir() {
  std::string tmpl = (std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp");
  tmpl += "/hg-capture-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  return mkdtemp(buf.data());
}

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  closedir(d);
  return out;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Verdict Deny(const std::string& id) {
  Verdict v;
  v.decision = v1::DECISION_DENY;
  v.reason = v1::DENY_REASON_CALL_NOT_FOUND;
  v.http_status = 404;
  v.decision_id = id;
  return v;
}

TEST(Capture, WritesExactlyTheFormatKeysAndTheRawBytesWithMode0600) {
  std::string dir = TempDir() + "/sub";
  WebhookRequest request;
  request.body = std::string("{\0\xff\"}", 5);
  request.headers = {{"X-Signature", "s\"1"}, {"x-signature", "s2"}};
  request.profile = "vapi";
  request.method = "POST";
  request.expected_owner_id = "42";
  std::string path, error;
  ASSERT_TRUE(WriteCapture(dir, request, Deny("0123abcd"), "https://app/w", &path, &error))
      << error;
  EXPECT_TRUE(std::regex_match(path, std::regex(".*/\\d{8}T\\d{6}Z-0123abcd\\.json"))) << path;
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Files(dir).size(), 1u);  // no temporary file left
  std::string text = Read(path);
  std::regex expected(
      "\\{\n"
      " \"format\": \"hookguard-capture/v1\",\n"
      " \"captured_at\": \"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\",\n"
      " \"profile\": \"vapi\",\n"
      " \"method\": \"POST\",\n"
      " \"url\": \"https://app/w\",\n"
      " \"headers\": \\{\"x-signature\": \"s\\\\\"1, s2\"\\},\n"
      " \"body_base64\": \"ewD/In0=\",\n"
      " \"expected_owner_id\": \"42\",\n"
      " \"decision\": \"DECISION_DENY\",\n"
      " \"shadow_decision\": \"DECISION_UNSPECIFIED\",\n"
      " \"reason\": \"DENY_REASON_CALL_NOT_FOUND\",\n"
      " \"http_status\": 404,\n"
      " \"decision_id\": \"0123abcd\"\n"
      "\\}\n");
  EXPECT_TRUE(std::regex_match(text, expected)) << text;
}

TEST(Capture, ShadowRecordNamesTheShadowReason) {
  Verdict v;
  v.allowed = true;
  v.decision = v1::DECISION_ALLOW;
  v.http_status = 200;
  v.shadow_decision = v1::DECISION_DENY;
  v.shadow_reason = v1::DENY_REASON_OWNER_MISMATCH;
  EXPECT_TRUE(ShouldCapture(v));
  std::string text = CaptureRecord(WebhookRequest{}, v, "", 0);
  EXPECT_NE(text.find("\"captured_at\": \"1970-01-01T00:00:00Z\""), std::string::npos);
  EXPECT_NE(text.find("\"reason\": \"DENY_REASON_OWNER_MISMATCH\""), std::string::npos);
  EXPECT_NE(text.find("\"shadow_decision\": \"DECISION_DENY\""), std::string::npos);
}

TEST(Capture, OnlyDeniesAndWouldBeDeniesAreCaptured) {
  Verdict allow;
  allow.allowed = true;
  allow.decision = v1::DECISION_ALLOW;
  EXPECT_FALSE(ShouldCapture(allow));
  EXPECT_FALSE(ShouldCapture(VerdictFromStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, ""))));
  EXPECT_TRUE(ShouldCapture(Deny("d")));
}

TEST(Capture, UnsafeDecisionIdGetsARandomNameAndRepeatsKeepBoth) {
  std::string dir = TempDir();
  std::string p1, p2, error;
  ASSERT_TRUE(WriteCapture(dir, WebhookRequest{}, Deny("../../x"), "", &p1, &error)) << error;
  ASSERT_TRUE(WriteCapture(dir, WebhookRequest{}, Deny("../../x"), "", &p2, &error)) << error;
  EXPECT_TRUE(std::regex_match(p1, std::regex(".*/\\d{8}T\\d{6}Z-[0-9a-f]{16}\\.json"))) << p1;
  EXPECT_NE(p1, p2);
  EXPECT_EQ(Files(dir).size(), 2u);
}

TEST(Capture, UnwritableDirectoryIsAnError) {
  std::string path, error;
  EXPECT_FALSE(
      WriteCapture("/proc/hookguard-no-such/dir", WebhookRequest{}, Deny("d"), "", &path, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace hookguard

#include "server/config/config.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace hookguard {
namespace {

// A complete example config (with a real query string).
constexpr char kContractExample[] = R"({
  "profiles": [
    {"name": "vapi", "kind": "hmac", "algorithm": "sha256", "signature_header": "x-signature",
     "timestamp_header": "x-timestamp", "payload_format": "{timestamp}.{body}", "tolerance_seconds": 300,
     "secrets": [{"key_id": "2026-11", "env": "VAPI_SECRET_NEW"}, {"key_id": "2026-10", "file": "/run/secrets/old"}]},
    {"name": "legacy", "kind": "shared_secret", "header": "x-vapi-secret", "secrets": [{"key_id": "a", "env": "LEGACY_SECRET"}]}
  ],
  "default_profile": "vapi",
  "ownership": {"call_query": "SELECT 1 WHERE :call_id = :call_id"}
})";

TEST(DefaultConfig, IsOneHmacProfileWithTheEnvSecret) {
  const config::v1::Config c = DefaultConfig();
  ASSERT_EQ(c.profiles_size(), 1);
  EXPECT_EQ(c.default_profile(), "default");
  EXPECT_EQ(c.profiles(0).name(), "default");
  EXPECT_EQ(c.profiles(0).kind(), "hmac");
  ASSERT_EQ(c.profiles(0).secrets_size(), 1);
  EXPECT_EQ(c.profiles(0).secrets(0).key_id(), "env");
  EXPECT_EQ(c.profiles(0).secrets(0).env(), "VAPI_WEBHOOK_SECRET");
}

TEST(ParseConfigJson, ReadsTheContractExample) {
  absl::StatusOr<config::v1::Config> c = ParseConfigJson(kContractExample, "example.json");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->profiles_size(), 2);
  EXPECT_EQ(c->default_profile(), "vapi");
  EXPECT_EQ(c->profiles(0).timestamp_header(), "x-timestamp");
  EXPECT_EQ(c->profiles(0).secrets(1).file(), "/run/secrets/old");
  EXPECT_EQ(c->profiles(1).header(), "x-vapi-secret");
  EXPECT_EQ(c->ownership().call_query(), "SELECT 1 WHERE :call_id = :call_id");
}

TEST(ParseConfigJson, CompletesWhatMayBeLeftOut) {
  absl::StatusOr<config::v1::Config> only_ownership = ParseConfigJson(
      R"({"ownership": {"call_query": "SELECT 1 WHERE :call_id = :call_id"}})", "o.json");
  ASSERT_TRUE(only_ownership.ok()) << only_ownership.status();
  EXPECT_EQ(only_ownership->profiles_size(), 1);
  EXPECT_EQ(only_ownership->profiles(0).secrets(0).env(), "VAPI_WEBHOOK_SECRET");
  EXPECT_EQ(only_ownership->default_profile(), "default");

  absl::StatusOr<config::v1::Config> one = ParseConfigJson(
      R"({"profiles": [{"name": "gh", "preset": "github", "secrets": [{"key_id": "a", "file": "/s"}]}]})",
      "one.json");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->default_profile(), "gh");
}

TEST(ParseConfigJson, NamesTheProblemAndTheFile) {
  const struct {
    const char* name;
    const char* json;
    std::vector<const char*> says;  // every one must be in the message
  } cases[] = {
      {"unknown top-level key", R"({"profilez": []})", {"c.json", "unknown key \"profilez\""}},
      {"unknown profile key",
       R"({"profiles": [{"name": "a", "kind": "hmac", "secretz": []}]})",
       {"c.json", "unknown key \"secretz\"", "profiles[0]"}},
      {"inline secret value",
       R"({"profiles": [{"name": "a", "kind": "hmac", "secrets": [{"key_id": "k", "value": "x"}]}]})",
       {"unknown key \"value\"", "profiles[0].secrets[0]"}},
      {"wrong type",
       R"({"profiles": [{"name": "a", "tolerance_seconds": "soon"}]})",
       {"c.json", "tolerance_seconds"}},
      {"not JSON", "{", {"c.json"}},
  };
  for (const auto& c : cases) {
    absl::StatusOr<config::v1::Config> parsed = ParseConfigJson(c.json, "c.json");
    ASSERT_FALSE(parsed.ok()) << c.name;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    for (const char* say : c.says) {
      EXPECT_NE(parsed.status().message().find(say), absl::string_view::npos)
          << c.name << ": \"" << say << "\" not in: " << parsed.status().message();
    }
  }
}

// ReadConfigFile, then ParseConfigJson, as the server reads --config.
absl::StatusOr<config::v1::Config> LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (!text.ok()) return text.status();
  return ParseConfigJson(*text, path);
}

TEST(LoadConfigFile, NamesAMissingFile) {
  absl::StatusOr<config::v1::Config> c = LoadConfigFile("/nonexistent/hookguard.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("/nonexistent/hookguard.json"), absl::string_view::npos);
}

TEST(LoadConfigFile, ReadsAFileAndNamesItInErrors) {
  char dir_template[] = "/tmp/hookguard_config_testXXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string good = std::string(dir_template) + "/good.json";
  const std::string bad = std::string(dir_template) + "/bad.json";
  std::ofstream(good) << kContractExample;
  std::ofstream(bad) << R"({"profiles": [{"name": "a", "kynd": "hmac"}]})";
  absl::StatusOr<config::v1::Config> c = LoadConfigFile(good);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->profiles_size(), 2);
  absl::StatusOr<config::v1::Config> b = LoadConfigFile(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find(bad), absl::string_view::npos) << b.status();
  EXPECT_NE(b.status().message().find("\"kynd\""), absl::string_view::npos) << b.status();
  absl::StatusOr<config::v1::Config> dir = LoadConfigFile(dir_template);
  EXPECT_FALSE(dir.ok());
  std::remove(good.c_str());
  std::remove(bad.c_str());
  rmdir(dir_template);
}

TEST(SecretFiles, ListsEachFileOnce) {
  absl::StatusOr<config::v1::Config> c = ParseConfigJson(R"({
    "profiles": [
      {"name": "a", "kind": "hmac", "secrets": [{"key_id": "1", "file": "/s/b"}, {"key_id": "2", "env": "E"}]},
      {"name": "b", "kind": "shared_secret", "secrets": [{"key_id": "1", "file": "/s/a"}, {"key_id": "2", "file": "/s/b"}]}
    ],
    "default_profile": "a"})",
                                                         "c.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(SecretFiles(*c), (std::vector<std::string>{"/s/a", "/s/b"}));
  EXPECT_TRUE(SecretFiles(DefaultConfig()).empty());
}

}  // namespace
}  // namespace hookguard

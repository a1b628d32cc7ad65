#include "server/config/profile_set.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/config/config.h"
#include "server/config/fake_secret_source.h"

namespace hookguard {
namespace {

using v1::SIGNATURE_RESULT_MISMATCH;
using v1::SIGNATURE_RESULT_VALID;

// Compile, then ProfileSet::Build: what the server does with a config.
absl::StatusOr<std::shared_ptr<const ProfileSet>> Build(const config::v1::Config& config,
                                                        const SecretSource& secrets,
                                                        CompileOptions options = {}) {
  absl::StatusOr<ServerSpec> spec = Compile(config, secrets, options);
  if (!spec.ok()) return spec.status();
  return ProfileSet::Build(*std::move(spec));
}

// HMAC-SHA256 hex of kBody under "test-secret" and "old-secret"
// (openssl dgst -sha256 -hmac ...).
constexpr char kBody[] = R"({"message":{"type":"status-update","call":{"id":"call-1"}}})";
constexpr char kNewMac[] = "eccea06870b7458e545dd91dfed7c7b5c8aa88ac8aeda608fe7a2437cdf4d4cc";
constexpr char kOldMac[] = "ab5859cc6cc9a2f94bb8435270a429799be6abb2901682532fcfc5a1cc07d633";
const absl::Time kNow = absl::FromUnixSeconds(1700000000);

v1::HttpRequest Request(const std::string& header, const std::string& value) {
  v1::HttpRequest r;
  r.set_body(kBody);
  (*r.mutable_headers())[header] = value;
  return r;
}

config::v1::Config TwoProfiles() {
  absl::StatusOr<config::v1::Config> c = ParseConfigJson(R"({
    "profiles": [
      {"name": "vapi", "kind": "hmac",
       "secrets": [{"key_id": "2026-11", "env": "NEW"}, {"key_id": "2026-10", "file": "/run/old"}]},
      {"name": "legacy", "kind": "shared_secret", "secrets": [{"key_id": "a", "env": "LEGACY"}]}
    ],
    "default_profile": "vapi"})",
                                                         "test.json");
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

TEST(ProfileSet, FindsProfilesByNameAndTheDefaultByEmptyName) {
  const FakeSecretSource secrets(
      {{"NEW", "test-secret"}, {"/run/old", "old-secret"}, {"LEGACY", "shared"}});
  absl::StatusOr<std::shared_ptr<const ProfileSet>> set = Build(TwoProfiles(), secrets);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ((*set)->default_profile(), "vapi");
  EXPECT_EQ((*set)->names(), (std::vector<std::string>{"vapi", "legacy"}));
  EXPECT_EQ((*set)->Find(""), (*set)->Find("vapi"));
  EXPECT_NE((*set)->Find("legacy"), nullptr);
  EXPECT_NE((*set)->Find("legacy"), (*set)->Find("vapi"));
  EXPECT_EQ((*set)->Find("nope"), nullptr);
  EXPECT_EQ((*set)->Find("VAPI"), nullptr);  // names are exact

  const Verifier* vapi = (*set)->Find("");
  const VerifyOutcome by_new = vapi->Verify(Request("x-vapi-signature", kNewMac), kNow).value();
  EXPECT_EQ(by_new.result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ(by_new.key_id, "2026-11");
  const VerifyOutcome by_old = vapi->Verify(Request("x-vapi-signature", kOldMac), kNow).value();
  EXPECT_EQ(by_old.result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ(by_old.key_id, "2026-10");
  const VerifyOutcome legacy =
      (*set)->Find("legacy")->Verify(Request("x-vapi-secret", "shared"), kNow).value();
  EXPECT_EQ(legacy.result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ(legacy.key_id, "a");
}

TEST(ProfileSet, OnReloadAnUnreadableSecretFileIsLeftOutAndTheOthersKeepVerifying) {
  // /run/old was deleted: its secret must stop verifying, NEW keeps working.
  const FakeSecretSource secrets({{"NEW", "test-secret"}, {"LEGACY", "shared"}});
  absl::StatusOr<std::shared_ptr<const ProfileSet>> set =
      Build(TwoProfiles(), secrets, {/*drop_unreadable_secret_files=*/true});
  ASSERT_TRUE(set.ok()) << set.status();
  const Verifier* vapi = (*set)->Find("vapi");
  EXPECT_EQ(vapi->Verify(Request("x-vapi-signature", kNewMac), kNow)->result,
            SIGNATURE_RESULT_VALID);
  EXPECT_EQ(vapi->Verify(Request("x-vapi-signature", kOldMac), kNow)->result,
            SIGNATURE_RESULT_MISMATCH);
  ASSERT_EQ((*set)->missing_secrets().size(), 1u);
  const MissingSecret& missing = (*set)->missing_secrets()[0];
  EXPECT_EQ(missing.profile, "vapi");
  EXPECT_EQ(missing.key_id, "2026-10");
  EXPECT_EQ(missing.file, "/run/old");
  EXPECT_NE(missing.why.find("/run/old"), std::string::npos);
}

TEST(ProfileSet, OnReloadAProfileWithoutAnySecretLeftVerifiesNothing) {
  absl::StatusOr<config::v1::Config> c = ParseConfigJson(R"({"profiles": [
      {"name": "vapi", "kind": "hmac", "secrets": [{"key_id": "only", "file": "/run/only"}]}]})",
                                                         "test.json");
  ASSERT_TRUE(c.ok()) << c.status();
  const FakeSecretSource none({});
  absl::StatusOr<std::shared_ptr<const ProfileSet>> set =
      Build(*c, none, {/*drop_unreadable_secret_files=*/true});
  ASSERT_TRUE(set.ok()) << set.status();
  const VerifyOutcome out =
      (*set)->Find("vapi")->Verify(Request("x-vapi-signature", kNewMac), kNow).value();
  EXPECT_EQ(out.result, SIGNATURE_RESULT_MISMATCH);
  EXPECT_TRUE(out.key_id.empty());
  EXPECT_NE(out.detail.find("no secret"), std::string::npos) << out.detail;
  EXPECT_EQ((*set)->profiles_without_secret(), std::vector<std::string>{"vapi"});
  // At start the same files stop the server.
  EXPECT_FALSE(Build(*c, none).ok());
}

// Threat row 28: "{id}{timestamp}{body}" lets one MAC verify under several
// (id, timestamp) pairs; the start refuses it and names the profile.
TEST(ProfileSet, RefusesAdjacentPlaceholdersNamingTheProfile) {
  absl::StatusOr<config::v1::Config> c = ParseConfigJson(R"({"profiles": [
      {"name": "glued", "kind": "hmac", "signature_header": "x-sig", "timestamp_header": "x-ts",
       "message_id_header": "x-id", "payload_format": "{id}{timestamp}{body}",
       "secrets": [{"key_id": "k", "env": "NEW"}]}]})",
                                                         "test.json");
  ASSERT_TRUE(c.ok()) << c.status();
  const FakeSecretSource secrets(std::map<std::string, std::string>{{"NEW", "test-secret"}});
  absl::StatusOr<std::shared_ptr<const ProfileSet>> set = Build(*c, secrets);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("profile \"glued\""), absl::string_view::npos)
      << set.status();
  EXPECT_NE(set.status().message().find("adjacent placeholders"), absl::string_view::npos)
      << set.status();
}

TEST(ProfileSet, NeedsASpecCompiledWithItsSecrets) {
  absl::StatusOr<ServerSpec> spec = Compile(TwoProfiles());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(ProfileSet::Build(*std::move(spec)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ProfileSet, CarriesTheWarningsOfItsProfiles) {
  const FakeSecretSource secrets(
      {{"NEW", "test-secret"}, {"/run/old", "old-secret"}, {"LEGACY", "shared"}});
  absl::StatusOr<std::shared_ptr<const ProfileSet>> set = Build(TwoProfiles(), secrets);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ((*set)->warnings().size(), 2u);
  EXPECT_NE((*set)->warnings()[0].find("profile \"vapi\": no signed timestamp"), std::string::npos);
  EXPECT_NE((*set)->warnings()[1].find("profile \"legacy\": shared_secret"), std::string::npos);
}

TEST(ProfileSet, RefusesToRunOpenWithoutTheDefaultSecret) {
  unsetenv("VAPI_WEBHOOK_SECRET");
  absl::StatusOr<std::shared_ptr<const ProfileSet>> set =
      Build(DefaultConfig(), EnvAndFileSecretSource());
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("no webhook secret configured: set VAPI_WEBHOOK_SECRET"),
            absl::string_view::npos)
      << set.status();

  setenv("VAPI_WEBHOOK_SECRET", "test-secret", 1);
  set = Build(DefaultConfig(), EnvAndFileSecretSource());
  unsetenv("VAPI_WEBHOOK_SECRET");
  ASSERT_TRUE(set.ok()) << set.status();
  const VerifyOutcome out =
      (*set)->Find("")->Verify(Request("x-vapi-signature", kNewMac), kNow).value();
  EXPECT_EQ(out.result, SIGNATURE_RESULT_VALID);
  EXPECT_EQ(out.key_id, "env");
}

// Rotation without restart: the server rebuilds the set when a secret file
// changes; the new set verifies with the new secret, the old set (still held
// by requests in flight) keeps working with the old one.
TEST(ProfileSet, PicksUpARotatedSecretFileWhenRebuilt) {
  char dir_template[] = "/tmp/hookguard_profile_set_testXXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/secret";
  absl::StatusOr<config::v1::Config> c = ParseConfigJson(
      absl::StrCat(
          R"({"profiles": [{"name": "p", "kind": "hmac", "secrets": [{"key_id": "f", "file": ")",
          path, R"("}]}]})"),
      "rot.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(SecretFiles(*c), std::vector<std::string>{path});

  std::ofstream(path) << "old-secret\n";
  auto before = Build(*c, EnvAndFileSecretSource());
  ASSERT_TRUE(before.ok()) << before.status();
  std::ofstream(path, std::ios::trunc) << "test-secret\n";
  auto after = Build(*c, EnvAndFileSecretSource());
  ASSERT_TRUE(after.ok()) << after.status();

  EXPECT_EQ((*before)->Find("p")->Verify(Request("x-vapi-signature", kOldMac), kNow)->result,
            SIGNATURE_RESULT_VALID);
  EXPECT_EQ((*before)->Find("p")->Verify(Request("x-vapi-signature", kNewMac), kNow)->result,
            SIGNATURE_RESULT_MISMATCH);
  EXPECT_EQ((*after)->Find("p")->Verify(Request("x-vapi-signature", kNewMac), kNow)->result,
            SIGNATURE_RESULT_VALID);
  EXPECT_EQ((*after)->Find("p")->Verify(Request("x-vapi-signature", kOldMac), kNow)->result,
            SIGNATURE_RESULT_MISMATCH);
  std::remove(path.c_str());
  rmdir(dir_template);
}

TEST(ProfileSet, IsSafeToShareBetweenThreads) {
  const FakeSecretSource secrets(
      {{"NEW", "test-secret"}, {"/run/old", "old-secret"}, {"LEGACY", "shared"}});
  auto set = Build(TwoProfiles(), secrets);
  ASSERT_TRUE(set.ok());
  std::shared_ptr<const ProfileSet> shared = *set;
  std::vector<std::thread> threads;
  std::vector<int> valid(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const char* mac = (i % 2 == 0) ? kNewMac : kOldMac;
        if (shared->Find("")->Verify(Request("x-vapi-signature", mac), kNow)->result ==
            SIGNATURE_RESULT_VALID) {
          ++valid[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(valid[t], 500);
}

}  // namespace
}  // namespace hookguard

#include "server/service/profile_reloader.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

class ProfileReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/hookguard-reload-XXXXXX";
    dir_ = mkdtemp(dir_template);
    config_ = dir_ + "/config.json";
    secret_ = dir_ + "/secret";
    WriteFile(secret_, "first-secret\n");
    WriteFile(config_, absl::StrCat(R"({"profiles":[{"name":"vapi","kind":"shared_secret",)",
                                    R"("secrets":[{"key_id":"k1","file":")", secret_, R"("}]}]})"));
  }
  void TearDown() override {
    std::remove(config_.c_str());
    std::remove(secret_.c_str());
    rmdir(dir_.c_str());
  }

  static VerifyOutcome Check(const ProfileSet& set, const std::string& secret) {
    v1::HttpRequest request;
    (*request.mutable_headers())["x-vapi-secret"] = secret;
    return set.Find("")->Verify(request, absl::Now());
  }

  std::string dir_, config_, secret_;
  EnvAndFileSecretSource secrets_;
};

TEST_F(ProfileReloaderTest, UnchangedFilesGiveNothingNew) {
  ProfileReloader reloader(config_, secrets_);
  ASSERT_TRUE(reloader.Load().ok());
  auto next = reloader.ReloadIfChanged();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, nullptr);
}

TEST_F(ProfileReloaderTest, RewrittenSecretFileIsPickedUp) {
  ProfileReloader reloader(config_, secrets_);
  auto first = reloader.Load();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Check(**first, "first-secret").result, v1::SIGNATURE_RESULT_VALID);
  WriteFile(secret_, "second-secret\n");
  auto next = reloader.ReloadIfChanged();
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_NE(*next, nullptr);
  EXPECT_EQ(Check(**next, "second-secret").result, v1::SIGNATURE_RESULT_VALID);
  EXPECT_EQ(Check(**next, "first-secret").result, v1::SIGNATURE_RESULT_MISMATCH);
}

TEST_F(ProfileReloaderTest, BadNewConfigKeepsTheOldOneAndIsReportedOnce) {
  ProfileReloader reloader(config_, secrets_);
  ASSERT_TRUE(reloader.Load().ok());
  WriteFile(config_, R"({"profiles":[{"name":"vapi","kind":"shared_secret","secretz":[]}]})");
  auto bad = reloader.ReloadIfChanged();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("secretz"), std::string::npos) << bad.status();
  auto again = reloader.ReloadIfChanged();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, nullptr);
}

TEST_F(ProfileReloaderTest, EmptiedSecretFileIsAnErrorNotAnOpenProfile) {
  ProfileReloader reloader(config_, secrets_);
  ASSERT_TRUE(reloader.Load().ok());
  WriteFile(secret_, "");
  EXPECT_FALSE(reloader.ReloadIfChanged().ok());
}

}  // namespace
}  // namespace hookguard

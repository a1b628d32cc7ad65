#include "server/service/profile_reloader.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/decision/profile_holder.h"

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
    return set.Find("")->Verify(request, absl::Now()).value();
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

// Revoking a leaked secret: delete (or empty) its file. The next reload
// drops that secret and keeps the others; a profile left without any
// secret verifies nothing (never runs open).
TEST_F(ProfileReloaderTest, DeletedSecretFileStopsThatSecretAndKeepsTheOthers) {
  const std::string second = dir_ + "/second";
  WriteFile(second, "second-secret");
  WriteFile(config_, absl::StrCat(R"({"profiles":[{"name":"vapi","kind":"shared_secret",)",
                                  R"("secrets":[{"key_id":"k1","file":")", secret_, R"("},)",
                                  R"({"key_id":"k2","file":")", second, R"("}]}]})"));
  ProfileReloader reloader(config_, secrets_);
  auto first = reloader.Load();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(Check(**first, "first-secret").result, v1::SIGNATURE_RESULT_VALID);
  ASSERT_EQ(std::remove(secret_.c_str()), 0);
  auto next = reloader.ReloadIfChanged();
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_NE(*next, nullptr);
  EXPECT_EQ(Check(**next, "first-secret").result, v1::SIGNATURE_RESULT_MISMATCH);
  EXPECT_EQ(Check(**next, "second-secret").result, v1::SIGNATURE_RESULT_VALID);
  ASSERT_EQ((*next)->missing_secrets().size(), 1u);
  EXPECT_EQ((*next)->missing_secrets()[0].key_id, "k1");
  EXPECT_EQ((*next)->missing_secrets()[0].file, secret_);
  // The file comes back: so does its secret.
  WriteFile(secret_, "first-secret\n");
  auto back = reloader.ReloadIfChanged();
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_NE(*back, nullptr);
  EXPECT_EQ(Check(**back, "first-secret").result, v1::SIGNATURE_RESULT_VALID);
  EXPECT_TRUE((*back)->missing_secrets().empty());
  std::remove(second.c_str());
}

TEST_F(ProfileReloaderTest, EmptiedOnlySecretFileLeavesAProfileThatVerifiesNothing) {
  ProfileReloader reloader(config_, secrets_);
  ASSERT_TRUE(reloader.Load().ok());
  WriteFile(secret_, "");
  auto next = reloader.ReloadIfChanged();
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_NE(*next, nullptr);
  EXPECT_EQ(Check(**next, "first-secret").result, v1::SIGNATURE_RESULT_MISMATCH);
  EXPECT_EQ(Check(**next, "").result, v1::SIGNATURE_RESULT_MISMATCH);
  ASSERT_EQ((*next)->missing_secrets().size(), 1u);
  EXPECT_NE((*next)->missing_secrets()[0].why.find("empty"), std::string::npos);
}

// Reload atomicity: a reload that changes a secret and the resolution chain
// together gives one set holding both, swapped in with one Set: a request
// holding the old snapshot keeps the old secret and the old chain, the next
// one gets both new (WebhookAuthorizer reads the chain from the snapshot).
TEST_F(ProfileReloaderTest, ASecretAndChainChangeArriveAsOneSnapshot) {
  ProfileReloader reloader(config_, secrets_);
  auto first = reloader.Load();
  ASSERT_TRUE(first.ok()) << first.status();
  ProfileHolder holder(*first);
  const std::shared_ptr<const ProfileSet> in_flight = holder.Get();
  WriteFile(secret_, "second-secret\n");
  WriteFile(config_, absl::StrCat(R"({"profiles":[{"name":"vapi","kind":"shared_secret",)",
                                  R"("secrets":[{"key_id":"k1","file":")", secret_, R"("}]}],)",
                                  R"("ownership": {"resolve": [)",
                                  R"({"types": ["custom.*"], "by": ["assistant"]}]}})"));
  auto next = reloader.ReloadIfChanged();
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_NE(*next, nullptr);
  holder.Set(*next);
  EXPECT_EQ(Check(*in_flight, "first-secret").result, v1::SIGNATURE_RESULT_VALID);
  const std::vector<v1::OwnerSource> assistant = {v1::OWNER_SOURCE_ASSISTANT};
  ASSERT_NE(in_flight->spec().resolve.RuleFor("custom.created"), nullptr);
  EXPECT_NE(in_flight->spec().resolve.RuleFor("custom.created")->by, assistant);
  const std::shared_ptr<const ProfileSet> after = holder.Get();
  EXPECT_EQ(Check(*after, "second-secret").result, v1::SIGNATURE_RESULT_VALID);
  ASSERT_NE(after->spec().resolve.RuleFor("custom.created"), nullptr);
  EXPECT_EQ(after->spec().resolve.RuleFor("custom.created")->by, assistant);
}

// A reload applies what can change live (here ownership.resolve, which
// comes in force with the set, in its spec()) and refuses, naming the key, what only a
// restart applies (a lookup query): nothing of that configuration is applied.
TEST_F(ProfileReloaderTest, ALookupQueryChangeIsRefusedNamingTheKey) {
  const std::string profiles = absl::StrCat(
      R"({"profiles":[{"name":"vapi","kind":"shared_secret","secrets":[{"key_id":"k1","file":")",
      secret_, R"("}]}])");
  ProfileReloader reloader(config_, secrets_);
  ASSERT_TRUE(reloader.Load().ok());
  WriteFile(config_, absl::StrCat(profiles, R"(, "ownership": {"resolve": [)",
                                  R"({"types": ["chat.*"], "by": ["assistant"]}]}})"));
  auto resolve = reloader.ReloadIfChanged();
  ASSERT_TRUE(resolve.ok()) << resolve.status();
  ASSERT_NE(*resolve, nullptr);
  ASSERT_NE((*resolve)->spec().resolve.RuleFor("chat.created"), nullptr);
  EXPECT_EQ((*resolve)->spec().resolve.RuleFor("chat.created")->by,
            std::vector<v1::OwnerSource>{v1::OWNER_SOURCE_ASSISTANT});

  WriteFile(secret_, "second-secret\n");
  WriteFile(config_, absl::StrCat(profiles, R"(, "ownership": {"call_query": )",
                                  R"("SELECT a, b, c, d, e FROM calls WHERE id = :call_id"}})"));
  auto query = reloader.ReloadIfChanged();
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(query.status().message().find("ownership.call_query changed"), absl::string_view::npos)
      << query.status();
  EXPECT_NE(query.status().message().find("restart"), absl::string_view::npos);
  auto again = reloader.ReloadIfChanged();  // reported once
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, nullptr);
  // The query back as it was: the rotated secret goes in force.
  WriteFile(config_, profiles + "}");
  auto back = reloader.ReloadIfChanged();
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_NE(*back, nullptr);
  EXPECT_EQ(Check(**back, "second-secret").result, v1::SIGNATURE_RESULT_VALID);
}

}  // namespace
}  // namespace hookguard

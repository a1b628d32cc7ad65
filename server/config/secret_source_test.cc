#include "server/config/secret_source.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace hookguard {
namespace {

class SecretFileDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/hookguard_secret_testXXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override {
    for (const std::string& f : files_) std::remove(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    files_.push_back(path);
    return path;
  }
  static config::v1::Secret FileSecret(const std::string& path) {
    config::v1::Secret s;
    s.set_key_id("k");
    s.set_file(path);
    return s;
  }

  std::string dir_;
  std::vector<std::string> files_;
  EnvAndFileSecretSource source_;
};

TEST_F(SecretFileDir, StripsOneLineEnding) {
  struct Case {
    const char* content;
    const char* secret;
  };
  const Case cases[] = {
      {"abc", "abc"},       {"abc\n", "abc"}, {"abc\r\n", "abc"}, {"abc\n\n", "abc\n"},
      {" abc \n", " abc "}, {"a\nb", "a\nb"}, {"abc\r", "abc\r"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> read = source_.Read(FileSecret(Write("s", c.content)));
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, c.secret) << c.content;
  }
}

TEST_F(SecretFileDir, NamesTheFileNeverTheValue) {
  const std::string empty = Write("empty", "\n");
  const std::string huge =
      Write("huge", std::string(EnvAndFileSecretSource::kMaxSecretFileBytes + 1, 'x'));
  const std::string missing = dir_ + "/missing";
  for (const std::string& path : {empty, huge, missing, dir_}) {
    absl::StatusOr<std::string> read = source_.Read(FileSecret(path));
    ASSERT_FALSE(read.ok()) << path;
    EXPECT_NE(read.status().message().find(path), absl::string_view::npos) << read.status();
    EXPECT_EQ(read.status().message().find("xxxx"), absl::string_view::npos);
  }
  EXPECT_EQ(source_.Read(FileSecret(missing)).status().code(), absl::StatusCode::kNotFound);
}

// Threat row 29: a secret of whitespace only is as guessable as an empty
// one, and refused alike (at start, in --check_config, and on reload, where
// an unreadable file is left out).
TEST_F(SecretFileDir, RefusesWhitespaceOnlyFilesLikeEmptyOnes) {
  for (const char* blank : {"", "\n", "\n\n\n", "   ", " \t\r\n", "\r\n\r\n", "\f\v\n"}) {
    const std::string path = Write("blank", blank);
    absl::StatusOr<std::string> read = source_.Read(FileSecret(path));
    ASSERT_FALSE(read.ok()) << "content: \"" << blank << "\"";
    EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(read.status().message().find(path), absl::string_view::npos) << read.status();
  }
  EXPECT_TRUE(source_.Read(FileSecret(Write("s", " x \n"))).ok());  // not blank: kept as is
}

TEST(EnvAndFileSecretSource, RefusesWhitespaceOnlyVariablesLikeEmptyOnes) {
  EnvAndFileSecretSource source;
  config::v1::Secret s;
  s.set_key_id("k");
  s.set_env("HOOKGUARD_TEST_SECRET_BLANK");
  for (const char* blank : {"", " ", "    ", "\t", " \n", "\r\n"}) {
    setenv("HOOKGUARD_TEST_SECRET_BLANK", blank, 1);
    absl::StatusOr<std::string> read = source.Read(s);
    ASSERT_FALSE(read.ok()) << "value: \"" << blank << "\"";
    EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(read.status().message().find("HOOKGUARD_TEST_SECRET_BLANK"), absl::string_view::npos);
  }
  unsetenv("HOOKGUARD_TEST_SECRET_BLANK");
}

TEST(EnvAndFileSecretSource, ReadsEnvironmentVariables) {
  EnvAndFileSecretSource source;
  config::v1::Secret s;
  s.set_key_id("k");
  s.set_env("HOOKGUARD_TEST_SECRET_SET");
  setenv("HOOKGUARD_TEST_SECRET_SET", "v@lue\n", 1);
  absl::StatusOr<std::string> read = source.Read(s);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "v@lue");  // one line ending removed, as from files

  s.set_env("HOOKGUARD_TEST_SECRET_UNSET");
  unsetenv("HOOKGUARD_TEST_SECRET_UNSET");
  read = source.Read(s);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find("HOOKGUARD_TEST_SECRET_UNSET"), absl::string_view::npos);

  s.set_env("HOOKGUARD_TEST_SECRET_EMPTY");
  setenv("HOOKGUARD_TEST_SECRET_EMPTY", "", 1);
  read = source.Read(s);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("HOOKGUARD_TEST_SECRET_EMPTY"), absl::string_view::npos);
}

TEST(EnvAndFileSecretSource, WantsExactlyOneSource) {
  EnvAndFileSecretSource source;
  config::v1::Secret neither;
  neither.set_key_id("k");
  EXPECT_EQ(source.Read(neither).status().code(), absl::StatusCode::kInvalidArgument);
  config::v1::Secret both = neither;
  both.set_env("HOME");
  both.set_file("/etc/hostname");
  EXPECT_EQ(source.Read(both).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hookguard

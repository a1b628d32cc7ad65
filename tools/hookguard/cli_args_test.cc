#include "tools/hookguard/cli_args.h"

#include "gtest/gtest.h"

namespace hookguard::cli {
namespace {

TEST(CliArgs, AcceptsBothFlagForms) {
  auto args = CliArgs::Parse({"--target=h:1", "--profile", "vapi"}, {"target", "profile"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("target"), "h:1");
  EXPECT_EQ(args->Get("profile"), "vapi");
}

TEST(CliArgs, KeepsEveryValueOfARepeatedFlag) {
  auto args = CliArgs::Parse({"--header=a: 1", "--header", "b: 2"}, {"header"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->GetAll("header"), (std::vector<std::string>{"a: 1", "b: 2"}));
}

TEST(CliArgs, RejectsUnknownFlagsByName) {
  auto args = CliArgs::Parse({"--targte=x"}, {"target"});
  ASSERT_FALSE(args.ok());
  EXPECT_NE(std::string(args.status().message()).find("--targte"), std::string::npos);
}

TEST(CliArgs, RejectsAFlagWithoutValue) {
  EXPECT_FALSE(CliArgs::Parse({"--target"}, {"target"}).ok());
}

TEST(CliArgs, BooleanFlagsTakeNoValue) {
  auto args = CliArgs::Parse({"--insecure", "--target=x"}, {"target"}, {"insecure"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->Get("insecure"), "true");
  EXPECT_EQ(args->Get("target"), "x");
}

TEST(CliArgs, ValuesMayContainEqualsSigns) {
  auto args = CliArgs::Parse({"--db=postgresql://host=a port=1"}, {"db"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->Get("db"), "postgresql://host=a port=1");
}

}  // namespace
}  // namespace hookguard::cli

#include "server/audit/decision_id.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace hookguard {
namespace {

TEST(DecisionIdGenerator, IdsAreUniqueAcrossThreads) {
  DecisionIdGenerator ids;
  std::vector<std::vector<std::string>> made(4);
  std::vector<std::thread> threads;
  for (auto& out : made) {
    threads.emplace_back([&ids, &out] {
      for (int i = 0; i < 10000; ++i) out.push_back(ids.Next());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& out : made) all.insert(out.begin(), out.end());
  EXPECT_EQ(all.size(), 40000u);
}

TEST(DecisionIdGenerator, GeneratorsInDifferentProcessesDiffer) {
  // Two generators stand for two replicas: their random prefixes differ.
  DecisionIdGenerator a, b;
  EXPECT_NE(a.Next().substr(0, 16), b.Next().substr(0, 16));
}

TEST(DecisionIdGenerator, IdsAre32LowercaseHexDigits) {
  DecisionIdGenerator ids;
  const std::string id = ids.Next();
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
}

TEST(DecisionIdGenerator, PrefixThenCounterInHex) {
  DecisionIdGenerator ids;
  std::string last;
  for (int i = 0; i < 300; ++i) last = ids.Next();
  const std::string first = DecisionIdGenerator().Next();
  EXPECT_EQ(first.substr(16), "0000000000000000");
  EXPECT_EQ(last.substr(16), "000000000000012b");  // the 300th id: counter 299
  EXPECT_NE(last.substr(0, 16), "0000000000000000");
}

}  // namespace
}  // namespace hookguard

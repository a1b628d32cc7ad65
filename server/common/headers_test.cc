#include "server/common/headers.h"

#include "gtest/gtest.h"

namespace hookguard {
namespace {

using State = HeaderLookup::State;

TEST(FindHeader, MatchesNamesIgnoringCase) {
  google::protobuf::Map<std::string, std::string> headers;
  headers["X-Vapi-Signature"] = "abc";
  HeaderLookup found = FindHeader(headers, "x-vapi-signature");
  EXPECT_EQ(found.state, State::kFound);
  EXPECT_EQ(found.value, "abc");
}

TEST(FindHeader, ReportsAbsentHeader) {
  google::protobuf::Map<std::string, std::string> headers;
  headers["x-other"] = "abc";
  EXPECT_EQ(FindHeader(headers, "x-vapi-signature").state, State::kAbsent);
}

TEST(FindHeader, ReportsDuplicateNamesDifferingInCaseAsAmbiguous) {
  google::protobuf::Map<std::string, std::string> headers;
  headers["x-vapi-signature"] = "good";
  headers["X-VAPI-SIGNATURE"] = "evil";
  HeaderLookup found = FindHeader(headers, "X-Vapi-Signature");
  EXPECT_EQ(found.state, State::kAmbiguous);
  EXPECT_TRUE(found.value.empty());
}

TEST(FindHeader, DoesNotMatchPrefixes) {
  google::protobuf::Map<std::string, std::string> headers;
  headers["x-vapi-signature-extra"] = "abc";
  EXPECT_EQ(FindHeader(headers, "x-vapi-signature").state, State::kAbsent);
}

}  // namespace
}  // namespace hookguard

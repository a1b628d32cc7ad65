#include "server/payload/subject_source.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/payload/call_event_parser.h"

namespace hookguard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseSubjectSource, ReadsPointersAndFormFields) {
  const struct {
    const char* from;
    SubjectSource::Kind kind;
    std::vector<std::string> tokens;
    std::string field;
  } cases[] = {
      {"/account", SubjectSource::Kind::kJsonPointer, {"account"}, ""},
      {"/installation/id", SubjectSource::Kind::kJsonPointer, {"installation", "id"}, ""},
      {"/a~1b/c~0d", SubjectSource::Kind::kJsonPointer, {"a/b", "c~d"}, ""},
      {"/~01", SubjectSource::Kind::kJsonPointer, {"~1"}, ""},  // RFC 6901: ~0 first, never ~1
      {"form:AccountSid", SubjectSource::Kind::kFormField, {}, "AccountSid"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<SubjectSource> source = ParseSubjectSource(c.from);
    ASSERT_TRUE(source.ok()) << c.from << ": " << source.status();
    EXPECT_EQ(source->kind, c.kind) << c.from;
    EXPECT_EQ(source->tokens, c.tokens) << c.from;
    EXPECT_EQ(source->field, c.field) << c.from;
    EXPECT_EQ(source->text, c.from);
  }
}

TEST(ParseSubjectSource, RefusesHeadersWithTheReason) {
  for (const char* from : {"header:X-Shopify-Shop-Domain", "HEADER:x-tenant"}) {
    absl::StatusOr<SubjectSource> source = ParseSubjectSource(from);
    ASSERT_FALSE(source.ok()) << from;
    EXPECT_THAT(std::string(source.status().message()), HasSubstr("no supported signature scheme"));
    EXPECT_THAT(std::string(source.status().message()), HasSubstr("X-Shopify-Shop-Domain"));
  }
}

TEST(ParseSubjectSource, RefusesWhatIsNoMemberPointer) {
  for (const char* from :
       {"", "/", "account", "/a//b", "/a/", "/a~2", "/a~", "form:", "$.account"}) {
    EXPECT_FALSE(ParseSubjectSource(from).ok()) << "accepted: '" << from << "'";
  }
}

std::vector<SubjectSource> Sources(std::vector<const char*> froms) {
  std::vector<SubjectSource> out;
  for (const char* from : froms) out.push_back(*ParseSubjectSource(from));
  return out;
}

using Ids = std::vector<std::optional<std::string>>;

TEST(ReadSubjects, ReadsStringsAndIntegersOfRealShapes) {
  const struct {
    const char* name;
    std::string body;
    std::vector<const char*> from;
    Ids want;
  } cases[] = {
      {"stripe connect",
       R"({"id":"evt_1","object":"event","account":"acct_1","data":{}})",
       {"/account"},
       {"acct_1"}},
      {"stripe platform event (no account)",
       R"({"id":"evt_1","object":"event"})",
       {"/account"},
       {std::nullopt}},
      {"github installation id (number)",
       R"({"action":"created","installation":{"id":12345678,"account":{"login":"o"}}})",
       {"/installation/id"},
       {"12345678"}},
      {"slack team",
       R"({"type":"event_callback","team_id":"T1","event":{"type":"message"}})",
       {"/team_id"},
       {"T1"}},
      {"two subjects share a prefix",
       R"({"call":{"agent_id":"ag_1","call_id":"c1"}})",
       {"/call/agent_id", "/call/call_id"},
       {"ag_1", "c1"}},
      {"empty string is absent", R"({"account":""})", {"/account"}, {std::nullopt}},
      {"null is absent", R"({"account":null})", {"/account"}, {std::nullopt}},
      {"null object on the way is absent", R"({"data":null})", {"/data/agent_id"}, {std::nullopt}},
      {"escaped key", R"({"a/b":{"c~d":"x"}})", {"/a~1b/c~0d"}, {"x"}},
      {"zero", R"({"n":0})", {"/n"}, {"0"}},
      {"2^53-1", R"({"n":9007199254740991})", {"/n"}, {"9007199254740991"}},
      {"unicode escapes unescaped", R"({"account":"acct_\u0031"})", {"/account"}, {"acct_1"}},
  };
  for (const auto& c : cases) {
    absl::StatusOr<Ids> ids = ReadSubjects(c.body, Sources(c.from));
    ASSERT_TRUE(ids.ok()) << c.name << ": " << ids.status();
    EXPECT_EQ(*ids, c.want) << c.name;
  }
}

TEST(ReadSubjects, DeniesStrictlyAlongThePointer) {
  const struct {
    const char* name;
    std::string body;
    const char* from;
    const char* why;
  } cases[] = {
      {"duplicate key", R"({"account":"acct_a","account":"acct_b"})", "/account", "duplicate"},
      {"duplicate key, escaped", R"({"account":"acct_a","\u0061ccount":"acct_b"})", "/account",
       "duplicate"},
      {"case variant", R"({"account":"acct_a","Account":"acct_b"})", "/account", "case"},
      {"case variant on the way", R"({"installation":{"id":1},"Installation":{"id":2}})",
       "/installation/id", "case"},
      {"duplicate inside", R"({"installation":{"id":1,"id":2}})", "/installation/id", "duplicate"},
      {"kelvin sign variant", "{\"team_id\":\"T1\",\"team_\xE2\x84\xAA\":1,\"team_Id\":\"T2\"}",
       "/team_id", "case"},
      {"float", R"({"installation":{"id":1.5}})", "/installation/id", "integer"},
      {"integral float", R"({"installation":{"id":1.0}})", "/installation/id", "integer"},
      {"exponent", R"({"installation":{"id":1e3}})", "/installation/id", "integer"},
      {"negative", R"({"installation":{"id":-1}})", "/installation/id", "integer"},
      {"beyond 2^53", R"({"installation":{"id":9007199254740993}})", "/installation/id", "integer"},
      {"bool", R"({"account":true})", "/account", "neither a string nor an integer"},
      {"object", R"({"account":{"id":"acct_1"}})", "/account", "neither a string nor an integer"},
      {"array", R"({"account":["acct_1"]})", "/account", "neither a string nor an integer"},
      {"not an object on the way", R"({"installation":5})", "/installation/id", "not an object"},
      {"array on the way", R"({"installation":[{"id":1}]})", "/installation/id", "not an object"},
      {"control character", "{\"account\":\"acct\\u0000x\"}", "/account", "control character"},
      {"not JSON", "account=acct_1", "/account", "not valid JSON"},
      {"root not an object", R"(["acct_1"])", "/account", "root is not an object"},
      {"trailing bytes", R"({"account":"acct_1"} {"account":"acct_2"})", "/account", "trailing"},
      {"invalid elsewhere", R"({"account":"acct_1","x":[1,]})", "/account", "not valid JSON"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<Ids> ids = ReadSubjects(c.body, Sources({c.from}));
    ASSERT_FALSE(ids.ok()) << c.name;
    EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(std::string(ids.status().message()), HasSubstr(c.why)) << c.name;
    EXPECT_THAT(std::string(ids.status().message()), HasSubstr("malformed event")) << c.name;
  }
}

TEST(ReadSubjects, ReadsFormFieldsStrictly) {
  const std::string body = "AccountSid=AC123&CallSid=CA1&To=%2B15005550006";
  absl::StatusOr<Ids> ids = ReadSubjects(body, Sources({"form:AccountSid", "form:To"}));
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre("AC123", "+15005550006"));
  EXPECT_THAT(*ReadSubjects("CallSid=CA1", Sources({"form:AccountSid"})),
              ElementsAre(std::nullopt));
  for (const char* bad : {"AccountSid=AC1&AccountSid=AC2", "AccountSid=%zz", "AccountSid=AC1&&"}) {
    absl::StatusOr<Ids> read = ReadSubjects(bad, Sources({"form:AccountSid"}));
    ASSERT_FALSE(read.ok()) << bad;
    EXPECT_THAT(std::string(read.status().message()), HasSubstr("malformed event")) << bad;
  }
}

TEST(ReadJsonPointers, LeavesTheVapiParserUnchanged) {
  // The parser shares the document machinery; its answers stay the same.
  absl::StatusOr<v1::CallEvent> event =
      ParseCallEvent(R"({"message":{"type":"status-update","call":{"id":"c1"}}})");
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->call_id(), "c1");
  EXPECT_FALSE(ParseCallEvent(R"({"message":{"call":{"id":"c1"}}} x)").ok());
}

}  // namespace
}  // namespace hookguard

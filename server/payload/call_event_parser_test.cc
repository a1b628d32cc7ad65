#include "server/payload/call_event_parser.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hookguard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Expected {
  std::string type;
  std::string call_id;
  std::string assistant_id;
  std::string phone_number_id;
  std::string org_id;
};

void ExpectParses(const std::string& body, const Expected& want) {
  absl::StatusOr<v1::CallEvent> event = ParseCallEvent(body);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->type(), want.type);
  EXPECT_EQ(event->call_id(), want.call_id);
  EXPECT_EQ(event->assistant_id(), want.assistant_id);
  EXPECT_EQ(event->phone_number_id(), want.phone_number_id);
  EXPECT_EQ(event->org_id(), want.org_id);
}

// Every malformed body is InvalidArgument, and the message never quotes it.
void ExpectMalformed(const std::string& body, const std::string& why_fragment) {
  absl::StatusOr<v1::CallEvent> event = ParseCallEvent(body);
  ASSERT_FALSE(event.ok()) << "accepted: " << body.substr(0, 200);
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument) << event.status();
  EXPECT_THAT(std::string(event.status().message()), HasSubstr(why_fragment))
      << body.substr(0, 200);
  EXPECT_THAT(std::string(event.status().message()), Not(HasSubstr("SECRET")));
}

TEST(CallEventParser, ReadsVapiShape) {
  ExpectParses(R"({"message": {"type": "status-update", "status": "in-progress",
      "call": {"id": "call_1", "assistantId": "asst_1", "phoneNumberId": "pn_1",
               "orgId": "org_1", "type": "inboundPhoneCall", "cost": 0.1},
      "phoneNumber": {"id": "pn_1", "twilioAuthToken": "SECRET"}}})",
               {"status-update", "call_1", "asst_1", "pn_1", "org_1"});
}

TEST(CallEventParser, ReadsFlatShape) {
  ExpectParses(R"({"type": "end-of-call-report", "call": {"id": "call_2", "assistantId": "a"}})",
               {"end-of-call-report", "call_2", "a", "", ""});
}

TEST(CallEventParser, UsesRootWhenMessageIsNull) {
  ExpectParses(R"({"message": null, "call": {"id": "c"}})", {"", "c", "", "", ""});
}

// Go's encoding/json reads a non-object message as an empty event where we
// would read the flat one: neither shape wins.
TEST(CallEventParser, RejectsAMessageThatIsNotAnObjectBesideFlatFields) {
  ExpectMalformed(R"({"message": "hello", "call": {"id": "c"}})", "both a message and flat");
  ExpectMalformed(R"({"message": [{"call": {"id": "b"}}], "call": {"id": "a"}})",
                  "both a message and flat");
  ExpectMalformed(R"({"message": 5})", "no call object");
}

TEST(CallEventParser, ReadsMessageObjectBesideUnreadRootFields) {
  ExpectParses(R"({"timestamp": 1, "message": {"call": {"id": "inner"}}})",
               {"", "inner", "", "", ""});
}

// A body in both shapes would be read as the flat one by a reader that
// prefers it: neither may win silently.
TEST(CallEventParser, RejectsBothShapesInOneBody) {
  for (const char* body : {
           R"({"call": {"id": "root"}, "message": {"call": {"id": "inner"}}})",
           R"({"message": {"call": {"id": "inner"}}, "call": {"id": "root"}})",
           R"({"message": {"call": {"id": "c"}}, "phoneNumber": {"id": "p"}})",
           R"({"message": {"call": {"id": "c"}}, "type": "status-update"})",
           R"({"message": {"chat": {"assistantId": "a"}}, "chat": {"assistantId": "b"}})",
       }) {
    SCOPED_TRACE(body);
    ExpectMalformed(body, "both a message and flat event fields");
  }
}

// Go's encoding/json matches keys without case: "Call" would be read as the
// call where we read "call".
TEST(CallEventParser, RejectsKeysThatDifferFromReadKeysOnlyInCase) {
  const std::vector<std::string> bodies = {
      R"({"message":{"call":{"id":"call_alice_1"},"Call":{"id":"call_bob_1"}}})",
      R"({"message":{"Call":{"id":"call_bob_1"},"call":{"id":"call_alice_1"}}})",
      R"({"message":{"call":{"id":"a"}},"Message":{"call":{"id":"b"}}})",
      R"({"message":{"call":{"id":"a","ID":"b"}}})",
      R"({"message":{"call":{"id":"a","Id":"b"}}})",
      R"({"message":{"call":{"id":"a","assistantId":"x","ASSISTANTID":"y"}}})",
      R"({"message":{"call":{"id":"a","phoneNumberID":"y"}}})",
      R"({"message":{"call":{"id":"a","orgid":"y"}}})",
      R"({"message":{"call":{"id":"a"},"PhoneNumber":{"id":"p"}}})",
      R"({"message":{"call":{"id":"a"},"phoneNumber":{"id":"p","iD":"q"}}})",
      R"({"message":{"call":{"id":"a"},"Type":"x"}})",
      R"({"message":{"chat":{"assistantId":"a"},"Chat":{"assistantId":"b"}}})",
      R"({"message":{"session":{"assistantId":"a","AssistantId":"b"}}})",
      R"({"CALL":{"id":"b"},"call":{"id":"a"}})",
      // Escaped: "\u0043all" is "Call".
      R"({"message":{"call":{"id":"a"},"\u0043all":{"id":"b"}}})",
      // Unicode folding: the long s U+017F folds to 's', the Kelvin sign
      // U+212A to 'k'.
      "{\"message\":{\"call\":{\"id\":\"a\",\"a\xC5\xBF\xC5\xBF"
      "istantId\":\"b\"}}}",
      "{\"message\":{\"call\":{\"id\":\"a\"},\"type\":\"x\",\"\xC5\xBF"
      "ession\":{}}}",
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    ExpectMalformed(body, "differs only in case");
  }
}

TEST(CallEventParser, AcceptsCaseVariantsOfKeysItDoesNotRead) {
  ExpectParses(R"({"message":{"call":{"id":"c","Status":"x","status":"y"},"Artifact":{},
      "artifact":{"Call":{"id":"other"}}}})",
               {"", "c", "", "", ""});
}

// Numbers hookguard never reads may be of any size (issue: a real report
// with a huge number was lost as "not valid JSON").
TEST(CallEventParser, AcceptsHugeNumbersInFieldsItDoesNotRead) {
  ExpectParses(R"({"message":{"call":{"id":"c","cost":1e400},"durationMs":18446744073709551616,
      "x":[-1E-400, 123456789012345678901234567890.5e+999, 0, -0.0]}})",
               {"", "c", "", "", ""});
}

TEST(CallEventParser, ReadsChatAndSessionEvents) {
  ExpectParses(R"({"message":{"type":"chat.created","timestamp":1,
      "chat":{"id":"chat_1","orgId":"org_1","assistantId":"asst_1","messages":[]}}})",
               {"chat.created", "", "asst_1", "", "org_1"});
  ExpectParses(R"({"message":{"type":"session.updated",
      "session":{"id":"s_1","assistantId":"asst_2","orgId":null}}})",
               {"session.updated", "", "asst_2", "", ""});
  // With a call, the call decides; a chat naming the same assistant agrees.
  ExpectParses(R"({"message":{"type":"x","call":{"id":"c","assistantId":"a"},
      "chat":{"assistantId":"a"}}})",
               {"x", "c", "a", "", ""});
}

TEST(CallEventParser, ReadsPhoneNumbersOfSessionsAndANullCall) {
  ExpectParses(R"({"message":{"type":"chat.created","call":null,"chat":{"assistantId":"a"}}})",
               {"chat.created", "", "a", "", ""});
  ExpectParses(R"({"message":{"type":"session.created",
      "session":{"id":"s","assistantId":"a","phoneNumberId":"p"}}})",
               {"session.created", "", "a", "p", ""});
  ExpectMalformed(R"({"message":{"session":{"assistantId":"a","phoneNumberId":"p"},
      "phoneNumber":{"id":"q"}}})",
                  "differs from another phone number id");
}

TEST(CallEventParser, RejectsDisagreeingOrEmptyChatAndSession) {
  ExpectMalformed(R"({"message":{"call":{"id":"c","assistantId":"a"},"chat":{"assistantId":"b"}}})",
                  "chat.assistantId differs");
  ExpectMalformed(R"({"message":{"chat":{"assistantId":"a"},"session":{"assistantId":"b"}}})",
                  "session.assistantId differs");
  ExpectMalformed(R"({"message":{"type":"chat.deleted","chat":{"id":"chat_1"}}})",
                  "no call.id and no assistantId");
  ExpectMalformed(R"({"message":{"chat":{"assistantId":7}}})", "chat.assistantId is not a string");
  ExpectMalformed(R"({"message":{"chat":"x"}})", "chat is not an object");
  ExpectMalformed(R"({"message":{"chat":{"assistantId":"a","assistantId":"b"}}})", "duplicate key");
}

TEST(CallEventParser, TakesPhoneNumberFromPhoneNumberObjectWhenCallHasNone) {
  ExpectParses(R"({"message": {"call": {"id": "c"}, "phoneNumber": {"id": "pn_9"}}})",
               {"", "c", "", "pn_9", ""});
  ExpectParses(
      R"({"message": {"call": {"id": "c", "phoneNumberId": null}, "phoneNumber": {"id": "pn_9"}}})",
      {"", "c", "", "pn_9", ""});
}

TEST(CallEventParser, NullOptionalIdsAreAbsent) {
  ExpectParses(R"({"call": {"id": "c", "assistantId": null, "phoneNumberId": null, "orgId": null},
                   "phoneNumber": null, "type": null})",
               {"", "c", "", "", ""});
}

TEST(CallEventParser, UnescapesAndKeepsUnicodeIds) {
  ExpectParses(R"({"call": {"id": "caf\u00e9-\ud83d\ude00", "assistantId": "été"}})",
               {"", "café-\xF0\x9F\x98\x80", "été", "", ""});
}

TEST(CallEventParser, AcceptsIdOfExactlyTheLimit) {
  std::string id(kMaxIdBytes, 'x');
  ExpectParses(absl::StrCat(R"({"call": {"id": ")", id, R"("}})"), {"", id, "", "", ""});
}

TEST(CallEventParser, IgnoresUnknownFieldsOfEveryType) {
  ExpectParses(
      R"({"message": {"a": [1, 2.5e3, -0, true, false, null, {"b": [[]]}], "call": {"id": "c",
      "x": {"id": "not the call id"}}, "z": "\"\\\/\b\f\n\r\t\u0000"}})",
      {"", "c", "", "", ""});
}

TEST(CallEventParser, RejectsDifferentPhoneNumberIds) {
  ExpectMalformed(R"({"call": {"id": "c", "phoneNumberId": "a"}, "phoneNumber": {"id": "b"}})",
                  "differ");
}

struct MalformedCase {
  std::string name;
  std::string body;
  std::string why;
};

TEST(CallEventParser, RejectsMalformedBodies) {
  const std::string long_id(kMaxIdBytes + 1, 'x');
  const std::vector<MalformedCase> cases = {
      {"empty", "", "empty"},
      {"not json", "SECRET hello", "not valid JSON"},
      {"truncated", R"({"call": {"id": "c")", "JSON"},
      {"root array", R"([{"call": {"id": "c"}}])", "root is not an object"},
      {"root string", R"("call")", "root is not an object"},
      {"no call", R"({"message": {"type": "x"}})", "no call object"},
      {"chat null and no call", R"({"message": {"chat": null}})", "no call object"},
      {"call is a number (threat row 4)", R"({"call": 5})", "call is not an object"},
      {"call is null", R"({"call": null})", "no call object"},
      {"call is a string", R"({"message": {"call": "c"}})", "call is not an object"},
      {"call is an array", R"({"call": [{"id": "c"}]})", "call is not an object"},
      {"no call id", R"({"call": {"assistantId": "a"}})", "no call.id"},
      {"empty call id", R"({"call": {"id": ""}})", "no call.id"},
      {"null call id", R"({"call": {"id": null}})", "no call.id"},
      {"numeric call id", R"({"call": {"id": 42}})", "call.id is not a string"},
      {"object call id", R"({"call": {"id": {"x": 1}}})", "call.id is not a string"},
      {"numeric assistant id", R"({"call": {"id": "c", "assistantId": 7}})",
       "call.assistantId is not a string"},
      {"bool phone id", R"({"call": {"id": "c", "phoneNumberId": true}})",
       "call.phoneNumberId is not a string"},
      {"array org id", R"({"call": {"id": "c", "orgId": []}})", "call.orgId is not a string"},
      {"numeric phoneNumber.id", R"({"call": {"id": "c"}, "phoneNumber": {"id": 1}})",
       "phoneNumber.id is not a string"},
      {"phoneNumber a string", R"({"call": {"id": "c"}, "phoneNumber": "p"})",
       "phoneNumber is not an object"},
      {"numeric type", R"({"type": 3, "call": {"id": "c"}})", "type is not a string"},
      {"bad root call beside message", R"({"call": 5, "message": {"call": {"id": "c"}}})",
       "call is not an object"},
      {"call id too long", absl::StrCat(R"({"call": {"id": ")", long_id, R"("}})"), "longer than"},
      {"assistant id too long",
       absl::StrCat(R"({"call": {"id": "c", "assistantId": ")", long_id, R"("}})"), "longer than"},
      {"escaped NUL in call id", R"({"call": {"id": "call_1\u0000x"}})", "control character"},
      {"escaped newline in id", R"({"call": {"id": "c", "assistantId": "a\nb"}})",
       "control character"},
      {"trailing garbage", R"({"call": {"id": "c"}} x)", "JSON"},
      {"two documents", R"({"call": {"id": "c"}} {"call": {"id": "d"}})", "JSON"},
      {"trailing comma", R"({"call": {"id": "c"},})", "JSON"},
      {"bad literal in skipped value", R"({"call": {"id": "c"}, "x": tru})", "JSON"},
      {"bad number in skipped value", R"({"call": {"id": "c"}, "x": 01})", "JSON"},
      {"bare minus", R"({"call": {"id": "c"}, "x": -})", "JSON"},
      {"dot without digits", R"({"call": {"id": "c"}, "x": 1.})", "JSON"},
      {"exponent without digits", R"({"call": {"id": "c"}, "x": 1e+})", "JSON"},
      {"leading plus", R"({"call": {"id": "c"}, "x": +1})", "JSON"},
      {"number glued to a word", R"({"call": {"id": "c"}, "x": 12abc})", "JSON"},
      {"unbalanced skipped value", R"({"call": {"id": "c", "x": [}, "id": "d"}})", "JSON"},
      {"bad escape in skipped string", R"({"call": {"id": "c"}, "x": "\q"})", "JSON"},
      {"lone surrogate", R"({"call": {"id": "c"}, "x": "\ud800"})", "JSON"},
      {"single quotes", R"({'call': {'id': 'c'}})", "JSON"},
      {"duplicate call", R"({"call":{"id":"A"},"call":{"id":"B"}})", "duplicate key"},
      {"duplicate id in call", R"({"call":{"id":"A","id":"B"}})", "duplicate key"},
      {"duplicate message", R"({"message":{"call":{"id":"A"}},"message":{"call":{"id":"B"}}})",
       "duplicate key"},
      {"duplicate escaped call", R"({"call":{"id":"A"},"c\u0061ll":{"id":"B"}})", "duplicate key"},
      {"duplicate escaped id", R"({"message":{"call":{"id":"A","\u0069d":"B"}}})", "duplicate key"},
      {"duplicate escaped message",
       R"({"message":{"call":{"id":"A"}},"m\u0065ssage":{"call":{"id":"B"}}})", "duplicate key"},
      {"duplicate phoneNumber id", R"({"call":{"id":"A"},"phoneNumber":{"id":"p","\u0069d":"q"}})",
       "duplicate key"},
      {"duplicate assistantId", R"({"call":{"id":"A","assistantId":"x","assistantId":"y"}})",
       "duplicate key"},
      {"duplicate type", R"({"type":"a","type":"b","call":{"id":"A"}})", "duplicate key"},
  };
  for (const MalformedCase& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectMalformed(c.body, c.why);
  }
}

TEST(CallEventParser, RejectsInvalidUtf8) {
  ExpectMalformed("{\"call\": {\"id\": \"c\xC3\x28\"}}", "UTF-8");
  ExpectMalformed("{\"call\": {\"id\": \"c\"}, \"x\": \"\xFF\"}", "UTF-8");
  ExpectMalformed("{\"call\": {\"id\": \"c\"}, \"x\": \"\xED\xA0\x80\"}", "UTF-8");  // surrogate
}

TEST(CallEventParser, RejectsRawNulBytesInsideAndOutsideStrings) {
  ExpectMalformed(std::string("{\"call\": {\"id\": \"c\0d\"}}", 22), "");
  ExpectMalformed(std::string("{\"call\": {\"id\": \"c\"}}\0", 22), "");
  ExpectMalformed(std::string("{\"call\": \0{\"id\": \"c\"}}", 22), "");
  ExpectMalformed(std::string("{\"call\": {\"id\": \"c\"}, \"x\": \"a\0\"}", 31), "");
}

TEST(CallEventParser, RejectsDeepNestingWithoutCrashing) {
  for (const std::string& open : {std::string("["), std::string("{\"a\":")}) {
    SCOPED_TRACE(open);
    std::string body = R"({"call": {"id": "c"}, "deep": )";
    const int levels = 100000;
    for (int i = 0; i < levels; ++i) body += open;
    body += "1";
    for (int i = 0; i < levels; ++i) body += open == "[" ? "]" : "}";
    body += "}";
    ExpectMalformed(body, "nested deeper than");
  }
  std::string root_array(100000, '[');
  root_array += std::string(100000, ']');
  ExpectMalformed(root_array, "root is not an object");
}

TEST(CallEventParser, AcceptsNestingUpToTheLimit) {
  // The root is depth 1; the value of "deep" adds kMaxJsonDepth - 1 levels.
  std::string body = R"({"call": {"id": "c"}, "deep": )";
  for (int i = 0; i < kMaxJsonDepth - 1; ++i) body += "[";
  for (int i = 0; i < kMaxJsonDepth - 1; ++i) body += "]";
  body += "}";
  ExpectParses(body, {"", "c", "", "", ""});
  body.insert(body.find("["), "[");
  body.insert(body.rfind("]"), "]");
  ExpectMalformed(body, "nested deeper than");
}

// An end-of-call report of about 500 KB: transcript, messages, analysis.
std::string EndOfCallReport(size_t min_bytes) {
  std::string transcript;
  std::string messages;
  for (int turn = 0; transcript.size() < min_bytes / 2; ++turn) {
    std::string line = absl::StrCat(
        turn % 2 ? "AI: " : "User: ", "Bonjour, je voudrais r\\u00e9server \\\"une table\\\" pour ",
        turn, " personnes \xE2\x80\x94 merci.");
    absl::StrAppend(&transcript, line, "\\n");
    absl::StrAppend(&messages, turn ? "," : "", R"({"role": ")", turn % 2 ? "bot" : "user",
                    R"(", "message": ")", line, R"(", "time": )", 1700000000000 + turn,
                    R"(, "secondsFromStart": )", turn * 1.5, "}");
  }
  return absl::StrCat(
      R"({"message": {"timestamp": 1700000000000, "type": "end-of-call-report", "endedReason": "hangup",)",
      R"("artifact": {"transcript": ")", transcript, R"(", "messages": [)", messages, "]},",
      R"("analysis": {"summary": "ok", "successEvaluation": "true"},)",
      R"("phoneNumber": {"id": "pn_eoc", "twilioAuthToken": "SECRET", "number": "+15550100"},)",
      R"("call": {"id": "call_eoc", "orgId": "org_eoc", "assistantId": "asst_eoc",)",
      R"("type": "inboundPhoneCall", "status": "ended", "cost": 0.42}}})");
}

TEST(CallEventParser, ReadsLargeEndOfCallReport) {
  const std::string body = EndOfCallReport(500 * 1024);
  ASSERT_GE(body.size(), 500u * 1024);
  ExpectParses(body, {"end-of-call-report", "call_eoc", "asst_eoc", "pn_eoc", "org_eoc"});
  // The same body cut anywhere in the middle is malformed.
  ExpectMalformed(body.substr(0, body.size() / 2), "JSON");
}

TEST(CallEventParser, ReusesThreadParserAcrossSizes) {
  const std::string large = EndOfCallReport(300 * 1024);
  ExpectParses(large, {"end-of-call-report", "call_eoc", "asst_eoc", "pn_eoc", "org_eoc"});
  ExpectParses(R"({"call": {"id": "small"}})", {"", "small", "", "", ""});
  ExpectMalformed(R"({"call": {})", "JSON");
  ExpectParses(large, {"end-of-call-report", "call_eoc", "asst_eoc", "pn_eoc", "org_eoc"});
}

}  // namespace
}  // namespace hookguard

#include "server/config/server_spec.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/config/config.h"
#include "server/config/fake_secret_source.h"

namespace hookguard {
namespace {

// Writes `json` to a file named c.json in a fresh directory and loads it
// without secrets, as `hookguard audit-db` does.
absl::StatusOr<ServerSpec> LoadJson(const std::string& json) {
  char dir[] = "/tmp/hookguard_server_spec_testXXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/c.json";
  std::ofstream(path) << json;
  absl::StatusOr<ServerSpec> spec = LoadServerSpec(path, nullptr);
  std::remove(path.c_str());
  rmdir(dir);
  return spec;
}

config::v1::Config Parsed(const std::string& json) {
  absl::StatusOr<config::v1::Config> config = ParseConfigJson(json, "test.json");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : config::v1::Config();
}

// Two profiles: vapi (hmac, one env secret and one file), legacy
// (shared_secret).
config::v1::Config TwoProfiles() {
  return Parsed(R"({
    "profiles": [
      {"name": "vapi", "kind": "hmac",
       "secrets": [{"key_id": "2026-11", "env": "NEW"}, {"key_id": "2026-10", "file": "/run/old"}]},
      {"name": "legacy", "kind": "shared_secret", "mode": "shadow",
       "secrets": [{"key_id": "a", "env": "LEGACY"}]}
    ],
    "default_profile": "vapi"})");
}

TEST(Compile, TypesEveryProfileAndFillsTheDefaults) {
  absl::StatusOr<ServerSpec> spec = Compile(TwoProfiles());
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->profiles.size(), 2u);
  EXPECT_EQ(spec->default_profile, "vapi");
  EXPECT_EQ(spec->Find(""), &spec->profiles[0]);
  EXPECT_EQ(spec->Find("legacy"), &spec->profiles[1]);
  EXPECT_EQ(spec->Find("nope"), nullptr);
  EXPECT_TRUE(std::holds_alternative<HmacScheme>(spec->profiles[0].scheme));
  EXPECT_TRUE(std::holds_alternative<SharedSecretScheme>(spec->profiles[1].scheme));
  EXPECT_EQ(spec->profiles[0].mode, ProfileMode::kEnforce);
  EXPECT_EQ(spec->profiles[1].mode, ProfileMode::kShadow);
  ASSERT_EQ(spec->profiles[0].secrets.size(), 2u);
  EXPECT_EQ(spec->profiles[0].secrets[1].file(), "/run/old");
  EXPECT_TRUE(spec->profiles[0].keys.empty());  // no secret source: nothing read
  EXPECT_FALSE(spec->secrets_read);
  EXPECT_EQ(spec->queries, OwnershipQueries());  // the default schema's
  EXPECT_EQ(spec->queries.call, kDefaultCallQuery);
  EXPECT_EQ(spec->resolve.rules().size(), ResolvePolicy().rules().size());
  ASSERT_EQ(spec->profiles[0].warnings.size(), 1u);
  EXPECT_EQ(spec->profiles[0].warnings[0].find("profile \"vapi\": no signed timestamp"), 0u);
  ASSERT_EQ(spec->profiles[1].warnings.size(), 1u);
  EXPECT_EQ(spec->profiles[1].warnings[0].find("profile \"legacy\": shared_secret"), 0u);
}

TEST(Compile, KeepsTheConfiguredQueriesAndResolution) {
  absl::StatusOr<ServerSpec> spec = Compile(Parsed(R"({"ownership": {
      "call_query": "SELECT 1 WHERE :call_id = :call_id",
      "audit_assistant_query": "SELECT 1",
      "resolve": [{"types": ["chat.*"], "by": ["assistant"]}]}})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->queries.call, "SELECT 1 WHERE :call_id = :call_id");
  EXPECT_EQ(spec->queries.audit_assistant, "SELECT 1");
  // An own schema (call_query set): the lookups it does not configure are
  // off, and so are the chain's steps that need them.
  EXPECT_EQ(spec->queries.phone_number, "");
  EXPECT_EQ(spec->queries.assistant, "");
  EXPECT_TRUE(spec->resolve.IsOff(v1::OWNER_SOURCE_PHONE_NUMBER));
  EXPECT_TRUE(spec->resolve.IsOff(v1::OWNER_SOURCE_ASSISTANT));
  EXPECT_FALSE(spec->resolve.IsOff(v1::OWNER_SOURCE_CALL));
  EXPECT_EQ(spec->queries.audit_phone_number, kDefaultAuditPhoneNumberQuery);
  ASSERT_NE(spec->resolve.RuleFor("chat.created"), nullptr);
  EXPECT_EQ(spec->resolve.RuleFor("chat.created")->by,
            std::vector<v1::OwnerSource>{v1::OWNER_SOURCE_ASSISTANT});
  EXPECT_EQ(spec->resolve.RuleFor("status-update"), nullptr);
}

TEST(Compile, RefusesAConfigWithoutProfiles) {
  const absl::StatusOr<ServerSpec> spec = Compile(config::v1::Config());
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("no webhook secret configured"), absl::string_view::npos);
}

struct ErrorCase {
  const char* name;
  const char* json;
  std::vector<const char*> says;  // every one must be in the message
};

TEST(LoadServerSpec, NamesTheProblemAndTheFile) {
  const ErrorCase cases[] = {
      {"no profile name",
       R"({"profiles": [{"kind": "hmac", "secrets": [{"key_id": "k", "env": "E"}]}]})",
       {"c.json", "profiles[0].name"}},
      {"duplicate profile name",
       R"({"profiles": [{"name": "a", "kind": "hmac", "secrets": [{"key_id": "k", "env": "E"}]},
                        {"name": "a", "kind": "hmac", "secrets": [{"key_id": "k", "env": "E"}]}],
           "default_profile": "a"})",
       {"profiles[1].name", "duplicate \"a\""}},
      {"two profiles, no default",
       R"({"profiles": [{"name": "a", "kind": "hmac", "secrets": [{"key_id": "k", "env": "E"}]},
                        {"name": "b", "kind": "hmac", "secrets": [{"key_id": "k", "env": "E"}]}]})",
       {"default_profile", "required"}},
      {"unknown default",
       R"({"profiles": [{"name": "a", "kind": "hmac", "secrets": [{"key_id": "k", "env": "E"}]}],
           "default_profile": "b"})",
       {"default_profile", "\"b\""}},
      {"no secret at all",
       R"({"profiles": [{"name": "a", "kind": "hmac"}]})",
       {"no webhook secret configured", "VAPI_WEBHOOK_SECRET", "profile \"a\""}},
      {"secret with env and file",
       R"({"profiles": [{"name": "a", "kind": "hmac", "secrets": [{"key_id": "k", "env": "E", "file": "/f"}]}]})",
       {"profile \"a\"", "secret \"k\"", "exactly one of env and file"}},
      {"secret with neither",
       R"({"profiles": [{"name": "a", "kind": "hmac", "secrets": [{"key_id": "k"}]}]})",
       {"secret \"k\"", "exactly one of env and file"}},
      {"duplicate key_id",
       R"({"profiles": [{"name": "a", "kind": "hmac", "secrets": [{"key_id": "k", "env": "E"}, {"key_id": "k", "env": "F"}]}]})",
       {"profile \"a\"", "duplicate key_id \"k\""}},
      {"empty key_id",
       R"({"profiles": [{"name": "a", "kind": "hmac", "secrets": [{"key_id": "", "env": "E"}]}]})",
       {"profile \"a\"", "a key_id is empty"}},
      {"unknown mode",
       R"({"profiles": [{"name": "a", "kind": "hmac", "mode": "audit", "secrets": [{"key_id": "k", "env": "E"}]}]})",
       {"c.json: profile \"a\"", "mode: \"audit\""}},
      {"bad resolve rule",
       R"({"ownership": {"resolve": [{"types": ["chat.*"], "by": ["owner"]}]}})",
       {"c.json", "ownership.resolve[0].by[0]"}},
      {"bad profile option",
       R"({"profiles": [{"name": "a", "kind": "hmac", "algorithm": "md5", "secrets": [{"key_id": "k", "env": "E"}]}]})",
       {"profile \"a\"", "algorithm"}},
      {"timestamp placeholder without header",
       R"({"profiles": [{"name": "a", "kind": "hmac", "payload_format": "{timestamp}.{body}", "secrets": [{"key_id": "k", "env": "E"}]}]})",
       {"profile \"a\"", "payload_format", "timestamp_header"}},
      // A profile that signs too little: the file, the profile, what is
      // missing and the fix.
      {"timestamp read but not signed",
       R"({"profiles": [{"name": "a", "kind": "hmac", "timestamp_header": "x-ts", "payload_format": "{body}", "secrets": [{"key_id": "k", "env": "E"}]}]})",
       {"c.json: profile \"a\"", "timestamp_header \"x-ts\"", "does not sign it",
        "add {timestamp} to payload_format"}},
      {"body not signed",
       R"({"profiles": [{"name": "a", "kind": "hmac", "timestamp_header": "x-ts", "payload_format": "{timestamp}", "secrets": [{"key_id": "k", "env": "E"}]}]})",
       {"c.json: profile \"a\"", "does not sign the body", "add {body}"}},
      {"call query without its parameter",
       R"({"profiles": [{"name": "a", "kind": "hmac", "secrets": [{"key_id": "k", "env": "E"}]}], "ownership": {"call_query": "SELECT a, b, c, d, e FROM calls WHERE id = ?"}})",
       {"c.json", "ownership.call_query", ":call_id"}},
      {"phone number query without its parameter",
       R"({"profiles": [{"name": "a", "kind": "hmac", "secrets": [{"key_id": "k", "env": "E"}]}], "ownership": {"phone_number_query": "SELECT owner FROM phones"}})",
       {"c.json", "ownership.phone_number_query", ":phone_number_id"}},
      {"stripe preset made to sign the body only",
       R"({"profiles": [{"name": "a", "preset": "stripe", "payload_format": "{body}", "secrets": [{"key_id": "k", "env": "E"}]}]})",
       {"c.json: profile \"a\"", "signature_timestamp_key \"t\"", "add {timestamp}"}},
  };
  for (const ErrorCase& c : cases) {
    absl::StatusOr<ServerSpec> spec = LoadJson(c.json);
    ASSERT_FALSE(spec.ok()) << c.name;
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    for (const char* s : c.says) {
      EXPECT_NE(spec.status().message().find(s), absl::string_view::npos)
          << c.name << ": \"" << s << "\" not in: " << spec.status().message();
    }
  }
}

TEST(Compile, ReadsAndDecodesEverySecret) {
  config::v1::Config c = TwoProfiles();
  c.mutable_profiles(0)->set_secret_is_base64(true);
  const FakeSecretSource secrets(
      {{"NEW", "whsec_cmF3LWtleS1ieXRlcw=="}, {"/run/old", "b2xk"}, {"LEGACY", "shared"}});
  absl::StatusOr<ServerSpec> spec = Compile(c, secrets);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->secrets_read);
  // SecretKey.key holds raw key bytes: decoded where the profile says so.
  ASSERT_EQ(spec->profiles[0].keys.size(), 2u);
  EXPECT_EQ(spec->profiles[0].keys[0].key_id, "2026-11");
  EXPECT_EQ(spec->profiles[0].keys[0].key, "raw-key-bytes");
  EXPECT_EQ(spec->profiles[0].keys[1].key, "old");
  ASSERT_EQ(spec->profiles[1].keys.size(), 1u);
  EXPECT_EQ(spec->profiles[1].keys[0].key, "shared");
}

TEST(Compile, FailsWhenAnySecretCannotBeRead) {
  const FakeSecretSource secrets({{"NEW", "test-secret"}, {"LEGACY", "shared"}});
  absl::StatusOr<ServerSpec> spec = Compile(TwoProfiles(), secrets);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(spec.status().message().find("profile \"vapi\""), absl::string_view::npos);
  EXPECT_NE(spec.status().message().find("secret \"2026-10\""), absl::string_view::npos);
  EXPECT_NE(spec.status().message().find("/run/old"), absl::string_view::npos);
}

TEST(Compile, OnReloadAnUnreadableSecretFileIsLeftOutButNeverAnEnvironmentSecret) {
  const FakeSecretSource no_file({{"NEW", "test-secret"}, {"LEGACY", "shared"}});
  absl::StatusOr<ServerSpec> spec =
      Compile(TwoProfiles(), no_file, {/*drop_unreadable_secret_files=*/true});
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->profiles[0].keys.size(), 1u);
  EXPECT_EQ(spec->profiles[0].keys[0].key_id, "2026-11");
  ASSERT_EQ(spec->missing_secrets.size(), 1u);
  EXPECT_EQ(spec->missing_secrets[0].profile, "vapi");
  EXPECT_EQ(spec->missing_secrets[0].key_id, "2026-10");
  EXPECT_EQ(spec->missing_secrets[0].file, "/run/old");
  EXPECT_NE(spec->missing_secrets[0].why.find("/run/old"), std::string::npos);

  const FakeSecretSource no_env({{"/run/old", "old-secret"}, {"LEGACY", "shared"}});
  EXPECT_FALSE(Compile(TwoProfiles(), no_env, {/*drop_unreadable_secret_files=*/true}).ok());
}

TEST(Compile, NeverEchoesASecretThatIsNotBase64) {
  config::v1::Config c = TwoProfiles();
  c.mutable_profiles(0)->set_secret_is_base64(true);  // "test-secret" is not base64
  const FakeSecretSource secrets(
      {{"NEW", "test-secret"}, {"/run/old", "old-secret"}, {"LEGACY", "shared"}});
  absl::StatusOr<ServerSpec> spec = Compile(c, secrets);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find("profile \"vapi\": secret \"2026-11\": not valid base64"),
            absl::string_view::npos)
      << spec.status();
  EXPECT_EQ(spec.status().message().find("test-secret"), absl::string_view::npos);
}

TEST(KeysNeedingRestart, NamesTheLookupQueriesThatChangedAndNothingElse) {
  const ServerSpec running = *Compile(TwoProfiles());
  EXPECT_TRUE(KeysNeedingRestart(running, running).empty());
  // Profiles, modes, the resolution chain and the audit queries apply live.
  config::v1::Config live = TwoProfiles();
  live.mutable_profiles(1)->set_mode("enforce");
  live.mutable_profiles(0)->set_tolerance_seconds(60);
  live.mutable_ownership()->add_resolve()->add_types("chat.*");
  live.mutable_ownership()->mutable_resolve(0)->add_by("assistant");
  live.mutable_ownership()->set_audit_assistant_query("SELECT 1");
  EXPECT_TRUE(KeysNeedingRestart(running, *Compile(live)).empty());
  // The lookup queries do not.
  config::v1::Config restart = TwoProfiles();
  restart.mutable_ownership()->set_call_query("SELECT 1 WHERE :call_id = :call_id");
  restart.mutable_ownership()->set_assistant_query("SELECT 1 WHERE :assistant_id = 1");
  EXPECT_EQ(KeysNeedingRestart(running, *Compile(restart)),
            (std::vector<std::string>{"ownership.call_query", "ownership.assistant_query"}));
  config::v1::Config phone = TwoProfiles();
  phone.mutable_ownership()->set_phone_number_query("SELECT 1 WHERE :phone_number_id = 1");
  EXPECT_EQ(KeysNeedingRestart(running, *Compile(phone)),
            std::vector<std::string>{"ownership.phone_number_query"});
}

// Setting call_query alone turns the other lookups off: one key changed,
// named once; a lookup query set beside it is its own key.
TEST(KeysNeedingRestart, NamesAnOwnSchemaByItsCallQueryOnly) {
  const ServerSpec running = *Compile(TwoProfiles());
  config::v1::Config own = TwoProfiles();
  own.mutable_ownership()->set_call_query("SELECT 1 WHERE :call_id = :call_id");
  EXPECT_EQ(KeysNeedingRestart(running, *Compile(own)),
            std::vector<std::string>{"ownership.call_query"});
  EXPECT_EQ(KeysNeedingRestart(*Compile(own), running),
            std::vector<std::string>{"ownership.call_query"});
  config::v1::Config own_phone = own;
  own_phone.mutable_ownership()->set_phone_number_query("SELECT 1 WHERE :phone_number_id = 1");
  EXPECT_EQ(KeysNeedingRestart(*Compile(own), *Compile(own_phone)),
            std::vector<std::string>{"ownership.phone_number_query"});
}

TEST(DescribeOwnership, SaysWhichLookupsAreOnAndWhichChainStepsAreOff) {
  EXPECT_EQ(DescribeOwnership(*Compile(TwoProfiles())),
            (std::vector<std::string>{
                "ownership lookups: call on (default schema), phone_number on (default schema), "
                "assistant on (default schema)",
                "ownership.resolve: assistant-request by call, phone_number",
                "ownership.resolve: * by call"}));
  config::v1::Config own = TwoProfiles();
  own.mutable_ownership()->set_call_query("SELECT 1 WHERE :call_id = :call_id");
  own.mutable_ownership()->set_assistant_query("SELECT 1 WHERE :assistant_id = 1");
  EXPECT_EQ(DescribeOwnership(*Compile(own)),
            (std::vector<std::string>{
                "ownership lookups: call on (ownership.call_query), phone_number off "
                "(ownership.phone_number_query is not set), assistant on "
                "(ownership.assistant_query)",
                "ownership.resolve: assistant-request by call, phone_number (phone_number is "
                "off, ownership.phone_number_query is not set: an event without a call row that "
                "reaches it is denied CALL_NOT_FOUND)",
                "ownership.resolve: * by call"}));
}

TEST(LoadServerSpec, WithoutAPathCompilesTheDefaultConfig) {
  absl::StatusOr<ServerSpec> spec = LoadServerSpec("", nullptr);
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->profiles.size(), 1u);
  EXPECT_EQ(spec->default_profile, kDefaultProfileName);
  absl::StatusOr<ServerSpec> missing = LoadServerSpec("/nonexistent/hookguard.json", nullptr);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace hookguard

namespace hookguard {
namespace {

constexpr char kSubjectProfiles[] = R"({
  "profiles": [
    {"name": "vapi", "kind": "hmac", "secrets": [{"key_id": "v", "env": "V"}]},
    {"name": "stripe", "preset": "stripe", "secrets": [{"key_id": "s", "env": "S"}],
     "ownership": {"subjects": [
       {"name": "account", "from": "/account", "query": "SELECT o FROM a WHERE k = :id"}]}},
    {"name": "retell", "kind": "hmac", "secrets": [{"key_id": "r", "env": "R"}],
     "ownership": {"subjects": [
       {"name": "agent", "from": "/call/agent_id", "query": "SELECT o FROM g WHERE k = :id"},
       {"name": "number", "from": "/call/to_number", "query": "SELECT o FROM a WHERE k = :id",
        "required": false}]}}
  ],
  "default_profile": "vapi"})";

TEST(Compile, TypesSubjectsAndSharesEqualQueries) {
  absl::StatusOr<ServerSpec> spec = Compile(Parsed(kSubjectProfiles));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->profiles[0].subjects.empty()) << "no ownership: the call model";
  ASSERT_EQ(spec->profiles[1].subjects.size(), 1u);
  ASSERT_EQ(spec->profiles[2].subjects.size(), 2u);
  const SubjectSpec& account = spec->profiles[1].subjects[0];
  EXPECT_EQ(account.name, "account");
  EXPECT_EQ(account.source.tokens, std::vector<std::string>{"account"});
  EXPECT_TRUE(account.required) << "required defaults to true";
  const SubjectSpec& number = spec->profiles[2].subjects[1];
  EXPECT_FALSE(number.required);
  // One coalescer kind per distinct query text, in order of first use.
  EXPECT_EQ(spec->subject_queries, (std::vector<std::string>{"SELECT o FROM a WHERE k = :id",
                                                             "SELECT o FROM g WHERE k = :id"}));
  EXPECT_EQ(account.query, 0);
  EXPECT_EQ(spec->profiles[2].subjects[0].query, 1);
  EXPECT_EQ(number.query, 0);
}

// No profile uses the call model and no call_query is set: none of the call
// model's lookups is on (a Stripe-only app on its own schema starts), and
// --check_config says why. A VAPI profile beside them, or a call_query,
// keeps them on.
TEST(Compile, SubjectProfilesAloneTurnTheCallModelsLookupsOff) {
  config::v1::Config only = Parsed(kSubjectProfiles);
  only.mutable_profiles()->erase(only.mutable_profiles()->begin());
  only.set_default_profile("stripe");
  absl::StatusOr<ServerSpec> spec = Compile(only);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->queries.call_on());
  EXPECT_FALSE(spec->queries.phone_number_on());
  EXPECT_FALSE(spec->queries.assistant_on());
  EXPECT_TRUE(spec->resolve.IsOff(v1::OWNER_SOURCE_CALL));
  EXPECT_EQ(DescribeOwnership(*spec).front(),
            "ownership lookups: call off (every profile authorizes by ownership.subjects and "
            "ownership.call_query is not set), phone_number off (every profile authorizes by "
            "ownership.subjects and ownership.phone_number_query is not set), assistant off "
            "(every profile authorizes by ownership.subjects and ownership.assistant_query is "
            "not set)");

  absl::StatusOr<ServerSpec> mixed = Compile(Parsed(kSubjectProfiles));
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  EXPECT_TRUE(mixed->queries.call_on()) << "the vapi profile uses the call model";
  EXPECT_FALSE(mixed->resolve.IsOff(v1::OWNER_SOURCE_CALL));

  only.mutable_ownership()->set_call_query("SELECT 1 WHERE :call_id = :call_id");
  absl::StatusOr<ServerSpec> mapped = Compile(only);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_TRUE(mapped->queries.call_on()) << "a configured call_query stays on";
}

TEST(Compile, RefusesBadSubjectsNamingProfileAndKey) {
  const struct {
    const char* ownership;
    const char* says;
  } cases[] = {
      {R"({"subjects": []})", "at least one subject"},
      {R"({"subjects": [{"name": "s", "from": "header:X-Shopify-Shop-Domain",
           "query": ":id"}]})",
       "no supported signature scheme signs headers"},
      {R"({"subjects": [{"name": "", "from": "/a", "query": ":id"}]})", "subjects[0].name"},
      {R"({"subjects": [{"name": "a b", "from": "/a", "query": ":id"}]})", "letters, digits"},
      {R"({"subjects": [{"name": "a", "from": "/a", "query": ":id"},
                        {"name": "a", "from": "/b", "query": ":id"}]})",
       "subjects[1].name: duplicate"},
      {R"({"subjects": [{"name": "a", "from": "a", "query": ":id"}]})", "JSON Pointer"},
      {R"({"subjects": [{"name": "a", "from": "/a", "query": ":call_id"}]})", "must bind :id"},
      {R"({"subjects": [{"name": "a", "from": "/a", "query": ":id AND :t"}]})", ":t"},
      {R"({"subjects": [{"name": "a", "from": "/a", "query": ":id"},
                        {"name": "b", "from": "form:To", "query": ":id"}]})",
       "not both"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<ServerSpec> spec = Compile(Parsed(absl::StrCat(
        R"({"profiles": [{"name": "p", "kind": "hmac", "secrets": [{"key_id": "k", "env": "K"}],
            "ownership": )",
        c.ownership, "}]}")));
    ASSERT_FALSE(spec.ok()) << c.ownership;
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(spec.status().message().find("profile \"p\": ownership"), absl::string_view::npos)
        << spec.status();
    EXPECT_NE(spec.status().message().find(c.says), absl::string_view::npos) << spec.status();
  }
}

TEST(KeysNeedingRestart, NamesChangedSubjectQueriesButAppliesOtherSubjectChangesLive) {
  const ServerSpec running = *Compile(Parsed(kSubjectProfiles));
  config::v1::Config live = Parsed(kSubjectProfiles);
  live.mutable_profiles(1)->mutable_ownership()->mutable_subjects(0)->set_from("/data/account");
  live.mutable_profiles(2)->mutable_ownership()->mutable_subjects(1)->set_required(true);
  EXPECT_TRUE(KeysNeedingRestart(running, *Compile(live)).empty());
  config::v1::Config restart = Parsed(kSubjectProfiles);
  restart.mutable_profiles(1)->mutable_ownership()->mutable_subjects(0)->set_query(
      "SELECT o FROM b WHERE k = :id");
  EXPECT_EQ(KeysNeedingRestart(running, *Compile(restart)),
            std::vector<std::string>{"profiles[].ownership.subjects[].query"});
}

}  // namespace
}  // namespace hookguard

#include "tools/hookguard/operator_commands.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "hookguard/v1/hookguard.pb.h"
#include "server/audit/decision_id.h"
#include "server/audit/json_string.h"
#include "server/config/profile_set.h"
#include "server/config/secret_source.h"
#include "server/config/server_spec.h"
#include "server/decision/profile_holder.h"
#include "server/decision/webhook_authorizer.h"
#include "server/ownership/ownership_rules.h"
#include "server/ownership/ownership_store.h"
#include "server/ownership/soci_ownership_store.h"
#include "server/ownership/soci_session.h"
#include "tools/hookguard/capture_file.h"
#include "tools/hookguard/json_edit.h"
#include "tools/hookguard/ownership_audit.h"
#include "tools/hookguard/rpc_commands.h"

namespace hookguard::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFound = 1;  // audit-db: findings; explain: deny
constexpr int kExitError = 2;

int Fail(absl::string_view command, absl::string_view message) {
  std::fprintf(stderr, "hookguard %s: %s\n", std::string(command).c_str(),
               std::string(message).c_str());
  return kExitError;
}

std::string JsonOrNull(const std::optional<std::string>& value) {
  return value.has_value() ? JsonString(*value) : "null";
}

// For text output: control characters (a terminal escape in a database
// value) are shown as '?'.
std::string Printable(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

std::string Show(const std::optional<std::string>& value) {
  return value.has_value() ? Printable(*value) : "NULL";
}

// --db, else $HOOKGUARD_DB (as hookguard-server).
absl::StatusOr<std::string> DatabaseFlag(const CliArgs& args) {
  std::string db = args.Get("db");
  if (db.empty()) {
    const char* env = std::getenv("HOOKGUARD_DB");
    if (env != nullptr) db = env;
  }
  if (db.empty()) {
    return absl::InvalidArgumentError(
        "no ownership database: set --db or HOOKGUARD_DB (a SOCI connection string)");
  }
  return db;
}

absl::StatusOr<absl::Duration> TimeoutFlag(const CliArgs& args, int default_ms) {
  int ms = default_ms;
  if (args.Has("timeout_ms") && (!absl::SimpleAtoi(args.Get("timeout_ms"), &ms) || ms < 1)) {
    return absl::InvalidArgumentError("--timeout_ms must be a positive number of milliseconds");
  }
  return absl::Milliseconds(ms);
}

absl::StatusOr<std::string> FormatFlag(const CliArgs& args, const char* text_name) {
  const std::string format = args.Get("format", text_name);
  if (format != text_name && format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("--format must be ", text_name, " or json, got \"", Printable(format), "\""));
  }
  return format;
}

// ---------------------------------------------------------------- audit-db

void PrintAuditJson(const AuditReport& report) {
  std::vector<std::string> findings;
  for (const AuditFinding& f : report.findings) {
    const bool assistant = IsAssistantKind(f.kind);
    findings.push_back(absl::StrCat(
        "{\"kind\": ", JsonString(FindingKindName(f.kind)),
        ", \"deny_reason\": ", JsonString(v1::DenyReason_Name(DenyReasonOf(f.kind))),
        ", \"call_id\": ", JsonString(f.call_id),
        ", \"call_owner_id\": ", JsonOrNull(f.call_owner_id), ", \"",
        assistant ? "assistant_id" : "phone_number_id", "\": ", JsonOrNull(f.reference_id), ", \"",
        assistant ? "assistant_owner_id" : "phone_number_owner_id",
        "\": ", JsonOrNull(f.reference_owner_id), "}"));
  }
  std::vector<std::string> counts;
  for (int kind = 0; kind < kFindingKinds; ++kind) {
    counts.push_back(absl::StrCat(JsonString(FindingKindName(static_cast<FindingKind>(kind))), ": ",
                                  report.counts[kind]));
  }
  std::printf("{\"clean\": %s, \"findings\": [%s], \"counts\": {%s}}\n",
              report.clean() ? "true" : "false", absl::StrJoin(findings, ", ").c_str(),
              absl::StrJoin(counts, ", ").c_str());
}

void PrintAuditTable(const AuditReport& report) {
  if (report.clean()) {
    std::printf(
        "clean: no call has an assistant or phone number of another user, or a missing "
        "one\n");
    return;
  }
  std::printf("%-28s %-32s %-12s %-24s %-12s %s\n", "KIND", "CALL_ID", "CALL_OWNER",
              "ASSISTANT/PHONE_NUMBER", "ITS_OWNER", "SERVICE_ANSWERS");
  for (const AuditFinding& f : report.findings) {
    std::printf("%-28s %-32s %-12s %-24s %-12s %s\n", FindingKindName(f.kind),
                Printable(f.call_id).c_str(), Show(f.call_owner_id).c_str(),
                Show(f.reference_id).c_str(), Show(f.reference_owner_id).c_str(),
                v1::DenyReason_Name(DenyReasonOf(f.kind)).c_str());
  }
  std::vector<std::string> counts;
  for (int kind = 0; kind < kFindingKinds; ++kind) {
    counts.push_back(
        absl::StrCat(FindingKindName(static_cast<FindingKind>(kind)), " ", report.counts[kind]));
  }
  std::printf("\n%zu finding(s): %s\n", report.findings.size(),
              absl::StrJoin(counts, ", ").c_str());
}

// ---------------------------------------------------------------- explain

struct ExplainStep {
  std::string name;
  std::string result;  // pass, fail, skipped
  v1::DenyReason reason = v1::DENY_REASON_UNSPECIFIED;
  std::string detail;
};

// What explain prints: the service's answer plus the steps behind it.
struct Explanation {
  std::string mode;  // "webhook" (AuthorizeWebhook) or "call_event" (AuthorizeCallEvent)
  std::string profile;
  v1::SignatureResult signature = v1::SIGNATURE_RESULT_UNSPECIFIED;
  std::string key_id;
  v1::CallEvent event;
  bool parsed = false;
  v1::Decision decision = v1::DECISION_UNSPECIFIED;
  v1::DenyReason reason = v1::DENY_REASON_UNSPECIFIED;
  // The decision the checks reached: the answer's in enforce mode, the
  // shadow one in shadow mode.
  v1::Decision enforced_decision = v1::DECISION_UNSPECIFIED;
  v1::DenyReason enforced_reason = v1::DENY_REASON_UNSPECIFIED;
  bool shadow = false;
  v1::OwnerSource resolved_by = v1::OWNER_SOURCE_UNSPECIFIED;
  std::string resolved_subject;
  int http_status = 0;
  std::string owner_id;
  std::string detail;
  std::vector<ExplainStep> steps;
  // --capture: what the app was answered when the delivery was captured.
  std::optional<Capture> captured;
};

// The answer's fields, from either authorization response.
template <typename Response>
void FillAnswer(const Response& response, Explanation* e) {
  e->decision = response.decision();
  e->reason = response.reason();
  e->shadow = response.shadow_decision() != v1::DECISION_UNSPECIFIED;
  e->enforced_decision = e->shadow ? response.shadow_decision() : response.decision();
  e->enforced_reason = e->shadow ? response.shadow_reason() : response.reason();
  e->resolved_by = response.resolved_by();
  e->http_status = response.http_status();
  e->owner_id = response.owner_id();
  e->detail = response.detail();
}

void AddOwnershipSteps(const std::vector<OwnershipStep>& trace, Explanation* out) {
  for (const OwnershipStep& step : trace) {
    out->steps.push_back({step.name, OutcomeName(step.outcome), step.reason, step.detail});
  }
}

void AddUnreachedOwnershipSteps(const std::string& why, Explanation* out) {
  for (const std::string& name : OwnershipStepNames()) {
    out->steps.push_back({name, "skipped", v1::DENY_REASON_UNSPECIFIED, why});
  }
}

std::string EventSummary(const v1::CallEvent& event) {
  auto id = [](const std::string& value) {
    return value.empty() ? std::string("none") : absl::StrCat("'", value, "'");
  };
  return absl::StrCat("call ", id(event.call_id()), ", assistant ", id(event.assistant_id()),
                      ", phone number ", id(event.phone_number_id()), ", type ", id(event.type()));
}

std::string DatabaseErrorMessage(const absl::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message(),
                      " (the service answers this gRPC error, never a decision: the web tier "
                      "must fail closed)");
}

void PrintExplainText(const Explanation& e) {
  std::printf("%-20s %-8s %s\n", "STEP", "RESULT", "DETAIL");
  for (const ExplainStep& step : e.steps) {
    std::string detail = Printable(step.detail);
    if (step.reason != v1::DENY_REASON_UNSPECIFIED) {
      detail = absl::StrCat(v1::DenyReason_Name(step.reason), ": ", detail);
    }
    std::printf("%-20s %-8s %s\n", step.name.c_str(), step.result.c_str(), detail.c_str());
  }
  std::printf("\n%-12s %s\n", "decision", v1::Decision_Name(e.decision).c_str());
  std::printf("%-12s %s\n", "reason", v1::DenyReason_Name(e.reason).c_str());
  if (e.shadow) {
    std::printf("%-12s %s %s (shadow mode: the answer is ALLOW; enforcing would answer this)\n",
                "would be", v1::Decision_Name(e.enforced_decision).c_str(),
                v1::DenyReason_Name(e.enforced_reason).c_str());
  }
  if (e.resolved_by != v1::OWNER_SOURCE_UNSPECIFIED) {
    std::printf("%-12s %s\n", "resolved_by", v1::OwnerSource_Name(e.resolved_by).c_str());
  }
  if (!e.resolved_subject.empty()) {
    std::printf("%-12s %s\n", "subject", Printable(e.resolved_subject).c_str());
  }
  std::printf("%-12s %d\n", "http_status", e.http_status);
  if (!e.owner_id.empty()) std::printf("%-12s %s\n", "owner_id", Printable(e.owner_id).c_str());
  if (!e.detail.empty()) std::printf("%-12s %s\n", "detail", Printable(e.detail).c_str());
  if (e.captured.has_value()) {
    const Capture& c = *e.captured;
    std::printf(
        "%-12s %s %s%s%s (http %d) at %s, decision_id %s\n", "captured",
        Printable(c.decision).c_str(), Printable(c.reason).c_str(),
        c.shadow_decision.empty() || c.shadow_decision == "DECISION_UNSPECIFIED" ? "" : ", shadow ",
        c.shadow_decision.empty() || c.shadow_decision == "DECISION_UNSPECIFIED"
            ? ""
            : Printable(c.shadow_decision).c_str(),
        c.http_status, c.captured_at.empty() ? "?" : Printable(c.captured_at).c_str(),
        c.decision_id.empty() ? "?" : Printable(c.decision_id).c_str());
  }
}

void PrintExplainJson(const Explanation& e) {
  std::vector<std::string> steps;
  std::string failed_step;
  for (const ExplainStep& step : e.steps) {
    if (step.result == "fail" && failed_step.empty()) failed_step = step.name;
    steps.push_back(absl::StrCat("{\"step\": ", JsonString(step.name),
                                 ", \"result\": ", JsonString(step.result),
                                 ", \"reason\": ", JsonString(v1::DenyReason_Name(step.reason)),
                                 ", \"detail\": ", JsonString(step.detail), "}"));
  }
  std::string captured = "null";
  if (e.captured.has_value()) {
    const Capture& c = *e.captured;
    captured = absl::StrCat(
        "{\"captured_at\": ", JsonString(c.captured_at), ", \"decision\": ", JsonString(c.decision),
        ", \"shadow_decision\": ", JsonString(c.shadow_decision),
        ", \"reason\": ", JsonString(c.reason), ", \"http_status\": ", c.http_status,
        ", \"decision_id\": ", JsonString(c.decision_id), "}");
  }
  std::printf(
      "{\"mode\": %s, \"decision\": %s, \"reason\": %s, \"shadow_decision\": %s, "
      "\"shadow_reason\": %s, \"resolved_by\": %s, \"resolved_subject\": %s, \"http_status\": %d, "
      "\"owner_id\": %s, "
      "\"failed_step\": %s, \"detail\": %s, \"profile\": %s, \"signature\": %s, \"key_id\": %s, "
      "\"event\": {\"type\": %s, \"call_id\": %s, \"assistant_id\": %s, \"phone_number_id\": %s, "
      "\"org_id\": %s}, \"steps\": [%s], \"captured\": %s}\n",
      JsonString(e.mode).c_str(), JsonString(v1::Decision_Name(e.decision)).c_str(),
      JsonString(v1::DenyReason_Name(e.reason)).c_str(),
      JsonString(v1::Decision_Name(e.shadow ? e.enforced_decision : v1::DECISION_UNSPECIFIED))
          .c_str(),
      JsonString(v1::DenyReason_Name(e.shadow ? e.enforced_reason : v1::DENY_REASON_UNSPECIFIED))
          .c_str(),
      JsonString(v1::OwnerSource_Name(e.resolved_by)).c_str(),
      JsonString(e.resolved_subject).c_str(), e.http_status, JsonString(e.owner_id).c_str(),
      failed_step.empty() ? "null" : JsonString(failed_step).c_str(), JsonString(e.detail).c_str(),
      JsonString(e.profile).c_str(), JsonString(v1::SignatureResult_Name(e.signature)).c_str(),
      JsonString(e.key_id).c_str(), JsonString(e.event.type()).c_str(),
      JsonString(e.event.call_id()).c_str(), JsonString(e.event.assistant_id()).c_str(),
      JsonString(e.event.phone_number_id()).c_str(), JsonString(e.event.org_id()).c_str(),
      absl::StrJoin(steps, ", ").c_str(), captured.c_str());
}

}  // namespace

int RunAuditDb(const CliArgs& args) {
  constexpr absl::string_view kCommand = "audit-db";
  absl::StatusOr<std::string> format = FormatFlag(args, "table");
  if (!format.ok()) return Fail(kCommand, format.status().message());
  absl::StatusOr<absl::Duration> timeout = TimeoutFlag(args, 30000);
  if (!timeout.ok()) return Fail(kCommand, timeout.status().message());
  absl::StatusOr<std::string> db = DatabaseFlag(args);
  if (!db.ok()) return Fail(kCommand, db.status().message());
  // --config as hookguard-server compiles it; no secret is read.
  absl::StatusOr<ServerSpec> spec = LoadServerSpec(args.Get("config"), nullptr);
  if (!spec.ok()) return Fail(kCommand, spec.status().message());
  absl::StatusOr<SociDatabase> database = SociDatabase::Parse(*db, *timeout);
  if (!database.ok()) return Fail(kCommand, database.status().message());

  absl::StatusOr<AuditReport> report = RunOwnershipAudit(*database, spec->queries);
  if (!report.ok()) return Fail(kCommand, report.status().message());
  if (*format == "json") {
    PrintAuditJson(*report);
  } else {
    PrintAuditTable(*report);
  }
  return report->clean() ? kExitOk : kExitFound;
}

int RunExplain(const CliArgs& args) {
  constexpr absl::string_view kCommand = "explain";
  absl::StatusOr<std::string> format = FormatFlag(args, "text");
  if (!format.ok()) return Fail(kCommand, format.status().message());
  const bool capture = args.Has("capture");
  const bool webhook = args.Has("body") || capture;
  if ((args.Has("body") + capture + args.Has("call_id")) != 1) {
    return Fail(kCommand,
                "give one of --body=FILE|- (a webhook), --capture=FILE (a captured delivery) or "
                "--call_id=ID (a call event)");
  }
  if (capture) {
    for (const char* flag : {"header", "method", "url"}) {
      if (args.Has(flag)) {
        return Fail(kCommand, absl::StrCat("--", flag, " comes from the capture file"));
      }
    }
  }
  if (webhook) {
    for (const char* flag : {"assistant_id", "phone_number_id", "type", "org_id"}) {
      if (args.Has(flag)) {
        return Fail(kCommand, absl::StrCat("--", flag, " goes with --call_id, not --body"));
      }
    }
  } else {
    for (const char* flag : {"header", "profile", "method", "url"}) {
      if (args.Has(flag)) {
        return Fail(kCommand, absl::StrCat("--", flag, " goes with --body, not --call_id"));
      }
    }
  }
  absl::StatusOr<absl::Duration> timeout = TimeoutFlag(args, 5000);
  if (!timeout.ok()) return Fail(kCommand, timeout.status().message());
  absl::StatusOr<std::string> db = DatabaseFlag(args);
  if (!db.ok()) return Fail(kCommand, db.status().message());
  // The configuration and secrets exactly as hookguard-server compiles
  // them. An explanation of a call event needs no secret.
  const EnvAndFileSecretSource secrets;
  absl::StatusOr<ServerSpec> spec =
      LoadServerSpec(args.Get("config"), webhook ? &secrets : nullptr);
  if (!spec.ok()) return Fail(kCommand, spec.status().message());
  const OwnershipQueries queries = spec->queries;
  const std::vector<std::string> subject_queries = spec->subject_queries;
  const ResolvePolicy resolve = spec->resolve;
  std::shared_ptr<const ProfileSet> profile_set;
  if (webhook) {
    absl::StatusOr<std::shared_ptr<const ProfileSet>> built = ProfileSet::Build(*std::move(spec));
    if (!built.ok()) return Fail(kCommand, built.status().message());
    profile_set = *std::move(built);
  }
  ProfileHolder profiles(profile_set);

  SociStoreOptions store_options;
  store_options.connection_string = *db;
  store_options.pool_size = 1;
  SetLookupQueries(queries, subject_queries, &store_options);
  store_options.query_timeout = *timeout;
  absl::StatusOr<std::unique_ptr<SociOwnershipStore>> store =
      SociOwnershipStore::Open(store_options);
  if (!store.ok()) return Fail(kCommand, store.status().message());
  CallEventAuthorizer rules(**store, resolve);
  SubjectAuthorizer subject_rules(**store);
  DecisionIdGenerator ids;
  WebhookAuthorizer authorizer(profiles, rules, ids, WebhookAuthorizerOptions{}, &subject_rules);

  Explanation e;
  const std::string expected_owner = args.Get("expected_owner");
  const absl::Time now = absl::Now();
  absl::Time verify_at = now;  // the clock of the signature check
  if (webhook) {
    v1::AuthorizeWebhookRequest request;
    if (capture) {
      // Replayed as captured: profile, headers, method, url, body and
      // expected owner (--profile and --expected_owner override them).
      absl::StatusOr<std::string> text = ReadAll(args.Get("capture"));
      if (!text.ok()) return Fail(kCommand, text.status().message());
      absl::StatusOr<Capture> parsed = ParseCapture(*text);
      if (!parsed.ok()) {
        return Fail(kCommand, absl::StrCat(args.Get("capture"), ": ", parsed.status().message()));
      }
      request = parsed->request;
      // The signature is checked as of the delivery's arrival: a signed
      // timestamp ages past its tolerance while the capture waits.
      if (!parsed->captured_at.empty()) {
        std::string why;
        if (!absl::ParseTime(absl::RFC3339_full, parsed->captured_at, &verify_at, &why)) {
          return Fail(kCommand, absl::StrCat(args.Get("capture"),
                                             ": capture file: \"captured_at\" is not an RFC 3339 "
                                             "time (",
                                             why, ")"));
        }
      }
      if (args.Has("profile")) request.set_profile(args.Get("profile"));
      if (args.Has("expected_owner")) request.set_expected_owner_id(expected_owner);
      e.captured = *std::move(parsed);
    } else {
      request.set_profile(args.Get("profile"));
      request.set_expected_owner_id(expected_owner);
      if (absl::Status s = ReadHttpRequest(args, request.mutable_request()); !s.ok()) {
        return Fail(kCommand, s.message());
      }
    }
    e.mode = "webhook";
    e.profile = request.profile().empty() ? profile_set->default_profile() : request.profile();
    v1::AuthorizeWebhookResponse response;
    std::vector<OwnershipStep> trace;
    absl::Status s =
        authorizer.AuthorizeWebhook(request, verify_at, now + *timeout, &response, &trace);
    if (!s.ok()) {
      if (s.code() == absl::StatusCode::kInvalidArgument ||
          s.code() == absl::StatusCode::kResourceExhausted) {
        return Fail(kCommand, absl::StrCat(absl::StatusCodeToString(s.code()), ": ", s.message()));
      }
      return Fail(kCommand, DatabaseErrorMessage(s));
    }
    FillAnswer(response, &e);
    e.signature = response.signature();
    e.key_id = response.key_id();
    e.event = response.event();
    e.parsed = response.has_event();
    e.resolved_subject = response.resolved_subject();
    // A subject profile reads its subjects instead of a call event: the
    // trace starts with that step (read_subjects).
    const bool by_subjects = !trace.empty() && trace.front().name == "read_subjects";

    const bool valid = e.signature == v1::SIGNATURE_RESULT_VALID;
    if (valid) {
      e.steps.push_back(
          {"signature", "pass", v1::DENY_REASON_UNSPECIFIED,
           absl::StrCat("VALID with key_id '", e.key_id, "' of profile '", e.profile, "'",
                        verify_at == now
                            ? ""
                            : absl::StrCat(" at the capture time ", e.captured->captured_at))});
    } else {
      e.steps.push_back({"signature", "fail", v1::DENY_REASON_SIGNATURE_INVALID,
                         absl::StrCat(e.detail, " (profile '", e.profile, "')")});
    }
    if (!valid) {
      e.steps.push_back({"parse", "skipped", v1::DENY_REASON_UNSPECIFIED,
                         "not reached: a body is parsed only once its signature is valid"});
      AddUnreachedOwnershipSteps("not reached: an earlier step decided", &e);
    } else if (by_subjects) {
      AddOwnershipSteps(trace, &e);
    } else if (!e.parsed) {
      e.steps.push_back({"parse", "fail", v1::DENY_REASON_MALFORMED_EVENT, e.detail});
      AddUnreachedOwnershipSteps("not reached: an earlier step decided", &e);
    } else {
      e.steps.push_back({"parse", "pass", v1::DENY_REASON_UNSPECIFIED, EventSummary(e.event)});
      AddOwnershipSteps(trace, &e);
    }
  } else {
    v1::AuthorizeCallEventRequest request;
    *request.mutable_event() = CallEventFromFlags(args);
    request.set_expected_owner_id(expected_owner);
    e.mode = "call_event";
    e.event = request.event();
    v1::AuthorizeCallEventResponse response;
    std::vector<OwnershipStep> trace;
    absl::Status s = authorizer.AuthorizeCallEvent(request, now + *timeout, &response, &trace);
    if (!s.ok()) return Fail(kCommand, DatabaseErrorMessage(s));
    FillAnswer(response, &e);
    e.steps.push_back({"signature", "skipped", v1::DENY_REASON_UNSPECIFIED,
                       "no body: an extracted call event (AuthorizeCallEvent) is not signed"});
    e.steps.push_back({"parse", "skipped", v1::DENY_REASON_UNSPECIFIED,
                       absl::StrCat("event given by flags: ", EventSummary(e.event))});
    if (trace.empty()) {
      // The ids broke the parser's rules before any lookup.
      e.steps.push_back({"call_id", "fail", e.enforced_reason, e.detail});
    }
    AddOwnershipSteps(trace, &e);
  }

  if (*format == "json") {
    PrintExplainJson(e);
  } else {
    PrintExplainText(e);
  }
  // In shadow mode too: the exit code tells what enforcing would do.
  return e.enforced_decision == v1::DECISION_ALLOW ? kExitOk : kExitFound;
}

}  // namespace hookguard::cli

#include "server/decision/webhook_authorizer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/echo.h"
#include "server/common/http_status.h"
#include "server/payload/call_event_parser.h"
#include "server/payload/subject_source.h"
#include "server/signature/delivery_key.h"

namespace hookguard {
namespace {

// The one place a decision becomes response fields (both response types).
// In shadow mode the answer is ALLOW (HTTP 200) and the decision goes into
// shadow_decision / shadow_reason; owner_id and resolved_by stay what the
// checks found, which is nothing unless they allowed.
template <typename Response>
void FillDecision(OwnershipDecision decision, bool shadow, DecisionIdGenerator& ids,
                  Response* response) {
  if (shadow) {
    response->set_shadow_decision(decision.decision);
    response->set_shadow_reason(decision.reason);
    decision.decision = v1::DECISION_ALLOW;
    decision.reason = v1::DENY_REASON_UNSPECIFIED;
  }
  response->set_decision(decision.decision);
  response->set_reason(decision.reason);
  response->set_owner_id(std::move(decision.owner_id));
  response->set_resolved_by(decision.resolved_by);
  response->set_resolved_subject(std::move(decision.resolved_subject));
  response->set_http_status(HttpStatusForDecision(decision.decision, decision.reason));
  response->set_decision_id(ids.Next());
  response->set_detail(std::move(decision.detail));
}

// The verification's fields both signature-checking responses share.
template <typename Response>
void FillVerified(VerifyOutcome& outcome, absl::string_view body, Response* response) {
  response->set_delivery_key(DeliveryKey(outcome, body));
  response->set_key_id(std::move(outcome.key_id));
  response->set_message_id(std::move(outcome.message_id));
}

// The ownership rules' answer becomes the response (a store error stays the
// status: the caller fails closed).
template <typename Response>
absl::Status Complete(absl::StatusOr<OwnershipDecision> decision, bool shadow,
                      DecisionIdGenerator& ids, Response* response) {
  if (!decision.ok()) return decision.status();
  FillDecision(*std::move(decision), shadow, ids, response);
  return absl::OkStatus();
}

// The subjects a body named, for the audit line.
void KeepSubjectIds(const std::vector<SubjectValue>& subjects, SubjectIds* out) {
  if (out == nullptr) return;
  out->clear();
  for (const SubjectValue& s : subjects) {
    if (s.id.has_value()) out->emplace_back(s.name, *s.id);
  }
}

absl::Status NoSubjectAuthorizer() {
  return absl::InternalError("a profile with subjects, but no subject authorizer");
}

}  // namespace

WebhookAuthorizer::WebhookAuthorizer(const ProfileHolder& profiles,
                                     const CallEventAuthorizer& authorizer,
                                     DecisionIdGenerator& ids, WebhookAuthorizerOptions options,
                                     const SubjectAuthorizer* subjects)
    : profiles_(profiles),
      authorizer_(authorizer),
      ids_(ids),
      options_(options),
      subjects_(subjects) {}

std::shared_ptr<const ResolvePolicy> WebhookAuthorizer::ChainOf(const Snapshot& profiles) const {
  if (profiles == nullptr) return authorizer_.policy();
  // Shares the snapshot's ownership: the chain lives as long as the set.
  return std::shared_ptr<const ResolvePolicy>(profiles, &profiles->spec().resolve);
}

absl::Status WebhookAuthorizer::Verify(const Snapshot& profiles, const std::string& profile,
                                       const v1::HttpRequest& request, absl::Time now,
                                       VerifyOutcome* outcome, bool* shadow,
                                       std::vector<SubjectSpec>* subjects) const {
  if (request.body().size() > options_.max_body_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("body of ", request.body().size(),
                                                     " bytes is over the limit of ",
                                                     options_.max_body_bytes));
  }
  const Verifier* verifier = profiles == nullptr ? nullptr : profiles->Find(profile);
  if (verifier == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown profile \"", CapEcho(profile), "\""));
  }
  // An OpenSSL failure is an error (INTERNAL, logged), never a decision.
  absl::StatusOr<VerifyOutcome> verified = verifier->Verify(request, now);
  if (!verified.ok()) return verified.status();
  *outcome = *std::move(verified);
  if (shadow != nullptr) *shadow = profiles->IsShadow(profile);
  if (subjects != nullptr) {
    const ProfileSpec* spec = profiles->spec().Find(profile);
    if (spec != nullptr) *subjects = spec->subjects;
  }
  return absl::OkStatus();
}

absl::Status WebhookAuthorizer::VerifySignature(const v1::VerifySignatureRequest& request,
                                                absl::Time now,
                                                v1::VerifySignatureResponse* response) const {
  VerifyOutcome outcome;
  if (absl::Status s =
          Verify(profiles_.Get(), request.profile(), request.request(), now, &outcome, nullptr);
      !s.ok()) {
    return s;
  }
  FillVerified(outcome, request.request().body(), response);
  response->set_result(outcome.result);
  response->set_timestamp_unix(outcome.timestamp_unix);
  response->set_http_status(HttpStatusForSignature(outcome.result));
  response->set_detail(std::move(outcome.detail));
  return absl::OkStatus();
}

bool WebhookAuthorizer::PrepareCallEvent(const Snapshot& profiles,
                                         const v1::AuthorizeCallEventRequest& request,
                                         v1::AuthorizeCallEventResponse* response,
                                         bool* shadow) const {
  // No profile is named: the default profile's mode applies (enforce when
  // no profile set is held, as in `hookguard explain` of a call event).
  *shadow = profiles != nullptr && profiles->IsShadow("");
  // The caller extracted these ids itself: hold them to the parser's rules
  // before they reach the database.
  if (absl::Status invalid = ValidateCallEvent(request.event()); !invalid.ok()) {
    FillDecision(DenyDecision(v1::DENY_REASON_MALFORMED_EVENT, std::string(invalid.message())),
                 *shadow, ids_, response);
    return false;
  }
  return true;
}

absl::Status WebhookAuthorizer::AuthorizeCallEvent(const v1::AuthorizeCallEventRequest& request,
                                                   absl::Time deadline,
                                                   v1::AuthorizeCallEventResponse* response,
                                                   std::vector<OwnershipStep>* trace) const {
  const Snapshot profiles = profiles_.Get();  // read once: see the class comment
  bool shadow = false;
  if (!PrepareCallEvent(profiles, request, response, &shadow)) return absl::OkStatus();
  return Complete(authorizer_.Authorize(request.event(), request.expected_owner_id(), deadline,
                                        ChainOf(profiles), trace),
                  shadow, ids_, response);
}

void WebhookAuthorizer::AuthorizeCallEventAsync(const v1::AuthorizeCallEventRequest& request,
                                                absl::Time deadline,
                                                v1::AuthorizeCallEventResponse* response,
                                                std::function<void(absl::Status)> done) const {
  const Snapshot profiles = profiles_.Get();  // read once: see the class comment
  bool shadow = false;
  if (!PrepareCallEvent(profiles, request, response, &shadow)) return done(absl::OkStatus());
  authorizer_.AuthorizeAsync(
      request.event(), request.expected_owner_id(), deadline, ChainOf(profiles),
      [this, shadow, response, done = std::move(done)](absl::StatusOr<OwnershipDecision> decision) {
        done(Complete(std::move(decision), shadow, ids_, response));
      });
}

absl::Status WebhookAuthorizer::PrepareWebhook(const Snapshot& profiles,
                                               const v1::AuthorizeWebhookRequest& request,
                                               absl::Time now,
                                               v1::AuthorizeWebhookResponse* response, bool* shadow,
                                               bool* decided, std::vector<SubjectValue>* subjects,
                                               OwnershipStep* read_step) const {
  *decided = true;
  VerifyOutcome outcome;
  std::vector<SubjectSpec> specs;
  if (absl::Status s =
          Verify(profiles, request.profile(), request.request(), now, &outcome, shadow, &specs);
      !s.ok()) {
    return s;
  }
  FillVerified(outcome, request.request().body(), response);
  response->set_signature(outcome.result);

  // An unverified body is never parsed: the parser is not exposed to forgeries.
  if (outcome.result != v1::SIGNATURE_RESULT_VALID) {
    FillDecision(DenyDecision(v1::DENY_REASON_SIGNATURE_INVALID,
                              absl::StrCat("signature ", v1::SignatureResult_Name(outcome.result),
                                           ": ", outcome.detail)),
                 *shadow, ids_, response);
    return absl::OkStatus();
  }

  if (!specs.empty()) {
    // A subject profile: only the configured sources are read.
    if (subjects_ == nullptr) return NoSubjectAuthorizer();
    std::vector<SubjectSource> sources;
    sources.reserve(specs.size());
    for (const SubjectSpec& spec : specs) sources.push_back(spec.source);
    absl::StatusOr<std::vector<std::optional<std::string>>> ids =
        ReadSubjects(request.request().body(), sources);
    read_step->name = "read_subjects";
    if (!ids.ok()) {
      read_step->outcome = OwnershipStep::Outcome::kFail;
      read_step->reason = v1::DENY_REASON_MALFORMED_EVENT;
      read_step->detail = std::string(ids.status().message());
      FillDecision(
          DenyDecision(v1::DENY_REASON_MALFORMED_EVENT, std::string(ids.status().message())),
          *shadow, ids_, response);
      return absl::OkStatus();
    }
    std::vector<std::string> read;
    read.reserve(specs.size());
    subjects->reserve(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      SubjectValue value;
      value.name = specs[i].name;
      value.source = specs[i].source.text;
      value.id = std::move((*ids)[i]);
      value.required = specs[i].required;
      value.query = specs[i].query;
      read.push_back(absl::StrCat(
          value.name, " (", value.source, ") ",
          value.id.has_value() ? absl::StrCat("'", *value.id, "'") : std::string("absent")));
      subjects->push_back(std::move(value));
    }
    read_step->outcome = OwnershipStep::Outcome::kPass;
    read_step->detail = absl::StrJoin(read, ", ");
    *decided = false;
    return absl::OkStatus();
  }

  absl::StatusOr<v1::CallEvent> event = ParseCallEvent(request.request().body());
  if (!event.ok()) {
    FillDecision(
        DenyDecision(v1::DENY_REASON_MALFORMED_EVENT, std::string(event.status().message())),
        *shadow, ids_, response);
    return absl::OkStatus();
  }
  *response->mutable_event() = *std::move(event);
  *decided = false;
  return absl::OkStatus();
}

absl::Status WebhookAuthorizer::AuthorizeWebhook(const v1::AuthorizeWebhookRequest& request,
                                                 absl::Time now, absl::Time deadline,
                                                 v1::AuthorizeWebhookResponse* response,
                                                 std::vector<OwnershipStep>* trace,
                                                 SubjectIds* subject_ids) const {
  const Snapshot profiles = profiles_.Get();  // read once: see the class comment
  bool shadow = false, decided = true;
  std::vector<SubjectValue> subjects;
  OwnershipStep read_step;
  absl::Status prepared =
      PrepareWebhook(profiles, request, now, response, &shadow, &decided, &subjects, &read_step);
  KeepSubjectIds(subjects, subject_ids);
  if (trace != nullptr) trace->clear();
  if (!prepared.ok() || decided) {
    if (trace != nullptr && !read_step.name.empty()) trace->push_back(read_step);
    return prepared;
  }
  if (!subjects.empty()) {
    absl::StatusOr<OwnershipDecision> decision =
        subjects_->Authorize(std::move(subjects), request.expected_owner_id(), deadline, trace);
    if (trace != nullptr) trace->insert(trace->begin(), read_step);
    return Complete(std::move(decision), shadow, ids_, response);
  }
  return Complete(authorizer_.Authorize(response->event(), request.expected_owner_id(), deadline,
                                        ChainOf(profiles), trace),
                  shadow, ids_, response);
}

void WebhookAuthorizer::AuthorizeWebhookAsync(const v1::AuthorizeWebhookRequest& request,
                                              absl::Time now, absl::Time deadline,
                                              v1::AuthorizeWebhookResponse* response,
                                              std::function<void(absl::Status)> done,
                                              SubjectIds* subject_ids) const {
  const Snapshot profiles = profiles_.Get();  // read once: see the class comment
  bool shadow = false, decided = true;
  std::vector<SubjectValue> subjects;
  OwnershipStep read_step;
  absl::Status prepared =
      PrepareWebhook(profiles, request, now, response, &shadow, &decided, &subjects, &read_step);
  KeepSubjectIds(subjects, subject_ids);
  if (!prepared.ok() || decided) return done(std::move(prepared));
  if (!subjects.empty()) {
    return subjects_->AuthorizeAsync(std::move(subjects), request.expected_owner_id(), deadline,
                                     [this, shadow, response, done = std::move(done)](
                                         absl::StatusOr<OwnershipDecision> decision) {
                                       done(Complete(std::move(decision), shadow, ids_, response));
                                     });
  }
  authorizer_.AuthorizeAsync(
      response->event(), request.expected_owner_id(), deadline, ChainOf(profiles),
      [this, shadow, response, done = std::move(done)](absl::StatusOr<OwnershipDecision> decision) {
        done(Complete(std::move(decision), shadow, ids_, response));
      });
}

}  // namespace hookguard

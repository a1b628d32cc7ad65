// The whole decision flow of the three RPCs, with no gRPC in it: verify the
// raw bytes, parse only a verified body, authorize against ownership.
#ifndef HOOKGUARD_SERVER_DECISION_WEBHOOK_AUTHORIZER_H_
#define HOOKGUARD_SERVER_DECISION_WEBHOOK_AUTHORIZER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "hookguard/v1/hookguard.pb.h"
#include "server/audit/decision_id.h"
#include "server/decision/profile_holder.h"
#include "server/ownership/ownership_rules.h"
#include "server/ownership/subject_rules.h"

namespace hookguard {

struct WebhookAuthorizerOptions {
  // Bodies larger than this are refused with RESOURCE_EXHAUSTED before any
  // work is done.
  size_t max_body_bytes = 4 << 20;
};

// The subjects a body named, as (name, id) pairs in configuration order
// (present ones only): for the audit line.
using SubjectIds = std::vector<std::pair<std::string, std::string>>;

// Answers the three RPCs as values. A profile in shadow mode ("mode":
// "shadow") answers every decision as ALLOW / HTTP 200 and puts the decision
// enforcement would have given in shadow_decision and shadow_reason; errors
// stay errors. Returned statuses are what is not a
// decision (INVALID_ARGUMENT for an unknown profile, RESOURCE_EXHAUSTED for
// an oversized body, and the ownership store's UNAVAILABLE or
// DEADLINE_EXCEEDED); every decision, allow or deny, is OK with the response
// filled in. On a non-OK status the response must not be used.
// Each request reads the configuration once (ProfileHolder::Get): the
// profiles that verify it, a subject profile's subjects and the resolution
// chain that decide it (ProfileSet::spec().resolve) come from the same
// reload, whatever reload happens meanwhile. Thread-safe; holds no
// per-request state. The referenced objects are not owned and must outlive
// it.
//
// A profile with subjects (config profiles[].ownership.subjects) is
// authorized by them in AuthorizeWebhook: the subjects are read from the
// verified body (ReadSubjects) and decided by `subjects`
// (SubjectAuthorizer); every other profile by the call model (`authorizer`).
// AuthorizeCallEvent always uses the call model.
class WebhookAuthorizer {
 public:
  // `subjects` may be null when no profile has subjects: a subject profile
  // is then an INTERNAL error (fail closed).
  WebhookAuthorizer(const ProfileHolder& profiles, const CallEventAuthorizer& authorizer,
                    DecisionIdGenerator& ids, WebhookAuthorizerOptions options,
                    const SubjectAuthorizer* subjects = nullptr);

  // Verifies the signature at time `now`. Never parses the body.
  absl::Status VerifySignature(const v1::VerifySignatureRequest& request, absl::Time now,
                               v1::VerifySignatureResponse* response) const;

  // Authorizes an already extracted event; the database is given until
  // `deadline`. The default profile's mode applies (no profile is named).
  // `trace`, when not null, receives the ownership steps of this run
  // (CallEventAuthorizer::Authorize); left empty when no lookup ran.
  absl::Status AuthorizeCallEvent(const v1::AuthorizeCallEventRequest& request, absl::Time deadline,
                                  v1::AuthorizeCallEventResponse* response,
                                  std::vector<OwnershipStep>* trace = nullptr) const;

  // Verifies, then (only when VALID) parses, then authorizes. `trace` as in
  // AuthorizeCallEvent; for a subject profile it starts with the step
  // "read_subjects" (the ids read, or why the body is malformed), then the
  // subject steps (ApplySubjectRules). `subject_ids`, when not null,
  // receives the subjects the body named.
  absl::Status AuthorizeWebhook(const v1::AuthorizeWebhookRequest& request, absl::Time now,
                                absl::Time deadline, v1::AuthorizeWebhookResponse* response,
                                std::vector<OwnershipStep>* trace = nullptr,
                                SubjectIds* subject_ids = nullptr) const;

  // The asynchronous forms, which the service uses: `done` receives what the
  // blocking form returns, exactly once, on this thread or on the thread
  // where the ownership store answered (CallEventAuthorizer::AuthorizeAsync).
  // `request` and `response` must stay valid until then. No trace.
  void AuthorizeCallEventAsync(const v1::AuthorizeCallEventRequest& request, absl::Time deadline,
                               v1::AuthorizeCallEventResponse* response,
                               std::function<void(absl::Status)> done) const;
  // `subject_ids` as in AuthorizeWebhook: filled before `done` runs; it
  // must stay valid until then.
  void AuthorizeWebhookAsync(const v1::AuthorizeWebhookRequest& request, absl::Time now,
                             absl::Time deadline, v1::AuthorizeWebhookResponse* response,
                             std::function<void(absl::Status)> done,
                             SubjectIds* subject_ids = nullptr) const;

 private:
  using Snapshot = std::shared_ptr<const ProfileSet>;
  // The chain that decides a request verified under `profiles`: the one of
  // the same configuration (reload), or the authorizer's own when no
  // profile set is held.
  std::shared_ptr<const ResolvePolicy> ChainOf(const Snapshot& profiles) const;
  // Finds the profile in `profiles` and verifies; `*shadow` (when not null)
  // tells whether the profile is in shadow mode. `*subjects` (when not null)
  // receives the profile's subjects, from the same snapshot.
  absl::Status Verify(const Snapshot& profiles, const std::string& profile,
                      const v1::HttpRequest& request, absl::Time now, VerifyOutcome* outcome,
                      bool* shadow, std::vector<SubjectSpec>* subjects = nullptr) const;
  // The part before the ownership rules. False when it decided (a malformed
  // event): the response is complete.
  bool PrepareCallEvent(const Snapshot& profiles, const v1::AuthorizeCallEventRequest& request,
                        v1::AuthorizeCallEventResponse* response, bool* shadow) const;
  // Verifies and parses. `*decided` is false when the parsed event (in the
  // response) must go to the ownership rules, or, for a subject profile, the
  // `*subjects` read; otherwise the status and response are the answer.
  // `*read_step` describes the subjects read (or why they could not be).
  absl::Status PrepareWebhook(const Snapshot& profiles, const v1::AuthorizeWebhookRequest& request,
                              absl::Time now, v1::AuthorizeWebhookResponse* response, bool* shadow,
                              bool* decided, std::vector<SubjectValue>* subjects,
                              OwnershipStep* read_step) const;

  const ProfileHolder& profiles_;
  const CallEventAuthorizer& authorizer_;
  DecisionIdGenerator& ids_;
  const WebhookAuthorizerOptions options_;
  const SubjectAuthorizer* const subjects_;
};

}  // namespace hookguard

#endif  // HOOKGUARD_SERVER_DECISION_WEBHOOK_AUTHORIZER_H_

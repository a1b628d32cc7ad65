#include "server/ownership/subject_rules.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace hookguard {
namespace {

OwnershipStep Step(std::string name, OwnershipStep::Outcome outcome, std::string detail,
                   v1::DenyReason reason = v1::DENY_REASON_UNSPECIFIED) {
  OwnershipStep step;
  step.name = std::move(name);
  step.outcome = outcome;
  step.reason = reason;
  step.detail = std::move(detail);
  return step;
}

std::string Named(const SubjectValue& s) {
  return absl::StrCat("subject \"", s.name, "\" (", s.source, ")");
}

}  // namespace

const char* SubjectStepPrefix() { return "subject:"; }

std::optional<OwnershipDecision> ApplySubjectRules(absl::Span<const SubjectValue> subjects,
                                                   const SubjectOwners& owners,
                                                   absl::string_view expected_owner_id,
                                                   size_t* need,
                                                   std::vector<OwnershipStep>* trace) {
  using Outcome = OwnershipStep::Outcome;
  std::vector<OwnershipStep> steps;
  const bool tracing = trace != nullptr;
  // Ends the run with `decision`: the subjects from `next` on and the
  // remaining steps are reported as not reached.
  auto finish = [&](OwnershipDecision decision, size_t next, bool consistency_reached) {
    if (tracing) {
      for (size_t i = next; i < subjects.size(); ++i) {
        steps.push_back(Step(absl::StrCat(SubjectStepPrefix(), subjects[i].name), Outcome::kSkipped,
                             subjects[i].id.has_value() ? "not reached: an earlier step decided"
                                                        : "absent (optional)"));
      }
      if (!consistency_reached) {
        steps.push_back(
            Step("owner_consistency", Outcome::kSkipped, "not reached: an earlier step decided"));
      }
      steps.push_back(
          Step("expected_owner", Outcome::kSkipped, "not reached: an earlier step decided"));
      *trace = std::move(steps);
    }
    return std::optional<OwnershipDecision>(std::move(decision));
  };

  // Rules 1 and 2: what the body names.
  const SubjectValue* first = nullptr;
  for (const SubjectValue& s : subjects) {
    if (!s.id.has_value() && s.required) {
      return finish(
          DenyDecision(v1::DENY_REASON_MALFORMED_EVENT,
                       absl::StrCat("malformed event: ", Named(s), " is required and absent")),
          0, false);
    }
    if (first == nullptr && s.id.has_value()) first = &s;
  }
  if (first == nullptr) {
    return finish(DenyDecision(v1::DENY_REASON_MALFORMED_EVENT,
                               "malformed event: the body names none of the profile's subjects"),
                  0, false);
  }

  // Rules 3 to 5, subject by subject.
  const std::string* owner = nullptr;
  const SubjectValue* owner_subject = nullptr;
  for (size_t i = 0; i < subjects.size(); ++i) {
    const SubjectValue& s = subjects[i];
    const std::string step = absl::StrCat(SubjectStepPrefix(), s.name);
    if (!s.id.has_value()) {
      if (tracing) steps.push_back(Step(step, Outcome::kSkipped, "absent (optional)"));
      continue;
    }
    if (i >= owners.size() || !owners[i].has_value()) {
      *need = i;
      return std::nullopt;
    }
    const std::optional<std::string>& found = *owners[i];
    if (!found.has_value()) {
      std::string detail = absl::StrCat(Named(s), " '", *s.id, "': no row");
      if (tracing) {
        steps.push_back(Step(step, Outcome::kFail, detail, v1::DENY_REASON_SUBJECT_NOT_FOUND));
      }
      return finish(DenyDecision(v1::DENY_REASON_SUBJECT_NOT_FOUND, std::move(detail)), i + 1,
                    false);
    }
    if (found->empty()) {
      std::string detail = absl::StrCat(Named(s), " '", *s.id, "' has an empty owner");
      if (tracing) {
        steps.push_back(Step(step, Outcome::kFail, detail, v1::DENY_REASON_OWNER_MISMATCH));
      }
      return finish(DenyDecision(v1::DENY_REASON_OWNER_MISMATCH, std::move(detail)), i + 1, false);
    }
    if (tracing) {
      steps.push_back(Step(step, Outcome::kPass,
                           absl::StrCat("'", *s.id, "' belongs to owner '", *found, "'")));
    }
    if (owner == nullptr) {
      owner = &*found;
      owner_subject = &s;
    } else if (*owner != *found) {
      std::string detail = absl::StrCat(Named(*owner_subject), " belongs to owner '", *owner,
                                        "' and ", Named(s), " to owner '", *found, "'");
      if (tracing) {
        steps.push_back(
            Step("owner_consistency", Outcome::kFail, detail, v1::DENY_REASON_OWNER_CONFLICT));
      }
      return finish(DenyDecision(v1::DENY_REASON_OWNER_CONFLICT, std::move(detail)), i + 1, true);
    }
  }
  if (tracing) {
    steps.push_back(Step("owner_consistency", Outcome::kPass,
                         absl::StrCat("every present subject belongs to owner '", *owner, "'")));
  }

  // Rule 6.
  if (!expected_owner_id.empty() && expected_owner_id != *owner) {
    std::string detail =
        absl::StrCat("expected owner '", expected_owner_id, "' is not the owner '", *owner, "'");
    if (tracing) {
      steps.push_back(
          Step("expected_owner", Outcome::kFail, detail, v1::DENY_REASON_OWNER_MISMATCH));
      *trace = std::move(steps);
    }
    return DenyDecision(v1::DENY_REASON_OWNER_MISMATCH, std::move(detail));
  }
  if (tracing) {
    steps.push_back(Step("expected_owner",
                         expected_owner_id.empty() ? Outcome::kSkipped : Outcome::kPass,
                         expected_owner_id.empty() ? "no expected_owner_id given"
                                                   : "expected_owner_id is the owner"));
    *trace = std::move(steps);
  }
  OwnershipDecision allow;
  allow.decision = v1::DECISION_ALLOW;
  allow.owner_id = *owner;
  allow.resolved_by = v1::OWNER_SOURCE_SUBJECT;
  allow.resolved_subject = first->name;
  return allow;
}

struct SubjectAuthorizer::Run {
  const SubjectAuthorizer& self;
  std::vector<SubjectValue> subjects;
  absl::string_view expected_owner_id;
  absl::Time deadline;
  std::vector<OwnershipStep>* trace;
  std::function<void(absl::StatusOr<OwnershipDecision>)> done;
  SubjectOwners owners;
};

absl::StatusOr<OwnershipDecision> SubjectAuthorizer::Authorize(
    std::vector<SubjectValue> subjects, absl::string_view expected_owner_id, absl::Time deadline,
    std::vector<OwnershipStep>* trace) const {
  absl::Notification answered;
  absl::StatusOr<OwnershipDecision> decision = absl::UnknownError("subject lookups did not run");
  Continue(std::unique_ptr<Run>(new Run{*this,
                                        std::move(subjects),
                                        expected_owner_id,
                                        deadline,
                                        trace,
                                        [&](absl::StatusOr<OwnershipDecision> d) {
                                          decision = std::move(d);
                                          answered.Notify();
                                        },
                                        {}}));
  answered.WaitForNotification();
  return decision;
}

void SubjectAuthorizer::AuthorizeAsync(
    std::vector<SubjectValue> subjects, absl::string_view expected_owner_id, absl::Time deadline,
    std::function<void(absl::StatusOr<OwnershipDecision>)> done) const {
  Continue(std::unique_ptr<Run>(new Run{
      *this, std::move(subjects), expected_owner_id, deadline, nullptr, std::move(done), {}}));
}

void SubjectAuthorizer::Continue(std::unique_ptr<Run> run) {
  size_t need = 0;
  std::optional<OwnershipDecision> decided =
      ApplySubjectRules(run->subjects, run->owners, run->expected_owner_id, &need, run->trace);
  if (decided.has_value()) {
    auto done = std::move(run->done);
    run.reset();
    return done(*std::move(decided));
  }
  if (run->owners.size() < run->subjects.size()) run->owners.resize(run->subjects.size());
  Run* raw = run.release();
  const SubjectValue& subject = raw->subjects[need];
  // The id lives in `raw` until the answer comes.
  raw->self.store_.FindSubjectOwnerAsync(subject.query, *subject.id, raw->deadline,
                                         [raw, need](OwnerAnswer found) {
                                           std::unique_ptr<Run> run(raw);
                                           if (!found.ok()) {
                                             auto done = std::move(run->done);
                                             run.reset();
                                             return done(found.status());
                                           }
                                           run->owners[need] = *std::move(found);
                                           Continue(std::move(run));
                                         });
}

}  // namespace hookguard

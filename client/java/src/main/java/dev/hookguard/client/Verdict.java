package dev.hookguard.client;

import dev.hookguard.v1.AuthorizeWebhookResponse;
import dev.hookguard.v1.Decision;
import dev.hookguard.v1.DenyReason;
import dev.hookguard.v1.OwnerSource;
import dev.hookguard.v1.SignatureResult;
import io.grpc.Status;

/**
 * The answer for one webhook. Process the event only when {@link #allowed()}; answer the platform
 * with {@link #httpStatus()}. When no decision could be obtained (an RPC error) {@link #error()} is
 * the gRPC status code, {@code allowed()} is false and {@code httpStatus()} is 503; with {@code
 * failOpen(true)} {@code allowed()} is then true, {@code httpStatus()} 200 and {@code ownerId()}
 * empty ({@link #failedOpen()}). Immutable.
 */
public final class Verdict {
  /** Answered when hookguard gave no decision: the platform retries later. */
  public static final int UNAVAILABLE_HTTP_STATUS = 503;

  private final boolean allowed;
  private final Decision decision;
  private final DenyReason reason;
  private final String ownerId;
  private final int httpStatus;
  private final SignatureResult signature;
  private final String keyId;
  private final String decisionId;
  private final String detail;
  private final Status.Code error;
  private final OwnerSource resolvedBy;
  private final String deliveryKey;
  private final Decision shadowDecision;
  private final DenyReason shadowReason;
  private final String resolvedSubject;

  private Verdict(boolean allowed, Decision decision, DenyReason reason, String ownerId,
      int httpStatus, SignatureResult signature, String keyId, String decisionId, String detail,
      Status.Code error, OwnerSource resolvedBy, String deliveryKey, Decision shadowDecision,
      DenyReason shadowReason, String resolvedSubject) {
    this.allowed = allowed;
    this.decision = decision;
    this.reason = reason;
    this.ownerId = ownerId;
    this.httpStatus = httpStatus;
    this.signature = signature;
    this.keyId = keyId;
    this.decisionId = decisionId;
    this.detail = detail;
    this.error = error;
    this.resolvedBy = resolvedBy;
    this.deliveryKey = deliveryKey;
    this.shadowDecision = shadowDecision;
    this.shadowReason = shadowReason;
    this.resolvedSubject = resolvedSubject;
  }

  static Verdict fromResponse(AuthorizeWebhookResponse r) {
    boolean allowed = r.getDecision() == Decision.DECISION_ALLOW;
    int status = r.getHttpStatus();
    // Trust the server's status, but never answer 2xx for a deny, nor nothing.
    if (!allowed && (status == 0 || (status >= 200 && status < 300))) {
      status = 403;
    }
    if (allowed && status == 0) {
      status = 200;
    }
    return new Verdict(allowed, r.getDecision(), r.getReason(), allowed ? r.getOwnerId() : "",
        status, r.getSignature(), r.getKeyId(), r.getDecisionId(), r.getDetail(), null,
        r.getResolvedBy(), r.getDeliveryKey(), r.getShadowDecision(), r.getShadowReason(),
        r.getResolvedSubject());
  }

  static Verdict fromError(Throwable t) {
    Status s = Status.fromThrowable(t);
    return new Verdict(false, Decision.DECISION_UNSPECIFIED, DenyReason.DENY_REASON_UNSPECIFIED,
        "", UNAVAILABLE_HTTP_STATUS, SignatureResult.SIGNATURE_RESULT_UNSPECIFIED, "", "",
        s.getDescription() == null ? "" : s.getDescription(), s.getCode(),
        OwnerSource.OWNER_SOURCE_UNSPECIFIED, "", Decision.DECISION_UNSPECIFIED,
        DenyReason.DENY_REASON_UNSPECIFIED, "");
  }

  public boolean allowed() { return allowed; }
  public Decision decision() { return decision; }
  public DenyReason reason() { return reason; }
  /** The user the call belongs to; empty unless allowed. */
  public String ownerId() { return ownerId; }
  public int httpStatus() { return httpStatus; }
  public SignatureResult signature() { return signature; }
  public String keyId() { return keyId; }
  public String decisionId() { return decisionId; }
  public String detail() { return detail; }
  /** The gRPC status code when no decision was obtained, else null. */
  public Status.Code error() { return error; }
  /** Where ownerId came from: the call's row, or (no row yet) its phone number or assistant. */
  public OwnerSource resolvedBy() { return resolvedBy; }
  /** The same for every delivery of one event (retries included): deduplicate on it. */
  public String deliveryKey() { return deliveryKey; }
  /** Shadow mode: the decision enforcement would have given (UNSPECIFIED when enforcing). */
  public Decision shadowDecision() { return shadowDecision; }
  /** Shadow mode: the reason enforcement would have denied with. */
  public DenyReason shadowReason() { return shadowReason; }
  /** With resolvedBy OWNER_SOURCE_SUBJECT: the configured subject whose id named the owner. */
  public String resolvedSubject() { return resolvedSubject; }

  /**
   * True for the ALLOW of a profile in shadow mode that enforcement would have denied ({@link
   * #shadowReason()} says why): log it, do not block. {@link #ownerId()} is then set only if the
   * checks really found an owner.
   */
  public boolean shadowDeny() {
    return allowed && shadowDecision == Decision.DECISION_DENY;
  }

  /**
   * True when fail-open let the webhook through without any decision ({@link #error()} says why):
   * nothing was verified and {@link #ownerId()} is empty.
   */
  public boolean failedOpen() {
    return allowed && error != null;
  }

  /**
   * The fail-open answer for a verdict without a decision: let through, 200, no owner, error kept.
   * A decision (ALLOW or DENY) is returned unchanged.
   */
  Verdict openedOnFailure() {
    if (error == null || allowed) {
      return this;
    }
    return new Verdict(true, decision, reason, "", 200, signature, keyId, decisionId, detail,
        error, resolvedBy, deliveryKey, shadowDecision, shadowReason, "");
  }

  @Override
  public String toString() {
    return "Verdict{allowed=" + allowed + ", decision=" + decision + ", reason=" + reason
        + ", ownerId=" + ownerId + ", httpStatus=" + httpStatus + ", error=" + error
        + ", decisionId=" + decisionId + ", shadowDecision=" + shadowDecision
        + ", shadowReason=" + shadowReason + ", detail=" + detail + "}";
  }
}

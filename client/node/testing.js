'use strict';
// Test doubles for an app's own tests, without a hookguard server:
//
//   const { FakeHookguardClient, allow, deny } = require('@hookguard/client/testing');
//   const fake = new FakeHookguardClient(allow('42'));            // every call: ALLOW for 42
//   const fake2 = new FakeHookguardClient(allow('42'), deny());   // ALLOW, then DENY (repeats)
//   app.post('/webhooks/vapi', ...hookguardMiddleware(fake), handler);
//
// The fake records what it was asked in `calls`.

const { UNAVAILABLE_HTTP_STATUS, normalizeHeaders } = require('./index');

// The HTTP status hookguard answers with for each deny reason (else 403).
const DENY_STATUS = {
  DENY_REASON_MALFORMED_EVENT: 400,
  DENY_REASON_SIGNATURE_INVALID: 401,
  DENY_REASON_CALL_NOT_FOUND: 404,
};

function verdict(fields) {
  return {
    allowed: false,
    decision: 'DECISION_UNSPECIFIED',
    reason: 'DENY_REASON_UNSPECIFIED',
    ownerId: '',
    httpStatus: 403,
    signature: 'SIGNATURE_RESULT_VALID',
    keyId: '',
    messageId: '',
    decisionId: '',
    detail: '',
    error: null,
    resolvedBy: 'OWNER_SOURCE_UNSPECIFIED',
    deliveryKey: '',
    shadowDecision: 'DECISION_UNSPECIFIED',
    shadowReason: 'DENY_REASON_UNSPECIFIED',
    resolvedSubject: '',
    ...fields,
  };
}

/** An ALLOW for ownerId. */
function allow(ownerId = '1', fields = {}) {
  return verdict({ allowed: true, decision: 'DECISION_ALLOW', ownerId, httpStatus: 200,
    decisionId: 'fake-allow', resolvedBy: 'OWNER_SOURCE_CALL', ...fields });
}

/** A DENY with the HTTP status the server gives reason (400, 401, 404, else 403). */
function deny(reason = 'DENY_REASON_OWNER_MISMATCH', fields = {}) {
  return verdict({ decision: 'DECISION_DENY', reason, httpStatus: DENY_STATUS[reason] || 403,
    signature: reason === 'DENY_REASON_SIGNATURE_INVALID' ? 'SIGNATURE_RESULT_MISMATCH'
      : 'SIGNATURE_RESULT_VALID',
    decisionId: 'fake-deny', ...fields });
}

/** No decision (hookguard unreachable, deadline): what the client resolves to on an RPC error. */
function unavailable(error = 'UNAVAILABLE') {
  return verdict({ httpStatus: UNAVAILABLE_HTTP_STATUS, error,
    signature: 'SIGNATURE_RESULT_UNSPECIFIED' });
}

/** The ALLOW of a profile in shadow mode for a webhook that enforcement would deny with reason. */
function shadowDeny(reason = 'DENY_REASON_OWNER_MISMATCH', fields = {}) {
  return allow('', { decisionId: 'fake-shadow', resolvedBy: 'OWNER_SOURCE_UNSPECIFIED',
    shadowDecision: 'DECISION_DENY', shadowReason: reason, ...fields });
}

/** Stands in for HookguardClient: answers each call with the next verdict, the last one after. */
class FakeHookguardClient {
  constructor(...verdicts) {
    if (verdicts.length === 0) throw new Error('give at least one verdict (allow(), deny(), ...)');
    this.verdicts = verdicts;
    this.calls = [];
  }

  authorizeWebhook(body, headers, opts = {}) {
    if (typeof body === 'string') {
      return Promise.reject(new TypeError('hookguard: body must be the raw bytes (Buffer), not a string'));
    }
    this.calls.push({ body: Buffer.from(body || []), headers: normalizeHeaders(headers), ...opts });
    return Promise.resolve(this.verdicts[Math.min(this.calls.length, this.verdicts.length) - 1]);
  }

  close() {}
}

module.exports = { FakeHookguardClient, allow, deny, unavailable, shadowDeny };

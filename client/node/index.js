'use strict';
// hookguard client for Node.js: one call that asks hookguard whether a
// webhook may be processed. Fail closed: an RPC error (server down, deadline,
// any non-OK status) resolves to a verdict with allowed=false and
// httpStatus=503 (the platform retries later); it never rejects and never
// allows. Unless the client is made with failOpen: true: then such a verdict
// lets the webhook through unverified (allowed, httpStatus 200, ownerId '',
// error set) and a warning is logged. A decision is always obeyed.

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.join(__dirname, 'proto');
const DEFAULT_TIMEOUT_MS = 500;
const UNAVAILABLE_HTTP_STATUS = 503;
// The largest body the Express middleware passes on, in bytes: the server's
// own default limit (hookguard-server --max_body_bytes, 4 MiB). A larger body
// is answered 413 without asking hookguard.
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
// The response header in which the middleware hands back the decision id of
// a deny (the same id is in hookguard's audit log line).
const DECISION_ID_HEADER = 'Hookguard-Decision-Id';

// The gRPC service config every client uses unless channelOptions set
// 'grpc.service_config': round_robin over every address the target resolves
// to (a Kubernetes headless Service, dns:///hookguard-headless.NS.svc:50051,
// gives one per pod), and a call that fails UNAVAILABLE (a replica going
// away, a connection reset) retried on the next replica, up to 3 attempts and
// never past the call's deadline. All three RPCs only read, so a retry is safe.
const SERVICE_CONFIG = JSON.stringify({
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [{
    name: [{ service: 'hookguard.v1.WebhookAuthService' }],
    retryPolicy: {
      maxAttempts: 3,
      initialBackoff: '0.05s',
      maxBackoff: '0.2s',
      backoffMultiplier: 2,
      retryableStatusCodes: ['UNAVAILABLE'],
    },
  }],
});

let cachedPackage;
/** The loaded hookguard.v1 package (messages and the service constructor). */
function loadPackage() {
  if (!cachedPackage) {
    const def = protoLoader.loadSync('hookguard/v1/hookguard.proto', {
      includeDirs: [PROTO_ROOT],
      keepCase: true,
      enums: String,
      longs: String,
      defaults: true,
      oneofs: true,
    });
    cachedPackage = grpc.loadPackageDefinition(def).hookguard.v1;
  }
  return cachedPackage;
}

/** Headers as one string->string object; repeated names (arrays) joined with ", ". */
function normalizeHeaders(headers) {
  const out = {};
  if (!headers) return out;
  const entries = typeof headers.entries === 'function' && !(headers instanceof Array) &&
      typeof headers.forEach === 'function' && !(Object.getPrototypeOf(headers) === Object.prototype)
    ? Array.from(headers.entries())
    : Object.entries(headers);
  for (const [name, value] of entries) {
    if (value === undefined || value === null) continue;
    const v = Array.isArray(value) ? value.join(', ') : String(value);
    out[name] = name in out ? `${out[name]}, ${v}` : v;
  }
  return out;
}

function verdictFromResponse(resp) {
  const allowed = resp.decision === 'DECISION_ALLOW';
  let httpStatus = resp.http_status;
  // Trust the server's status, but never answer 2xx for a deny, nor nothing.
  if (!allowed && (!httpStatus || (httpStatus >= 200 && httpStatus < 300))) httpStatus = 403;
  if (allowed && !httpStatus) httpStatus = 200;
  return {
    allowed,
    decision: resp.decision,
    reason: resp.reason,
    ownerId: allowed ? resp.owner_id : '',
    httpStatus,
    signature: resp.signature,
    keyId: resp.key_id,
    messageId: resp.message_id,
    decisionId: resp.decision_id,
    detail: resp.detail,
    error: null,
    resolvedBy: resp.resolved_by,
    deliveryKey: resp.delivery_key,
    shadowDecision: resp.shadow_decision,
    shadowReason: resp.shadow_reason,
    resolvedSubject: resp.resolved_subject,
  };
}

function verdictFromError(err) {
  const name = err && typeof err.code === 'number'
    ? (Object.keys(grpc.status).find((k) => grpc.status[k] === err.code) || 'UNKNOWN')
    : 'UNKNOWN';
  return {
    allowed: false,
    decision: 'DECISION_UNSPECIFIED',
    reason: 'DENY_REASON_UNSPECIFIED',
    ownerId: '',
    httpStatus: UNAVAILABLE_HTTP_STATUS,
    signature: 'SIGNATURE_RESULT_UNSPECIFIED',
    keyId: '',
    messageId: '',
    decisionId: '',
    detail: (err && err.details) || String(err && err.message ? err.message : err),
    error: name,
    resolvedBy: 'OWNER_SOURCE_UNSPECIFIED',
    deliveryKey: '',
    shadowDecision: 'DECISION_UNSPECIFIED',
    shadowReason: 'DENY_REASON_UNSPECIFIED',
    resolvedSubject: '',
  };
}

/**
 * True for the ALLOW of a profile in shadow mode that enforcement would have
 * denied (verdict.shadowReason says why): log it, do not block. ownerId is
 * then set only if the checks really found an owner.
 */
function isShadowDeny(verdict) {
  return verdict.allowed && verdict.shadowDecision === 'DECISION_DENY';
}

/**
 * True when fail-open let the webhook through without any decision
 * (verdict.error says why): nothing was verified and the owner is unknown.
 */
function isFailedOpen(verdict) {
  return verdict.allowed && verdict.error != null;
}

/**
 * The fail-open answer for a verdict without a decision: let through, 200,
 * no owner, error kept. A decision (ALLOW or DENY) is returned unchanged:
 * fail-open never overrides one. Warns on `logger` (default console) every
 * time, with the error code and the profile; never the body, a header or a
 * secret.
 */
function failOpenVerdict(verdict, profile = '', logger = console) {
  if (verdict.error == null || verdict.allowed) return verdict;
  logger.warn(`hookguard gave no decision (${verdict.error}) for profile '${profile || ''}': ` +
    'fail-open lets the webhook through UNVERIFIED, with no owner');
  return { ...verdict, allowed: true, httpStatus: 200, ownerId: '' };
}

class HookguardClient {
  /**
   * @param {string} target "host:port", or "dns:///name:port" for a name with
   *   one address per replica (calls are spread over all of them and retried
   *   on UNAVAILABLE; see SERVICE_CONFIG).
   * @param {object} [options] timeoutMs (default 500); tls: {ca, cert, key}
   *   (PEM Buffers; cert+key for mTLS); credentials: grpc.ChannelCredentials
   *   (overrides tls); channelOptions: grpc channel options (with
   *   'grpc.service_config' they replace SERVICE_CONFIG); failOpen (default
   *   false: when hookguard gives no decision, let the webhook through with
   *   ownerId '' and error set, and warn on logger); logger (with warn();
   *   default console).
   * One client (one HTTP/2 connection) is meant to be shared by the process.
   */
  constructor(target, options = {}) {
    if (!target) throw new Error('hookguard: target is required');
    const pkg = loadPackage();
    let creds = options.credentials;
    if (!creds) {
      creds = options.tls
        ? grpc.credentials.createSsl(options.tls.ca || null, options.tls.key || null,
          options.tls.cert || null)
        : grpc.credentials.createInsecure();
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.failOpen = options.failOpen === true;
    this.logger = options.logger || console;
    this.stub = new pkg.WebhookAuthService(target, creds,
      { 'grpc.service_config': SERVICE_CONFIG, ...options.channelOptions });
  }

  /**
   * AuthorizeWebhook: signature, payload, ownership in one round trip.
   * @param {Buffer|Uint8Array} body the raw body, exactly as received.
   * @param {object} headers the request's headers (Node's req.headers works).
   * @param {object} [opts] profile, expectedOwnerId, method, url, timeoutMs.
   * @returns {Promise<object>} the verdict; never rejects for an RPC failure.
   */
  authorizeWebhook(body, headers, opts = {}) {
    if (typeof body === 'string') {
      return Promise.reject(new TypeError('hookguard: body must be the raw bytes (Buffer), not a string'));
    }
    const request = {
      profile: opts.profile || '',
      expected_owner_id: opts.expectedOwnerId || '',
      request: {
        body: Buffer.from(body || []),
        headers: normalizeHeaders(headers),
        method: opts.method || '',
        url: opts.url || '',
      },
    };
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const noDecision = (err) => {
      const v = verdictFromError(err);
      return this.failOpen ? failOpenVerdict(v, request.profile, this.logger) : v;
    };
    return new Promise((resolve) => {
      try {
        this.stub.AuthorizeWebhook(request, { deadline: Date.now() + timeoutMs }, (err, resp) => {
          resolve(err ? noDecision(err) : verdictFromResponse(resp));
        });
      } catch (err) {
        resolve(noDecision(err));
      }
    });
  }

  close() {
    this.stub.close();
  }
}

module.exports = {
  HookguardClient,
  isShadowDeny,
  isFailedOpen,
  failOpenVerdict,
  verdictFromError,
  DECISION_ID_HEADER,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TIMEOUT_MS,
  SERVICE_CONFIG,
  UNAVAILABLE_HTTP_STATUS,
  normalizeHeaders,
  loadPackage,
  PROTO_ROOT,
};

'use strict';
// Unit tests of the Node client against an in-process fake hookguard server
// (grpc-js Server): one test per failure mode, as Envoy's ext_authz tests.
const test = require('node:test');
const assert = require('node:assert/strict');
const grpc = require('@grpc/grpc-js');
const {
  HookguardClient, isFailedOpen, isShadowDeny, loadPackage, normalizeHeaders,
} = require('..');

async function fakeServer(impl) {
  let calls = 0;
  const counted = (call, cb) => { calls += 1; impl(call, cb); };
  const server = new grpc.Server();
  server.addService(loadPackage().WebhookAuthService.service, {
    VerifySignature: (call, cb) => cb({ code: grpc.status.UNIMPLEMENTED }),
    AuthorizeCallEvent: (call, cb) => cb({ code: grpc.status.UNIMPLEMENTED }),
    AuthorizeWebhook: counted,
  });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p))));
  // grpc-js before 1.10 (the client's floor is 1.8) serves only after start().
  const [major, minor] = require('@grpc/grpc-js/package.json').version.split('.').map(Number);
  if (major === 1 && minor < 10) server.start();
  return { server, target: `127.0.0.1:${port}`, calls: () => calls };
}

const allow = (call, cb) => cb(null, { decision: 'DECISION_ALLOW', owner_id: '1', http_status: 200 });
const unavailable = (call, cb) => cb({ code: grpc.status.UNAVAILABLE, details: 'going away' });

test('AuthorizationAllowed passes body bytes, headers and options through', async () => {
  let seen;
  const { server, target } = await fakeServer((call, cb) => {
    seen = call.request;
    cb(null, { decision: 'DECISION_ALLOW', owner_id: '1', http_status: 200,
      signature: 'SIGNATURE_RESULT_VALID', key_id: 'env' });
  });
  const client = new HookguardClient(target);
  const body = Buffer.from([0x7b, 0x00, 0xff, 0x7d]);
  const v = await client.authorizeWebhook(body, { 'X-Vapi-Signature': 'ab', 'x-multi': ['a', 'b'] },
    { profile: 'vapi', expectedOwnerId: '1' });
  assert.equal(v.allowed, true);
  assert.equal(v.ownerId, '1');
  assert.equal(v.httpStatus, 200);
  assert.equal(v.keyId, 'env');
  assert.equal(v.error, null);
  assert.deepEqual(Buffer.from(seen.request.body), body);
  assert.equal(seen.request.headers['X-Vapi-Signature'], 'ab');
  assert.equal(seen.request.headers['x-multi'], 'a, b');
  assert.equal(seen.profile, 'vapi');
  assert.equal(seen.expected_owner_id, '1');
  client.close();
  server.forceShutdown();
});

test('AuthorizationDenied mirrors the server http_status and hides owner', async () => {
  const { server, target } = await fakeServer((call, cb) => cb(null, {
    decision: 'DECISION_DENY', reason: 'DENY_REASON_ASSISTANT_MISMATCH', http_status: 403, owner_id: '2' }));
  const client = new HookguardClient(target);
  const v = await client.authorizeWebhook(Buffer.from('{}'), {});
  assert.equal(v.allowed, false);
  assert.equal(v.reason, 'DENY_REASON_ASSISTANT_MISMATCH');
  assert.equal(v.httpStatus, 403);
  assert.equal(v.ownerId, '');
  client.close();
  server.forceShutdown();
});

test('Shadow and resolution fields are passed on', async () => {
  const { server, target } = await fakeServer((call, cb) => cb(null, {
    decision: 'DECISION_ALLOW', http_status: 200, decision_id: 'd-1', resolved_by: 'OWNER_SOURCE_ASSISTANT',
    delivery_key: 'k-1', shadow_decision: 'DECISION_DENY', shadow_reason: 'DENY_REASON_OWNER_CONFLICT' }));
  const client = new HookguardClient(target);
  const v = await client.authorizeWebhook(Buffer.from('{}'), {});
  assert.equal(v.allowed, true);
  assert.equal(v.resolvedBy, 'OWNER_SOURCE_ASSISTANT');
  assert.equal(v.deliveryKey, 'k-1');
  assert.equal(v.shadowDecision, 'DECISION_DENY');
  assert.equal(v.shadowReason, 'DENY_REASON_OWNER_CONFLICT');
  assert.equal(isShadowDeny(v), true);
  const enforced = await fakeServer(allow);
  const client2 = new HookguardClient(enforced.target);
  const v2 = await client2.authorizeWebhook(Buffer.from('{}'), {});
  assert.equal(v2.shadowDecision, 'DECISION_UNSPECIFIED');
  assert.equal(isShadowDeny(v2), false);
  client.close();
  client2.close();
  server.forceShutdown();
  enforced.server.forceShutdown();
});

test('UnspecifiedDecisionIsDeny even with a 200 status', async () => {
  const { server, target } = await fakeServer((call, cb) => cb(null, { http_status: 200 }));
  const client = new HookguardClient(target);
  const v = await client.authorizeWebhook(Buffer.from('{}'), {});
  assert.equal(v.allowed, false);
  assert.equal(v.httpStatus, 403);
  client.close();
  server.forceShutdown();
});

test('ServerUnavailable fails closed with 503', async () => {
  const { server, target } = await fakeServer((call, cb) => cb({ code: grpc.status.UNAVAILABLE, details: 'db down' }));
  const client = new HookguardClient(target);
  const v = await client.authorizeWebhook(Buffer.from('{}'), {});
  assert.equal(v.allowed, false);
  assert.equal(v.httpStatus, 503);
  assert.equal(v.error, 'UNAVAILABLE');
  client.close();
  server.forceShutdown();
});

test('DeadlineExceeded fails closed with 503', async () => {
  const { server, target } = await fakeServer((call, cb) => setTimeout(() => cb(null, {
    decision: 'DECISION_ALLOW', owner_id: '1', http_status: 200 }), 400));
  const client = new HookguardClient(target, { timeoutMs: 100 });
  const v = await client.authorizeWebhook(Buffer.from('{}'), {});
  assert.equal(v.allowed, false);
  assert.equal(v.httpStatus, 503);
  assert.equal(v.error, 'DEADLINE_EXCEEDED');
  client.close();
  server.forceShutdown();
});

test('NoServerListening fails closed with 503', async () => {
  const target = '127.0.0.1:1';
  const rawBody = Buffer.from('{}');
  const headers = { 'x-vapi-signature': '00' };
  const handled = [];
  let status;
  // --- docs/reference/clients.md: Node.js ---
  const client = new HookguardClient(target, { timeoutMs: 500 }); // one per process
  const verdict = await client.authorizeWebhook(rawBody, headers); // never rejects
  if (!verdict.allowed) {
    status = verdict.httpStatus; // 401/403/404/400, or 503 when hookguard is unreachable
  } else {
    handled.push(verdict.ownerId); // process the event for this user only
    status = 200;
  }
  // --- end ---
  assert.equal(status, 503);
  assert.deepEqual(handled, []);
  client.close();
});

test('DefaultServiceConfig spreads calls over replicas and retries UNAVAILABLE on another', async () => {
  const down = await fakeServer(unavailable);
  const up = await fakeServer(allow);
  const client = new HookguardClient(`ipv4:${down.target},${up.target}`, { timeoutMs: 2000 });
  // Until both replicas are connected round_robin picks only the ready one: a call
  // can spend its three attempts on the failing one if it connects first (a loaded
  // machine). Warm up until each has answered a call.
  for (const deadline = Date.now() + 10000; (down.calls() === 0 || up.calls() === 0) && Date.now() < deadline;) {
    await client.authorizeWebhook(Buffer.from('{}'), {});
  }
  assert.ok(down.calls() > 0 && up.calls() > 0, 'both replicas connected');
  const [downBefore, upBefore] = [down.calls(), up.calls()];
  for (let i = 0; i < 20; i += 1) {
    const v = await client.authorizeWebhook(Buffer.from('{}'), {});
    assert.equal(v.allowed, true, JSON.stringify(v));
  }
  assert.equal(up.calls() - upBefore, 20);
  assert.ok(down.calls() > downBefore);
  client.close();
  down.server.forceShutdown();
  up.server.forceShutdown();
});

test('DefaultRetry stops after three attempts', async () => {
  const { server, target, calls } = await fakeServer(unavailable);
  const client = new HookguardClient(target, { timeoutMs: 2000 });
  const v = await client.authorizeWebhook(Buffer.from('{}'), {});
  assert.equal(v.httpStatus, 503);
  assert.equal(v.error, 'UNAVAILABLE');
  assert.equal(calls(), 3);
  client.close();
  server.forceShutdown();
});

test('StringBodyIsRejected: the raw bytes are required', async () => {
  const client = new HookguardClient('127.0.0.1:1');
  await assert.rejects(client.authorizeWebhook('{}', {}), TypeError);
  client.close();
});

test('normalizeHeaders accepts Map-like headers', () => {
  assert.deepEqual(normalizeHeaders(new Map([['a', '1'], ['b', '2']])), { a: '1', b: '2' });
});

test('bundled proto equals the contract in protos/', () => {
  const fs = require('node:fs');
  const path = require('node:path');
  const repoProto = path.join(__dirname, '..', '..', '..', 'protos', 'hookguard', 'v1', 'hookguard.proto');
  const bundled = path.join(__dirname, '..', 'proto', 'hookguard', 'v1', 'hookguard.proto');
  assert.equal(fs.readFileSync(bundled, 'utf8'), fs.readFileSync(repoProto, 'utf8'),
    'run npm run sync-proto');
});

// failOpen: off by default; on, a missing decision lets the webhook through
// with no owner and the error set (and a warning); a decision is obeyed.
test('FailOpen: an unreachable server lets through with the error set and no owner', async () => {
  const warned = [];
  const client = new HookguardClient('127.0.0.1:1', {
    timeoutMs: 300, failOpen: true, logger: { warn: (m) => warned.push(m) } });
  const v = await client.authorizeWebhook(Buffer.from('{"secret":"body"}'),
    { 'x-vapi-signature': 'sig-abc' }, { profile: 'vapi' });
  client.close();
  assert.deepEqual([v.allowed, v.httpStatus, v.ownerId, v.error, isFailedOpen(v)],
    [true, 200, '', 'UNAVAILABLE', true]);
  assert.equal(warned.length, 1);
  assert.match(warned[0], /UNAVAILABLE.*'vapi'.*fail-open/);
  assert.ok(!warned[0].includes('sig-abc') && !warned[0].includes('secret'));
});

test('FailOpen: a deadline lets through', async () => {
  const { server, target } = await fakeServer((call, cb) => setTimeout(() => cb(null, {
    decision: 'DECISION_DENY', http_status: 403 }), 400));
  const client = new HookguardClient(target, { timeoutMs: 100, failOpen: true, logger: { warn() {} } });
  const v = await client.authorizeWebhook(Buffer.from('{}'), {});
  client.close();
  server.forceShutdown();
  assert.deepEqual([v.allowed, v.error, v.ownerId], [true, 'DEADLINE_EXCEEDED', '']);
});

test('FailOpen: a DENY is still a deny, an ALLOW keeps its owner', async () => {
  const { server, target } = await fakeServer((call, cb) => cb(null, call.request.profile === 'a'
    ? { decision: 'DECISION_ALLOW', owner_id: '7', http_status: 200 }
    : { decision: 'DECISION_DENY', reason: 'DENY_REASON_OWNER_MISMATCH', http_status: 403 }));
  const client = new HookguardClient(target, { failOpen: true });
  const denied = await client.authorizeWebhook(Buffer.from('{}'), {}, { profile: 'd' });
  const allowed = await client.authorizeWebhook(Buffer.from('{}'), {}, { profile: 'a' });
  client.close();
  server.forceShutdown();
  assert.deepEqual([denied.allowed, denied.httpStatus, denied.error], [false, 403, null]);
  assert.deepEqual([allowed.allowed, allowed.ownerId, isFailedOpen(allowed)], [true, '7', false]);
});

test('FailOpen is off by default: 503', async () => {
  const client = new HookguardClient('127.0.0.1:1', { timeoutMs: 300 });
  const v = await client.authorizeWebhook(Buffer.from('{}'), {});
  client.close();
  assert.deepEqual([v.allowed, v.httpStatus, v.error], [false, 503, 'UNAVAILABLE']);
});

'use strict';
// failOpen: off by default; on, a missing decision lets the webhook through
// with no owner and the error set (and a warning); a decision is obeyed.
const test = require('node:test');
const assert = require('node:assert/strict');
const grpc = require('@grpc/grpc-js');
const { HookguardClient, isFailedOpen, loadPackage } = require('..');

async function fakeServer(handler) {
  const server = new grpc.Server();
  server.addService(loadPackage().WebhookAuthService.service, { AuthorizeWebhook: handler });
  const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0',
    grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { server, target: `127.0.0.1:${port}` };
}

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

'use strict';
// The Express middleware with the test double (no server): the deny header
// and hook, 503 on outages, shadow mode and the body limit, in a default app.
const test = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const { DEFAULT_MAX_BODY_BYTES } = require('..');
const { hookguardMiddleware } = require('../express');
const { FakeHookguardClient, allow, deny, unavailable, shadowDeny } = require('../testing');

const BODY = Buffer.from('{"message":{"type":"status-update","call":{"id":"c1"}}}');

async function serve(fake, options, fn) {
  const handled = [];
  const app = express();
  app.post('/webhooks/vapi', ...hookguardMiddleware(fake, options), (req, res) => {
    handled.push([req.hookguard.ownerId, req.body.length]);
    res.json({ ok: true });
  });
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  const post = (body = BODY) => fetch(`http://127.0.0.1:${server.address().port}/webhooks/vapi`,
    { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-vapi-signature': 'ab' } });
  try {
    await fn(post, handled);
  } finally {
    server.close();
  }
}

test('allow runs the handler with the owner and the raw body', async () => {
  const fake = new FakeHookguardClient(allow('42'));
  await serve(fake, { profile: 'vapi' }, async (post, handled) => {
    assert.equal((await post()).status, 200);
    assert.deepEqual(handled, [['42', BODY.length]]);
    assert.deepEqual(fake.calls[0].body, BODY);
    assert.equal(fake.calls[0].headers['x-vapi-signature'], 'ab');
    assert.equal(fake.calls[0].profile, 'vapi');
  });
});

test('deny answers the status, the reason and the decision id, and calls onDeny', async () => {
  const hook = [];
  const fake = new FakeHookguardClient(deny('DENY_REASON_CALL_NOT_FOUND', { decisionId: 'd-7' }));
  await serve(fake, { onDeny: (req, v) => hook.push([req.path, v.reason]) }, async (post, handled) => {
    const resp = await post();
    assert.equal(resp.status, 404);
    assert.equal(await resp.text(), 'DENY_REASON_CALL_NOT_FOUND');
    assert.equal(resp.headers.get('hookguard-decision-id'), 'd-7');
    assert.deepEqual(hook, [['/webhooks/vapi', 'DENY_REASON_CALL_NOT_FOUND']]);
    assert.deepEqual(handled, []);
  });
});

test('a failing onDeny hook does not change the answer', async () => {
  const warned = [];
  const options = { onDeny: () => { throw new Error('app bug'); }, logger: { warn: (m) => warned.push(m) } };
  await serve(new FakeHookguardClient(deny()), options, async (post) => {
    assert.equal((await post()).status, 403);
    assert.equal(warned.length, 1);
  });
});

test('an outage is 503 "hookguard unavailable" without a decision id', async () => {
  await serve(new FakeHookguardClient(unavailable('DEADLINE_EXCEEDED')), {}, async (post, handled) => {
    const resp = await post();
    assert.equal(resp.status, 503);
    assert.equal(await resp.text(), 'hookguard unavailable');
    assert.equal(resp.headers.get('hookguard-decision-id'), null);
    assert.deepEqual(handled, []);
  });
});

test('a shadow-mode ALLOW runs the handler and logs the would-be deny', async () => {
  const warned = [];
  const fake = new FakeHookguardClient(shadowDeny('DENY_REASON_OWNER_MISMATCH', { decisionId: 'd-s' }));
  await serve(fake, { logger: { warn: (m) => warned.push(m) } }, async (post, handled) => {
    assert.equal((await post()).status, 200);
    assert.deepEqual(handled, [['', BODY.length]]);
    assert.equal(warned.length, 1);
    assert.match(warned[0], /DENY_REASON_OWNER_MISMATCH.*d-s/);
    assert.ok(!warned[0].includes('status-update'), 'the body is never logged');
  });
});

for (const limit of [DEFAULT_MAX_BODY_BYTES, 10]) {
  test(`body limit ${limit}: the limit passes, one byte more is 413`, async () => {
    const fake = new FakeHookguardClient(allow());
    await serve(fake, limit === DEFAULT_MAX_BODY_BYTES ? {} : { limit }, async (post, handled) => {
      assert.equal((await post(Buffer.alloc(limit, 'x'))).status, 200);
      const over = await post(Buffer.alloc(limit + 1, 'x'));
      assert.equal(over.status, 413);
      assert.equal(await over.text(), `request body over ${limit} bytes`);
      assert.deepEqual(fake.calls.map((c) => c.body.length), [limit]);
      assert.equal(handled.length, 1);
    });
  });
}

test('the fake answers in order, then repeats the last', async () => {
  await serve(new FakeHookguardClient(allow('1'), deny()), {}, async (post) => {
    const codes = [];
    for (let i = 0; i < 3; i += 1) codes.push((await post()).status);
    assert.deepEqual(codes, [200, 403, 403]);
  });
});

'use strict';
// The app's own tests: no hookguard server, the test double instead.
const test = require('node:test');
const assert = require('node:assert/strict');
const { FakeHookguardClient, allow, deny, unavailable } = require('@hookguard/client/testing');
const { makeApp } = require('../app');

const EVENT = '{"message": {"type": "status-update", "call": {"id": "call_1"}}}';

async function post(verdict) {
  const fake = new FakeHookguardClient(verdict);
  const server = await new Promise((resolve) => {
    const s = makeApp(fake).listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const resp = await fetch(`http://127.0.0.1:${server.address().port}/webhooks/vapi`,
      { method: 'POST', body: EVENT, headers: { 'content-type': 'application/json' } });
    assert.deepEqual(fake.calls.map((c) => c.body.toString()), [EVENT]);
    return resp;
  } finally {
    server.close();
  }
}

test('an allowed event is handled for its owner', async () => {
  const resp = await post(allow('42'));
  assert.equal(resp.status, 200);
  assert.deepEqual(await resp.json(), { owner: '42', type: 'status-update' });
});

test('a denied event is refused with its decision id', async () => {
  const resp = await post(deny('DENY_REASON_OWNER_MISMATCH', { decisionId: 'd-1' }));
  assert.equal(resp.status, 403);
  assert.equal(resp.headers.get('hookguard-decision-id'), 'd-1');
});

test('an outage is 503', async () => {
  assert.equal((await post(unavailable())).status, 503);
});

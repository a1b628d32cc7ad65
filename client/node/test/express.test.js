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

// --- failOpen -------------------------------------------------------------------

test('failOpen: no decision runs the handler with no owner and the error set', async () => {
  const warned = [];
  const seen = [];
  const app = express();
  app.post('/w', ...hookguardMiddleware(new FakeHookguardClient(unavailable('UNAVAILABLE')),
    { failOpen: true, logger: { warn: (m) => warned.push(m) } }), (req, res) => {
    seen.push([req.hookguard.ownerId, req.hookguard.verdict.error]);
    res.json({ ok: true });
  });
  await withApp(app, async (url) => {
    assert.equal((await fetch(`${url}/w`, { method: 'POST', body: BODY })).status, 200);
  });
  assert.deepEqual(seen, [['', 'UNAVAILABLE']]);
  assert.equal(warned.length, 1);
  assert.match(warned[0], /fail-open/);
});

test('failOpen: a client that rejects is also let through', async () => {
  const throwing = { authorizeWebhook: async () => { throw new Error('boom'); } };
  await serve(throwing, { failOpen: true, logger: { warn() {} } }, async (post, handled) => {
    assert.equal((await post()).status, 200);
    assert.deepEqual(handled, [['', BODY.length]]);
  });
});

test('failOpen: a deny is still a deny; off, an outage is still 503', async () => {
  await serve(new FakeHookguardClient(deny()), { failOpen: true }, async (post, handled) => {
    assert.equal((await post()).status, 403);
    assert.deepEqual(handled, []);
  });
  await serve(new FakeHookguardClient(unavailable()), { failOpen: false }, async (post, handled) => {
    assert.equal((await post()).status, 503);
    assert.deepEqual(handled, []);
  });
});

// --- capture --------------------------------------------------------------------

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { captureToDirectory } = require('../capture');

test('capture: a deny and a shadow would-deny land in the directory, an allow does not', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-express-'));
  const fake = new FakeHookguardClient(deny('DENY_REASON_CALL_NOT_FOUND', { decisionId: 'd-1' }),
    shadowDeny('DENY_REASON_OWNER_MISMATCH', { decisionId: 'd-2' }), allow(), unavailable());
  await serve(fake, { capture: captureToDirectory(dir), profile: 'vapi', logger: { warn() {} } },
    async (post) => {
      const codes = [];
      for (let i = 0; i < 4; i += 1) codes.push((await post()).status);
      assert.deepEqual(codes, [404, 200, 200, 503]);
    });
  const recs = fs.readdirSync(dir).sort().map((f) => JSON.parse(fs.readFileSync(path.join(dir, f))));
  assert.deepEqual(recs.map((r) => r.decision_id).sort(), ['d-1', 'd-2']);
  for (const r of recs) {
    assert.deepEqual(Buffer.from(r.body_base64, 'base64'), BODY);
    assert.equal(r.headers['x-vapi-signature'], 'ab');
    assert.equal(r.profile, 'vapi');
    assert.match(r.url, /^http:\/\/127\.0\.0\.1:\d+\/webhooks\/vapi$/);
  }
});

test('capture: a hook that throws or rejects never changes the answer', async () => {
  const warned = [];
  for (const hook of [() => { throw new Error('disk full'); }, async () => { throw new Error('disk full'); }]) {
    await serve(new FakeHookguardClient(deny(), shadowDeny()),
      { capture: hook, logger: { warn: (m) => warned.push(m) } }, async (post, handled) => {
        assert.equal((await post()).status, 403);
        assert.equal((await post()).status, 200);
        assert.equal(handled.length, 1);
      });
  }
  assert.equal(warned.filter((m) => m.includes('capture hook failed')).length, 4);
});

// --- a global JSON parser -----------------------------------------------------------

const { rawBodySaver } = require('../express');

async function withApp(app, fn) {
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  try {
    await fn(`http://127.0.0.1:${server.address().port}`);
  } finally {
    server.close();
  }
}

function globalJsonApp(fake, jsonOptions, warned) {
  const handled = [];
  const app = express();
  app.use(express.json(jsonOptions));
  app.post('/webhooks/vapi', ...hookguardMiddleware(fake, { logger: { warn: (m) => warned.push(m) } }),
    (req, res) => {
      handled.push([req.hookguard.ownerId, req.body.message.type]);
      res.json({ ok: true });
    });
  return { app, handled };
}

test('global express.json() with rawBodySaver: the raw bytes are verified, req.body stays parsed', async () => {
  const fake = new FakeHookguardClient(allow('42'));
  const { app, handled } = globalJsonApp(fake, { verify: rawBodySaver }, []);
  const body = Buffer.from('{ "message" : {"type":"status-update"} }');  // not what JSON.stringify gives
  await withApp(app, async (url) => {
    const resp = await fetch(`${url}/webhooks/vapi`, { method: 'POST', body,
      headers: { 'content-type': 'application/json' } });
    assert.equal(resp.status, 200, await resp.text());
  });
  assert.deepEqual(fake.calls[0].body, body);
  assert.deepEqual(handled, [['42', 'status-update']]);
});

test('global express.json() without rawBodySaver: 500 with a message that names the fix', async () => {
  const warned = [];
  const fake = new FakeHookguardClient(allow('42'));
  const { app, handled } = globalJsonApp(fake, {}, warned);
  await withApp(app, async (url) => {
    const resp = await fetch(`${url}/webhooks/vapi`, { method: 'POST', body: BODY,
      headers: { 'content-type': 'application/json' } });
    assert.equal(resp.status, 500);
    const text = await resp.text();
    assert.match(text, /raw body unavailable/);
    assert.match(text, /verify: require\('@hookguard\/client\/express'\)\.rawBodySaver/);
  });
  assert.equal(fake.calls.length, 0);
  assert.deepEqual(handled, []);
  assert.equal(warned.length, 1);
});

// The full URL goes to hookguard (a twilio profile verifies it); forwarded
// headers count only under Express's own 'trust proxy'.
for (const [name, trustProxy, headers, want] of [
  ['direct', undefined, {}, 'http://127.0.0.1:PORT/webhooks/vapi?tenant=acme'],
  ['forwarded headers ignored without trust proxy', undefined,
    { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'hooks.example.com' },
    'http://127.0.0.1:PORT/webhooks/vapi?tenant=acme'],
  ['forwarded headers under trust proxy', 'loopback',
    { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'hooks.example.com:8443' },
    'https://hooks.example.com:8443/webhooks/vapi?tenant=acme'],
  ['trust proxy of another address', '10.0.0.1',
    { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'hooks.example.com' },
    'http://127.0.0.1:PORT/webhooks/vapi?tenant=acme'],
]) {
  test(`the full URL is sent: ${name}`, async () => {
    const fake = new FakeHookguardClient(allow('42'));
    const app = express();
    if (trustProxy !== undefined) app.set('trust proxy', trustProxy);
    app.post('/webhooks/vapi', ...hookguardMiddleware(fake), (req, res) => res.json({ ok: true }));
    const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
    const port = server.address().port;
    try {
      const resp = await fetch(`http://127.0.0.1:${port}/webhooks/vapi?tenant=acme`, {
        method: 'POST', body: BODY, headers: { 'content-type': 'application/json', ...headers },
      });
      assert.equal(resp.status, 200);
      assert.equal(fake.calls[0].url, want.replace('PORT', port));
      assert.equal(fake.calls[0].method, 'POST');
    } finally {
      server.close();
    }
  });
}

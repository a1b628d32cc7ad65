'use strict';
// End-to-end: a real Express server (listening on a loopback port) guarded by
// @hookguard/client/express, against the live server at HOOKGUARD_TARGET.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { createRequire } = require('node:module');

const crypto = require('node:crypto');

const clientDir = path.join(__dirname, '..', '..', '..', 'client', 'node');
const express = createRequire(path.join(clientDir, 'package.json'))('express');
const { HookguardClient, DEFAULT_MAX_BODY_BYTES } = require(clientDir);
const { hookguardMiddleware } = require(path.join(clientDir, 'express'));

const { vectors, secrets_env: secretsEnv } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'contract', 'vectors.json'), 'utf8'));
const byName = Object.fromEntries(vectors.map((v) => [v.name, v]));
const target = process.env.HOOKGUARD_TARGET;

function makeApp(client, handled) {
  // --- docs/guides/express.md: route ------------------------------------------------
  const app = express();
  app.post('/webhooks/vapi', ...hookguardMiddleware(client), (req, res) => {
    const event = JSON.parse(req.body);          // req.body is the raw Buffer
    handled.push([req.hookguard.ownerId, event.message.type]);
    res.json({ ok: true });
  });
  // --- end ---------------------------------------------------------------------
  return app;
}

async function listen(app) {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function post(server, name) {
  const v = byName[name];
  const body = v.body_base64 !== undefined ? Buffer.from(v.body_base64, 'base64') : Buffer.from(v.body, 'utf8');
  const { port } = server.address();
  return fetch(`http://127.0.0.1:${port}/webhooks/vapi`, { method: 'POST', body, headers: v.headers });
}

// An end-of-call report for alice's call (allowed) of exactly `size` bytes,
// signed with the contract's secret for the default profile.
function signedReport(size) {
  const head = '{"message":{"type":"end-of-call-report","call":{"id":"call_alice_1","assistantId":"asst_alice"},"transcript":"';
  const tail = '"}}';
  const body = Buffer.from(head + 'a'.repeat(size - head.length - tail.length) + tail);
  const sig = crypto.createHmac('sha256', secretsEnv.HOOKGUARD_CONTRACT_SECRET).update(body).digest('hex');
  return { body, headers: { 'x-vapi-signature': sig, 'content-type': 'application/json' } };
}

async function postRaw(server, { body, headers }) {
  const { port } = server.address();
  return fetch(`http://127.0.0.1:${port}/webhooks/vapi`, { method: 'POST', body, headers });
}

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

test('HOOKGUARD_TARGET is set', () => assert.ok(target, 'HOOKGUARD_TARGET is required'));

test('allowed webhook runs the handler with the owner id', async () => {
  const handled = [];
  const client = new HookguardClient(target);
  const server = await listen(makeApp(client, handled));
  try {
    const resp = await post(server, 'allow_message_shape');
    assert.equal(resp.status, 200, await resp.text());
    assert.deepEqual(handled, [['1', 'status-update']]);
  } finally {
    server.close();
    client.close();
  }
});

test('attacks get the contract status and the handler does not run', async () => {
  const handled = [];
  const client = new HookguardClient(target);
  const server = await listen(makeApp(client, handled));
  try {
    for (const name of ['threat1_cross_user_assistant', 'threat8_phone_owned_by_other_user',
      'threat5_missing_signature', 'threat10_sql_injection_or']) {
      const resp = await post(server, name);
      assert.equal(resp.status, byName[name].expect.http_status, name);
    }
    assert.deepEqual(handled, []);
  } finally {
    server.close();
    client.close();
  }
});

test('a deny carries the decision id', async () => {
  const client = new HookguardClient(target);
  const server = await listen(makeApp(client, []));
  try {
    const resp = await post(server, 'threat8_phone_owned_by_other_user');
    assert.equal(resp.status, 403);
    assert.equal(await resp.text(), 'DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH');
    assert.ok(resp.headers.get('hookguard-decision-id').length > 8);
  } finally {
    server.close();
    client.close();
  }
});

test('body limit boundary matches the server: 4 MiB passes, one byte more is 413', async () => {
  const handled = [];
  const client = new HookguardClient(target, { timeoutMs: 5000 });
  const server = await listen(makeApp(client, handled));
  try {
    assert.equal((await postRaw(server, signedReport(DEFAULT_MAX_BODY_BYTES))).status, 200);
    assert.equal((await postRaw(server, signedReport(DEFAULT_MAX_BODY_BYTES + 1))).status, 413);
    assert.deepEqual(handled, [['1', 'end-of-call-report']]);
  } finally {
    server.close();
    client.close();
  }
});

test('unreachable hookguard answers 503', async () => {
  const handled = [];
  const client = new HookguardClient(`127.0.0.1:${await freePort()}`, { timeoutMs: 300 });
  const server = await listen(makeApp(client, handled));
  try {
    const resp = await post(server, 'allow_message_shape');
    assert.equal(resp.status, 503);
    assert.equal(await resp.text(), 'hookguard unavailable');
    assert.deepEqual(handled, []);
  } finally {
    server.close();
    client.close();
  }
});

test('shadow mode lets every webhook through and logs the would-be denies', async () => {
  const handled = [];
  const warnings = [];
  const client = new HookguardClient(target);
  const app = express();
  const profile = byName.shadow_allowed_call.profile;
  app.post('/webhooks/vapi', ...hookguardMiddleware(client, { profile, logger: { warn: (m) => warnings.push(m) } }),
    (req, res) => {
      handled.push([req.hookguard.ownerId, req.hookguard.verdict.decisionId]);
      res.json({ ok: true });
    });
  const server = await listen(app);
  try {
    for (const name of ['shadow_allowed_call', 'shadow_cross_user_assistant', 'shadow_forged_signature']) {
      const { expect } = byName[name];
      assert.equal(byName[name].profile, profile, name);
      warnings.length = 0;
      const resp = await post(server, name);
      assert.equal(resp.status, 200, name);
      const [ownerId, decisionId] = handled[handled.length - 1];
      assert.equal(ownerId, expect.owner_id, name);
      if (expect.shadow_decision === 'DECISION_DENY') {
        assert.equal(warnings.length, 1, name);
        assert.ok(warnings[0].includes(expect.shadow_reason) && warnings[0].includes(decisionId) &&
          decisionId.length > 8, warnings[0]);
      } else {
        assert.deepEqual(warnings, [], name);
      }
    }
    assert.equal(handled.length, 3);
  } finally {
    server.close();
    client.close();
  }
});

const { rawBodySaver } = require(path.join(clientDir, 'express'));
const { captureToDirectory } = require(path.join(clientDir, 'capture'));
const os = require('node:os');

test('unreachable hookguard with failOpen runs the handler with the error set and no owner', async () => {
  const seen = [];
  const warnings = [];
  const client = new HookguardClient(`127.0.0.1:${await freePort()}`, { timeoutMs: 300 });
  const app = express();
  app.post('/webhooks/vapi', ...hookguardMiddleware(client, {
    failOpen: true, logger: { warn: (m) => warnings.push(m) } }), (req, res) => {
    seen.push([req.hookguard.ownerId, req.hookguard.verdict.error]);
    res.json({ ok: true });
  });
  const server = await listen(app);
  try {
    assert.equal((await post(server, 'allow_message_shape')).status, 200);
    assert.deepEqual(seen, [['', 'UNAVAILABLE']]);
    assert.equal(warnings.length, 1);
    assert.ok(!warnings[0].includes(byName.allow_message_shape.headers['x-vapi-signature']));
  } finally {
    server.close();
    client.close();
  }
});

test('failOpen still obeys the server: an attack is denied', async () => {
  const seen = [];
  const client = new HookguardClient(target);
  const app = express();
  app.post('/webhooks/vapi', ...hookguardMiddleware(client, { failOpen: true }), (req, res) => {
    seen.push(req.hookguard.ownerId);
    res.json({ ok: true });
  });
  const server = await listen(app);
  try {
    assert.equal((await post(server, 'threat1_cross_user_assistant')).status, 403);
    assert.deepEqual(seen, []);
  } finally {
    server.close();
    client.close();
  }
});

test('a global express.json({ verify: rawBodySaver }) app: allowed, attacked and captured', async () => {
  const handled = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-capture-'));
  const client = new HookguardClient(target);
  const app = express();
  app.use(express.json({ verify: rawBodySaver }));
  app.post('/webhooks/vapi', ...hookguardMiddleware(client, { capture: captureToDirectory(dir) }),
    (req, res) => {
      handled.push([req.hookguard.ownerId, req.body.message.type]);  // req.body: parsed JSON
      res.json({ ok: true });
    });
  const server = await listen(app);
  try {
    assert.equal((await post(server, 'allow_message_shape')).status, 200);
    assert.equal((await post(server, 'threat1_cross_user_assistant')).status, 403);
    assert.deepEqual(handled, [['1', 'status-update']]);
    const files = fs.readdirSync(dir);
    assert.equal(files.length, 1);
    const rec = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
    assert.equal(fs.statSync(path.join(dir, files[0])).mode & 0o777, 0o600);
    assert.equal(Buffer.from(rec.body_base64, 'base64').toString('utf8'), byName.threat1_cross_user_assistant.body);
    assert.equal(rec.reason, 'DENY_REASON_ASSISTANT_MISMATCH');
  } finally {
    server.close();
    client.close();
  }
});

test('a global express.json() without rawBodySaver: 500 naming the fix, never a decision', async () => {
  const client = new HookguardClient(target);
  const app = express();
  app.use(express.json());
  app.post('/webhooks/vapi', ...hookguardMiddleware(client, { logger: { warn() {} } }), (req, res) => res.json({}));
  const server = await listen(app);
  try {
    const resp = await post(server, 'allow_message_shape');
    assert.equal(resp.status, 500);
    assert.match(await resp.text(), /rawBodySaver/);
  } finally {
    server.close();
    client.close();
  }
});

// Twilio signs the URL it called (https://hooks.example.com/...); this app
// listens on http://127.0.0.1:PORT behind a TLS-terminating proxy, so the
// signature verifies once Express's own 'trust proxy' lets the middleware take
// the scheme and host from X-Forwarded-Proto/Host, and never without it.
for (const [name, trustProxy, want] of [
  ['behind a trusted proxy', 'loopback', 'SIGNATURE_RESULT_VALID'],
  ['forwarded headers not trusted', undefined, 'SIGNATURE_RESULT_MISMATCH'],
]) {
  test(`a Twilio delivery through Express: ${name}`, async () => {
    const v = byName.twilio_status_callback;
    const signed = new URL(v.url);
    const client = new HookguardClient(target);
    const seen = [];
    const app = express();
    if (trustProxy !== undefined) app.set('trust proxy', trustProxy);
    // As Twilio apps usually have it: a global form parser, the raw bytes kept.
    app.use(express.urlencoded({ extended: false, verify: rawBodySaver }));
    app.post('/twilio/voice/status', ...hookguardMiddleware(client, {
      profile: 'twilio', onDeny: (req, verdict) => seen.push(verdict),
    }), (req, res) => {
      seen.push(req.hookguard.verdict);
      res.type('text/xml').send('<Response/>');
    });
    const server = await listen(app);
    try {
      const { port } = server.address();
      await fetch(`http://127.0.0.1:${port}${signed.pathname}${signed.search}`, {
        method: 'POST',
        body: Buffer.from(v.body, 'utf8'),
        headers: { ...v.headers, 'x-forwarded-proto': 'https', 'x-forwarded-host': signed.host },
      });
      assert.equal(seen.length, 1);
      assert.equal(seen[0].signature, want, seen[0].detail);
      if (want === 'SIGNATURE_RESULT_VALID') assert.equal(seen[0].keyId, 'twilio-primary');
    } finally {
      server.close();
      client.close();
    }
  });
}

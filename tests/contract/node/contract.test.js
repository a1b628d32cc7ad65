'use strict';
// Contract runner for the Node client: every vector of ../vectors.json against
// the live server at HOOKGUARD_TARGET (started by tests/contract/run.sh).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { HookguardClient, isShadowDeny } = require('../../../client/node');

const { vectors } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'vectors.json'), 'utf8'));
const target = process.env.HOOKGUARD_TARGET;

test('HOOKGUARD_TARGET is set', () => {
  assert.ok(target, 'HOOKGUARD_TARGET (host:port of a running hookguard-server) is required');
});

if (target) {
  const client = new HookguardClient(target, { timeoutMs: 5000 });
  test.after(() => client.close());
  for (const v of vectors) {
    test(v.name, async () => {
      const body = v.body_base64 !== undefined ? Buffer.from(v.body_base64, 'base64') : Buffer.from(v.body, 'utf8');
      const got = await client.authorizeWebhook(body, v.headers, {
        profile: v.profile, expectedOwnerId: v.expected_owner_id, method: v.method, url: v.url,
      });
      const actual = {
        decision: got.decision, reason: got.reason, http_status: got.httpStatus, owner_id: got.ownerId,
        signature: got.signature, key_id: got.keyId, error: got.error, resolved_by: got.resolvedBy,
        delivery_key: got.deliveryKey, shadow_decision: got.shadowDecision, shadow_reason: got.shadowReason,
        resolved_subject: got.resolvedSubject,
      };
      // Every expect key, and only those; a key this runner cannot read fails.
      const seen = {};
      for (const k of Object.keys(v.expect)) {
        assert.ok(k in actual, `unknown expect key ${k}`);
        seen[k] = actual[k];
      }
      assert.deepEqual(seen, v.expect, `${v.description} (detail: ${got.detail})`);
      assert.equal(got.allowed, v.expect.decision === 'DECISION_ALLOW');
      assert.equal(isShadowDeny(got), v.expect.shadow_decision === 'DECISION_DENY');
    });
  }
}

// The client's TLS options against the server with mutual TLS (run.py).
const tlsTarget = process.env.HOOKGUARD_TLS_TARGET;
test('HOOKGUARD_TLS_TARGET is set', () => assert.ok(tlsTarget, 'HOOKGUARD_TLS_* are required'));
if (tlsTarget) {
  const allow = vectors.find((v) => v.name === 'allow_message_shape');
  const read = (name) => fs.readFileSync(process.env[name]);
  test('mutual TLS client is allowed', async () => {
    const client = new HookguardClient(tlsTarget, {
      timeoutMs: 5000,
      tls: { ca: read('HOOKGUARD_TLS_CA'), cert: read('HOOKGUARD_TLS_CERT'), key: read('HOOKGUARD_TLS_KEY') },
    });
    const v = await client.authorizeWebhook(Buffer.from(allow.body), allow.headers);
    client.close();
    assert.deepEqual([v.allowed, v.ownerId, v.httpStatus], [true, '1', 200], v.detail);
  });
  test('TLS without a client certificate fails closed', async () => {
    const client = new HookguardClient(tlsTarget, { timeoutMs: 5000, tls: { ca: read('HOOKGUARD_TLS_CA') } });
    const v = await client.authorizeWebhook(Buffer.from(allow.body), allow.headers);
    client.close();
    assert.deepEqual([v.allowed, v.httpStatus], [false, 503]);
    assert.ok(v.error);
  });
}

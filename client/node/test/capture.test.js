'use strict';
// The capture file format (hookguard-capture/v1): exact keys, exact bytes,
// mode 0600, atomic write.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { CAPTURE_FORMAT, makeCapture, writeCapture, shouldCapture, captureRecord } = require('../capture');
const { allow, deny, shadowDeny, unavailable } = require('../testing');

const KEYS = ['format', 'captured_at', 'profile', 'method', 'url', 'headers', 'body_base64',
  'expected_owner_id', 'decision', 'shadow_decision', 'reason', 'http_status', 'decision_id'];
const BODY = Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0xfe]), Buffer.from('{"message":{}}')]);

function tmpdir() { return fs.mkdtempSync(path.join(os.tmpdir(), 'hg-capture-')); }

test('the file has exactly the format keys and the raw bytes, mode 0600, nothing else left', async () => {
  const dir = tmpdir();
  const c = makeCapture(BODY, { 'X-Signature': 's1', 'x-timestamp': ['1', '2'] },
    deny('DENY_REASON_CALL_NOT_FOUND', { decisionId: '0123abcd' }),
    { profile: 'vapi', method: 'POST', url: 'https://app/webhooks/vapi', expectedOwnerId: '42' });
  const file = await writeCapture(path.join(dir, 'sub'), c);
  assert.match(path.basename(file), /^\d{8}T\d{6}Z-0123abcd\.json$/);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)]);
  const rec = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.deepEqual(Object.keys(rec), KEYS);
  assert.equal(rec.format, CAPTURE_FORMAT);
  assert.match(rec.captured_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(Buffer.from(rec.body_base64, 'base64'), BODY);
  assert.deepEqual(rec.headers, { 'x-signature': 's1', 'x-timestamp': '1, 2' });
  assert.deepEqual([rec.decision, rec.shadow_decision, rec.reason, rec.http_status, rec.decision_id],
    ['DECISION_DENY', 'DECISION_UNSPECIFIED', 'DENY_REASON_CALL_NOT_FOUND', 404, '0123abcd']);
  assert.deepEqual([rec.profile, rec.method, rec.url, rec.expected_owner_id],
    ['vapi', 'POST', 'https://app/webhooks/vapi', '42']);
});

test('an unsafe decision id gets a random file name inside the directory', async () => {
  const dir = tmpdir();
  const file = await writeCapture(dir, makeCapture(BODY, {}, deny('DENY_REASON_OWNER_MISMATCH',
    { decisionId: '../../x' })));
  assert.equal(path.dirname(file), dir);
  assert.match(path.basename(file), /^\d{8}T\d{6}Z-[0-9a-f]{16}\.json$/);
});

test('a shadow record names the shadow reason', () => {
  const rec = captureRecord(makeCapture(BODY, {}, shadowDeny('DENY_REASON_OWNER_MISMATCH')));
  assert.deepEqual([rec.decision, rec.shadow_decision, rec.reason, rec.http_status],
    ['DECISION_ALLOW', 'DECISION_DENY', 'DENY_REASON_OWNER_MISMATCH', 200]);
});

test('only denies and would-be denies are captured', () => {
  assert.deepEqual([deny(), shadowDeny(), allow(), unavailable()].map(shouldCapture),
    [true, true, false, false]);
});

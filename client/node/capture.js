'use strict';
// Keeping the raw deliveries that were denied, or that shadow mode would
// have denied, so that `hookguard explain --capture=FILE` can replay them.
//
//   const { captureToDirectory } = require('@hookguard/client/capture');
//   hookguardMiddleware(client, { capture: captureToDirectory('/var/lib/app/hookguard-captures') });
//
// A capture hook is called with a capture ({body, headers, verdict, profile,
// method, url, expectedOwnerId}) for every DENY and every shadow-mode ALLOW
// that enforcement would have denied; never for an allow, nor when hookguard
// gave no decision. A hook that throws (or rejects) never changes the answer.
//
// A capture file holds the signature headers and the body: secrets-bearing
// data. writeCapture writes it with mode 0600, atomically (a temporary file
// renamed into place), one delivery per file, format hookguard-capture/v1.

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { normalizeHeaders, isShadowDeny } = require('./index');

const CAPTURE_FORMAT = 'hookguard-capture/v1';
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** True for a DENY and for a shadow-mode ALLOW that enforcement would deny. */
function shouldCapture(verdict) {
  return verdict.decision === 'DECISION_DENY' || isShadowDeny(verdict);
}

/** A capture, header names lowercased (repeated names joined with ", "). */
function makeCapture(body, headers, verdict, opts = {}) {
  const lowered = {};
  for (const [name, value] of Object.entries(normalizeHeaders(headers))) {
    const key = name.toLowerCase();
    lowered[key] = key in lowered ? `${lowered[key]}, ${value}` : value;
  }
  return {
    body: Buffer.from(body || []),
    headers: lowered,
    verdict,
    profile: opts.profile || '',
    method: opts.method || '',
    url: opts.url || '',
    expectedOwnerId: opts.expectedOwnerId || '',
  };
}

function utc(date, compact) {
  const iso = date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return compact ? iso.replace(/[-:]/g, '') : iso;
}

/** The capture file's JSON object (format hookguard-capture/v1). */
function captureRecord(capture, now = new Date()) {
  const v = capture.verdict;
  const headers = {};
  for (const [k, val] of Object.entries(capture.headers)) headers[k.toLowerCase()] = val;
  return {
    format: CAPTURE_FORMAT,
    captured_at: utc(now, false),
    profile: capture.profile || '',
    method: capture.method || '',
    url: capture.url || '',
    headers,
    body_base64: Buffer.from(capture.body).toString('base64'),
    expected_owner_id: capture.expectedOwnerId || '',
    decision: v.decision,
    shadow_decision: v.shadowDecision || 'DECISION_UNSPECIFIED',
    reason: v.decision === 'DECISION_DENY' ? v.reason : (v.shadowReason || 'DENY_REASON_UNSPECIFIED'),
    http_status: v.httpStatus,
    decision_id: v.decisionId || '',
  };
}

/**
 * Writes `capture` into `directory` (created 0700 if missing) as
 * <yyyymmddThhmmssZ>-<decisionId or random>.json, mode 0600, atomically.
 * @returns {Promise<string>} the file's path.
 */
async function writeCapture(directory, capture) {
  const now = new Date();
  const record = captureRecord(capture, now);
  await fs.promises.mkdir(directory, { recursive: true, mode: 0o700 });
  const id = SAFE_ID.test(record.decision_id) ? record.decision_id : crypto.randomBytes(8).toString('hex');
  let file = path.join(directory, `${utc(now, true)}-${id}.json`);
  if (fs.existsSync(file)) file = file.replace(/\.json$/, `-${crypto.randomBytes(4).toString('hex')}.json`);
  const tmp = path.join(directory, `.capture-${crypto.randomBytes(8).toString('hex')}.tmp`);
  const handle = await fs.promises.open(tmp, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(`${JSON.stringify(record, null, 1)}\n`);
    await handle.sync();
    await handle.close();
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await handle.close().catch(() => {});
    await fs.promises.unlink(tmp).catch(() => {});
    throw err;
  }
  return file;
}

/** A capture hook that writes each capture into `directory` (writeCapture). */
function captureToDirectory(directory) {
  const hook = (capture) => writeCapture(directory, capture);
  hook.directory = directory;
  return hook;
}

/**
 * Calls `hook` with makeCapture(...) when the verdict is worth capturing, and
 * waits for it. An error (thrown or rejected) is logged with the decision id
 * only and swallowed: the answer never depends on it.
 */
async function callCapture(hook, makeFn, verdict, logger = console) {
  if (!hook || !shouldCapture(verdict)) return;
  try {
    await hook(makeFn());
  } catch (err) {
    logger.warn(`hookguard capture hook failed (decision_id ${verdict.decisionId}): ${err && err.message}`);
  }
}

module.exports = {
  CAPTURE_FORMAT, shouldCapture, makeCapture, captureRecord, writeCapture, captureToDirectory,
  callCapture,
};

'use strict';
// Express middleware: reads the raw body with express.raw(), asks hookguard,
// and either hands the request on with req.hookguard = {ownerId, verdict}
// or answers the verdict's HTTP status without calling the next handler:
// the reason as text and the decision id in the Hookguard-Decision-Id header,
// or 503 "hookguard unavailable" when hookguard could not be asked. A profile
// in shadow mode is let through, its would-be deny logged.

const { DECISION_ID_HEADER, DEFAULT_MAX_BODY_BYTES, isShadowDeny } = require('./index');

/**
 * @param {import('./index').HookguardClient} client (or a test double: ./testing)
 * @param {object} [options] profile; expectedOwnerId(req) => string; limit
 *   (bytes, or an express.raw size string; default 4 MiB as the server:
 *   larger bodies are 413); onDeny(req, verdict) (called for every webhook
 *   not let through, before the answer); logger (with warn(); default
 *   console: shadow-mode lines); express (the express module, if it is not
 *   resolvable from here).
 * @returns {Function[]} [express.raw(...), check]: use as app.post(path, ...mw, handler).
 */
function hookguardMiddleware(client, options = {}) {
  const express = options.express || require('express');
  const logger = options.logger || console;
  const limit = options.limit ?? DEFAULT_MAX_BODY_BYTES;
  const parse = express.raw({ type: () => true, limit });
  // A body over the limit is answered here (not by the app's error handler).
  function raw(req, res, next) {
    parse(req, res, (err) => {
      if (err && err.type === 'entity.too.large') {
        res.status(413).type('text/plain').send(`request body over ${err.limit} bytes`);
        return;
      }
      next(err);
    });
  }
  function deny(req, res, verdict) {
    if (options.onDeny) {
      try {
        options.onDeny(req, verdict);
      } catch (err) {
        logger.warn(`hookguard onDeny hook failed (decision_id ${verdict.decisionId}): ${err}`);
      }
    }
    if (verdict.decisionId) res.set(DECISION_ID_HEADER, verdict.decisionId);
    res.status(verdict.httpStatus).type('text/plain')
      .send(verdict.error ? 'hookguard unavailable' : verdict.reason);
  }
  async function check(req, res, next) {
    // A body already parsed to an object by another parser is not the raw
    // body any more: refuse rather than re-serialise (it would not verify).
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (req.body !== undefined && !Buffer.isBuffer(req.body) &&
        !(typeof req.body === 'object' && Object.keys(req.body).length === 0)) {
      res.status(500).type('text/plain').send('hookguard: raw body unavailable');
      return;
    }
    let verdict;
    try {
      verdict = await client.authorizeWebhook(body, req.headers, {
        profile: options.profile,
        expectedOwnerId: options.expectedOwnerId ? options.expectedOwnerId(req) : '',
        method: req.method,
      });
    } catch (err) {
      res.status(503).type('text/plain').send('hookguard unavailable');
      return;
    }
    if (!verdict.allowed) {
      deny(req, res, verdict);
      return;
    }
    if (isShadowDeny(verdict)) {
      logger.warn('hookguard shadow mode: let through a webhook that enforcement would deny ' +
        `(${verdict.shadowReason}, decision_id ${verdict.decisionId})`);
    }
    req.hookguard = { ownerId: verdict.ownerId, verdict };
    next();
  }
  return [raw, check];
}

module.exports = { hookguardMiddleware };

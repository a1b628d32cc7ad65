'use strict';
// Express middleware: reads the raw body with express.raw(), asks hookguard,
// and either hands the request on with req.hookguard = {ownerId, verdict}
// or answers the verdict's HTTP status without calling the next handler
// (503 when hookguard could not be asked).

/**
 * @param {import('./index').HookguardClient} client
 * @param {object} [options] profile; expectedOwnerId(req) => string; limit
 *   (express.raw body limit, default '2mb'); express (the express module, if
 *   it is not resolvable from here).
 * @returns {Function[]} [express.raw(...), check]: use as app.post(path, ...mw, handler).
 */
function hookguardMiddleware(client, options = {}) {
  const express = options.express || require('express');
  const raw = express.raw({ type: () => true, limit: options.limit || '2mb' });
  async function check(req, res, next) {
    try {
      // A body already parsed to an object by another parser is not the raw
      // body any more: refuse rather than re-serialise (it would not verify).
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (req.body !== undefined && !Buffer.isBuffer(req.body) &&
          !(typeof req.body === 'object' && Object.keys(req.body).length === 0)) {
        res.status(500).type('text/plain').send('hookguard: raw body unavailable');
        return;
      }
      const verdict = await client.authorizeWebhook(body, req.headers, {
        profile: options.profile,
        expectedOwnerId: options.expectedOwnerId ? options.expectedOwnerId(req) : '',
        method: req.method,
      });
      if (!verdict.allowed) {
        res.status(verdict.httpStatus).type('text/plain').send(verdict.reason || verdict.error || 'denied');
        return;
      }
      req.hookguard = { ownerId: verdict.ownerId, verdict };
      next();
    } catch (err) {
      res.status(503).type('text/plain').send('hookguard: unavailable');
    }
  }
  return [raw, check];
}

module.exports = { hookguardMiddleware };

'use strict';
// Express middleware: reads the raw body with express.raw(), asks hookguard,
// and either hands the request on with req.hookguard = {ownerId, verdict}
// or answers the verdict's HTTP status without calling the next handler:
// the reason as text and the decision id in the Hookguard-Decision-Id header,
// or 503 "hookguard unavailable" when hookguard could not be asked (with
// failOpen: true the handler runs instead, ownerId '' and verdict.error set).
// A profile in shadow mode is let through, its would-be deny logged.
//
// Behind a global JSON parser, pass rawBodySaver as its verify function
// (app.use(express.json({ verify: rawBodySaver }))): the parser keeps the
// raw bytes in req.rawBody and the middleware verifies those.
//
// hookguard is sent the request's method and full URL (requestUrl), which a
// `twilio` profile verifies: Twilio signs the URL it called. Behind a proxy
// that terminates TLS or changes the host, set Express's own 'trust proxy'
// (app.set('trust proxy', 'loopback') or the proxy's address): the URL then
// takes its scheme from X-Forwarded-Proto and its host from X-Forwarded-Host,
// as req.protocol and req.hostname do. Without it they are ignored.

const {
  DECISION_ID_HEADER, DEFAULT_MAX_BODY_BYTES, isShadowDeny, failOpenVerdict, verdictFromError,
} = require('./index');
const { callCapture, makeCapture } = require('./capture');

// What the middleware answers when a body parser ran before it without
// rawBodySaver: the bytes the platform signed are gone.
const RAW_BODY_UNAVAILABLE = 'hookguard: raw body unavailable: a body parser (e.g. a global ' +
  'express.json()) read the body before hookguard. Keep the raw bytes with ' +
  "app.use(express.json({ verify: require('@hookguard/client/express').rawBodySaver })), " +
  'or register the webhook route before the parser.';

/**
 * The `verify` function of express.json(), express.urlencoded() or
 * express.text(): keeps the raw bytes the parser read in req.rawBody, which
 * the middleware then verifies. app.use(express.json({ verify: rawBodySaver })).
 */
function rawBodySaver(req, _res, buf) {
  req.rawBody = buf;
}

/**
 * The full URL the platform called: req.protocol (X-Forwarded-Proto under
 * 'trust proxy'), the host with its port (X-Forwarded-Host's first value
 * under 'trust proxy', as Express's own req.hostname reads it, else Host),
 * and req.originalUrl (path and query as sent).
 */
function requestUrl(req) {
  let host = req.get('host') || '';
  const forwarded = req.get('x-forwarded-host');
  const trust = req.app && req.app.get('trust proxy fn');
  if (forwarded && trust && trust(req.socket && req.socket.remoteAddress, 0)) {
    host = forwarded.split(',')[0].trim();
  }
  return `${req.protocol}://${host}${req.originalUrl}`;
}

/**
 * @param {import('./index').HookguardClient} client (or a test double: ./testing)
 * @param {object} [options] profile; expectedOwnerId(req) => string; limit
 *   (bytes, or an express.raw size string; default 4 MiB as the server:
 *   larger bodies are 413); onDeny(req, verdict) (called for every webhook
 *   not let through, before the answer); failOpen (default false: when
 *   hookguard gives no decision, run the handler with ownerId '' and
 *   verdict.error set, and warn); capture(capture) (called, and awaited,
 *   with every denied or shadow-would-deny delivery: see ./capture's
 *   captureToDirectory); logger (with warn(); default console: shadow-mode
 *   and fail-open lines); express (the express module, if it is not
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
  // The raw bytes: req.rawBody (rawBodySaver), else the Buffer express.raw
  // left in req.body; null when another parser consumed them.
  function rawBody(req) {
    if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
    if (Buffer.isBuffer(req.body)) return req.body;
    if (req.body === undefined ||
        (typeof req.body === 'object' && req.body !== null && Object.keys(req.body).length === 0)) {
      return Buffer.alloc(0);  // no body at all
    }
    return null;
  }
  async function check(req, res, next) {
    // A body already parsed to an object by another parser is not the raw
    // body any more: refuse rather than re-serialise (it would not verify).
    const body = rawBody(req);
    if (body === null) {
      logger.warn(RAW_BODY_UNAVAILABLE);
      res.status(500).type('text/plain').send(RAW_BODY_UNAVAILABLE);
      return;
    }
    const profile = options.profile || '';
    const expectedOwnerId = options.expectedOwnerId ? options.expectedOwnerId(req) : '';
    const url = requestUrl(req);
    let verdict;
    try {
      verdict = await client.authorizeWebhook(body, req.headers, {
        profile, expectedOwnerId, method: req.method, url,
      });
    } catch (err) {
      verdict = verdictFromError(err);
    }
    if (options.failOpen) verdict = failOpenVerdict(verdict, profile, logger);
    await callCapture(options.capture, () => makeCapture(body, req.headers, verdict, {
      profile, method: req.method, expectedOwnerId, url,
    }), verdict, logger);
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

module.exports = { hookguardMiddleware, rawBodySaver, requestUrl, RAW_BODY_UNAVAILABLE };

'use strict';
// The fresh Express app: one webhook route guarded by hookguard.
const express = require('express');
const { hookguardMiddleware } = require('@hookguard/client/express');

function makeApp(client) {
  const app = express();
  app.post('/webhooks/vapi', ...hookguardMiddleware(client), (req, res) => {
    const event = JSON.parse(req.body); // the raw Buffer
    res.json({ owner: req.hookguard.ownerId, type: event.message.type });
  });
  return app;
}

module.exports = { makeApp };

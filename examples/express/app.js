'use strict';
// An Express app with a global JSON parser and its VAPI webhook behind
// hookguard. The hookguard lines are marked.
const express = require('express');
const { HookguardClient } = require('@hookguard/client');                        // hookguard
const { hookguardMiddleware, rawBodySaver } = require('@hookguard/client/express'); // hookguard
const { captureToDirectory } = require('@hookguard/client/capture');             // hookguard

// One client per process. failOpen: when hookguard cannot answer, the
// webhook is let through with no owner (and a warning), so nothing is lost
// while the profile runs in shadow mode. Once enforcing, decide whether an
// outage should cost you unverified webhooks (true) or retries (false).
// --- docs/guides/express.md: app ---
const hookguard = new HookguardClient(process.env.HOOKGUARD_TARGET || '127.0.0.1:50051');
const guard = hookguardMiddleware(hookguard, {
  profile: 'vapi',
  failOpen: true,
  capture: captureToDirectory(process.env.HOOKGUARD_CAPTURE_DIR || 'hookguard-captures'),
});

const app = express();
app.use(express.json({ verify: rawBodySaver }));  // hookguard: keeps the raw bytes

app.post('/webhooks/vapi', ...guard, (req, res) => {
  const { ownerId, verdict } = req.hookguard;   // ownerId '' in shadow mode or fail-open
  const event = req.body.message;               // parsed by express.json()
  // Act for the owner hookguard found, never for an id from the body.
  res.json({ owner: ownerId, type: event.type, error: verdict.error,
    shadowDeny: verdict.shadowDecision === 'DECISION_DENY' });
});
// --- end ---

const port = Number(process.env.PORT || 3000);
app.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));

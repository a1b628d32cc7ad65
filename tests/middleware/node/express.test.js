'use strict';
// End-to-end: a real Express server (listening on a loopback port) guarded by
// @hookguard/client/express, against the live server at HOOKGUARD_TARGET.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { createRequire } = require('node:module');

const clientDir = path.join(__dirname, '..', '..', '..', 'client', 'node');
const express = createRequire(path.join(clientDir, 'package.json'))('express');
const { HookguardClient } = require(clientDir);
const { hookguardMiddleware } = require(path.join(clientDir, 'express'));

const { vectors } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'contract', 'vectors.json'), 'utf8'));
const byName = Object.fromEntries(vectors.map((v) => [v.name, v]));
const target = process.env.HOOKGUARD_TARGET;

function makeApp(client, handled) {
  // --- docs/clients.md: Express ------------------------------------------------
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

test('unreachable hookguard answers 503', async () => {
  const handled = [];
  const client = new HookguardClient(`127.0.0.1:${await freePort()}`, { timeoutMs: 300 });
  const server = await listen(makeApp(client, handled));
  try {
    const resp = await post(server, 'allow_message_shape');
    assert.equal(resp.status, 503);
    assert.deepEqual(handled, []);
  } finally {
    server.close();
    client.close();
  }
});

// Node's JSON.parse, read as an Express handler reads a VAPI event
// (JSON.parse(req.body) on the raw Buffer). Usage: node read_node.js BODIES.
// Output and reading rule: see read_python.py.
'use strict';
const fs = require('fs');

const text = (v) => {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
};
const member = (parent, key) => {
  const v = parent !== null && typeof parent === 'object' ? parent[key] : undefined;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
};

function read(raw) {
  const root = JSON.parse(raw.toString('utf8'));
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new Error('root is not an object');
  }
  const event = member(root, 'message') || root;
  const call = member(event, 'call');
  const assistant = call !== undefined
    ? call.assistantId
    : (member(event, 'chat') || member(event, 'session') || {}).assistantId;
  const phone = (call || {}).phoneNumberId || (member(event, 'phoneNumber') || {}).id;
  return { call: text((call || {}).id), assistant: text(assistant), phone: text(phone) };
}

const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l !== '');
lines.forEach((line, i) => {
  const out = { reader: 'node JSON.parse', i };
  try {
    Object.assign(out, read(Buffer.from(line, 'base64')));
  } catch (err) {
    out.error = String(err);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});

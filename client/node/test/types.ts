// Compiled by `tsc -p test/tsconfig.json`: the declarations describe the API.
import { HookguardClient, Verdict } from '..';
import { hookguardMiddleware } from '../express';
import express from 'express';

const client = new HookguardClient('hookguard:50051', { timeoutMs: 500, tls: { ca: Buffer.from('') } });
async function use(body: Buffer): Promise<number> {
  const v: Verdict = await client.authorizeWebhook(body, { 'x-vapi-signature': 'ab' }, { profile: 'vapi' });
  return v.allowed ? 200 : v.httpStatus;
}
const app = express();
app.post('/webhook', ...hookguardMiddleware(client), (req, res) => {
  const owner: string | undefined = req.hookguard?.ownerId;
  res.json({ owner });
});
void use;

// The test double and the middleware's options.
import { FakeHookguardClient, allow, deny, shadowDeny, unavailable } from '../testing';
import { DECISION_ID_HEADER, isShadowDeny } from '..';
const fake = new FakeHookguardClient(allow('42'), deny('DENY_REASON_OWNER_CONFLICT'), unavailable(), shadowDeny());
app.post('/fake', ...hookguardMiddleware(fake, {
  limit: 4 * 1024 * 1024,
  onDeny: (req, v) => { req.get(DECISION_ID_HEADER); void v.decisionId; },
  logger: console,
}), (req, res) => {
  const v: Verdict | undefined = req.hookguard?.verdict;
  res.json({ shadow: v ? isShadowDeny(v) : false, key: v?.deliveryKey, by: v?.resolvedBy });
});
void fake.calls.length;

// Fail-open, the capture hook and rawBodySaver.
import { isFailedOpen } from '..';
import { rawBodySaver } from '../express';
import { captureToDirectory, writeCapture, makeCapture, Capture } from '../capture';
const open = new HookguardClient('hookguard:50051', { failOpen: true, logger: console });
void open.failOpen;
const app2 = express();
app2.use(express.json({ verify: rawBodySaver }));
app2.post('/webhooks/vapi', ...hookguardMiddleware(open, {
  profile: 'vapi-hmac',
  failOpen: true,
  capture: captureToDirectory('/var/lib/app/captures'),
}), (req, res) => {
  const v = req.hookguard?.verdict;
  const raw: Buffer | undefined = req.rawBody;
  res.json({ failedOpen: v ? isFailedOpen(v) : false, n: raw?.length });
});
async function keep(body: Buffer, v: Verdict): Promise<string> {
  const c: Capture = makeCapture(body, { 'x-signature': 'ab' }, v, { profile: 'vapi' });
  return writeCapture('/tmp/captures', c);
}
void keep;

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

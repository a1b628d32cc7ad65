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

import type { RequestHandler, Request } from 'express';
import type { HookguardClient, Verdict } from './index';

export interface HookguardExpressOptions {
  profile?: string;
  /** The user the route acts for, if it knows one. */
  expectedOwnerId?: (req: Request) => string;
  /** express.raw() body limit. Default '2mb'. */
  limit?: string | number;
  /** The express module, when it is not resolvable from this package. */
  express?: any;
}

declare global {
  namespace Express {
    interface Request {
      /** Set by hookguardMiddleware when hookguard allowed the webhook. */
      hookguard?: { ownerId: string; verdict: Verdict };
    }
  }
}

/** [express.raw(...), check]: app.post('/webhook', ...hookguardMiddleware(client), handler). */
export function hookguardMiddleware(client: HookguardClient, options?: HookguardExpressOptions): RequestHandler[];

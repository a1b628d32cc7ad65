import type { RequestHandler, Request } from 'express';
import type { AuthorizeOptions, HeadersLike, Verdict } from './index';

/** HookguardClient, or a test double (FakeHookguardClient of ./testing). */
export interface Authorizer {
  authorizeWebhook(body: Buffer | Uint8Array, headers: HeadersLike, opts?: AuthorizeOptions): Promise<Verdict>;
}

export interface HookguardExpressOptions {
  profile?: string;
  /** The user the route acts for, if it knows one. */
  expectedOwnerId?: (req: Request) => string;
  /** Body limit (bytes, or an express.raw size string). Default 4 MiB, the server's; larger is 413. */
  limit?: string | number;
  /** Called for every webhook not let through (deny, or 503 without a decision), before the answer. */
  onDeny?: (req: Request, verdict: Verdict) => void;
  /** Where shadow-mode lines go. Default console. */
  logger?: { warn(message: string): void };
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
export function hookguardMiddleware(client: Authorizer, options?: HookguardExpressOptions): RequestHandler[];

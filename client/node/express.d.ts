import type { RequestHandler, Request } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthorizeOptions, HeadersLike, Verdict } from './index';
import type { CaptureHook } from './capture';

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
  /**
   * Default false. When hookguard gives no decision, run the handler anyway with ownerId '' and
   * verdict.error set (a warning is logged). A decision (ALLOW or DENY) is always obeyed.
   */
  failOpen?: boolean;
  /** Called (and awaited) with every denied or shadow-would-deny delivery; errors are logged, never change the answer. */
  capture?: CaptureHook;
  /** Where shadow-mode and fail-open lines go. Default console. */
  logger?: { warn(message: string): void };
  /** The express module, when it is not resolvable from this package. */
  express?: any;
}

declare global {
  namespace Express {
    interface Request {
      /** Set by hookguardMiddleware when hookguard allowed the webhook. */
      hookguard?: { ownerId: string; verdict: Verdict };
      /** The raw body, kept by rawBodySaver. */
      rawBody?: Buffer;
    }
  }
}

/** [express.raw(...), check]: app.post('/webhook', ...hookguardMiddleware(client), handler). */
export function hookguardMiddleware(client: Authorizer, options?: HookguardExpressOptions): RequestHandler[];

/** express.json({ verify: rawBodySaver }): keeps the raw body in req.rawBody for the middleware. */
export function rawBodySaver(req: IncomingMessage, res: ServerResponse, buf: Buffer): void;
/**
 * The full URL the platform called, as the middleware sends it to hookguard (a twilio profile
 * signs it): req.protocol, the host (X-Forwarded-Host only under Express's 'trust proxy'),
 * req.originalUrl.
 */
export function requestUrl(req: Request): string;
/** The 500 answer's text when a parser consumed the body without rawBodySaver. */
export const RAW_BODY_UNAVAILABLE: string;

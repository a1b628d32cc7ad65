// Type declarations of @hookguard/client/testing.
import type { AuthorizeOptions, DenyReason, HeadersLike, Verdict } from './index';

export interface FakeCall extends AuthorizeOptions {
  body: Buffer;
  headers: Record<string, string>;
}

/** Stands in for HookguardClient: answers each call with the next verdict, the last one after. */
export class FakeHookguardClient {
  constructor(...verdicts: Verdict[]);
  readonly calls: FakeCall[];
  authorizeWebhook(body: Buffer | Uint8Array, headers: HeadersLike, opts?: AuthorizeOptions): Promise<Verdict>;
  close(): void;
}

export function allow(ownerId?: string, fields?: Partial<Verdict>): Verdict;
export function deny(reason?: DenyReason, fields?: Partial<Verdict>): Verdict;
export function unavailable(error?: string): Verdict;
export function shadowDeny(reason?: DenyReason, fields?: Partial<Verdict>): Verdict;

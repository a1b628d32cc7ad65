// Type declarations of @hookguard/client.
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';

export type Decision = 'DECISION_UNSPECIFIED' | 'DECISION_ALLOW' | 'DECISION_DENY';
export type DenyReason =
  | 'DENY_REASON_UNSPECIFIED'
  | 'DENY_REASON_MALFORMED_EVENT'
  | 'DENY_REASON_SIGNATURE_INVALID'
  | 'DENY_REASON_CALL_NOT_FOUND'
  | 'DENY_REASON_ASSISTANT_MISMATCH'
  | 'DENY_REASON_ASSISTANT_OWNER_MISMATCH'
  | 'DENY_REASON_PHONE_NUMBER_MISMATCH'
  | 'DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH'
  | 'DENY_REASON_OWNER_MISMATCH'
  | 'DENY_REASON_OWNER_CONFLICT'
  | 'DENY_REASON_SUBJECT_NOT_FOUND';
export type OwnerSource =
  | 'OWNER_SOURCE_UNSPECIFIED'
  | 'OWNER_SOURCE_CALL'
  | 'OWNER_SOURCE_PHONE_NUMBER'
  | 'OWNER_SOURCE_ASSISTANT'
  | 'OWNER_SOURCE_SUBJECT';
export type SignatureResult =
  | 'SIGNATURE_RESULT_UNSPECIFIED'
  | 'SIGNATURE_RESULT_VALID'
  | 'SIGNATURE_RESULT_MISSING'
  | 'SIGNATURE_RESULT_MALFORMED'
  | 'SIGNATURE_RESULT_MISMATCH'
  | 'SIGNATURE_RESULT_STALE';

/** The answer for one webhook. Process the event only when `allowed`. */
export interface Verdict {
  allowed: boolean;
  decision: Decision;
  reason: DenyReason;
  /** The user the call belongs to; set only when allowed. */
  ownerId: string;
  /** What to answer the platform with; 503 when no decision was obtained. */
  httpStatus: number;
  signature: SignatureResult;
  keyId: string;
  messageId: string;
  decisionId: string;
  detail: string;
  /** The gRPC status code's name (e.g. "UNAVAILABLE") when no decision was obtained, else null. */
  error: string | null;
  /** Where ownerId came from: the call's row, or (no row yet) its phone number or assistant. */
  resolvedBy: OwnerSource;
  /** The same for every delivery of one event (retries included): deduplicate on it. */
  deliveryKey: string;
  /** Shadow mode: the decision enforcement would have given (DECISION_UNSPECIFIED when enforcing). */
  shadowDecision: Decision;
  /** Shadow mode: the reason enforcement would have denied with. */
  shadowReason: DenyReason;
  /** With resolvedBy OWNER_SOURCE_SUBJECT: the configured subject whose id named the owner. */
  resolvedSubject: string;
}

export interface TlsOptions {
  /** PEM of the CA that signed hookguard's certificate (default: system roots). */
  ca?: Buffer;
  /** PEM client certificate chain, for mTLS. */
  cert?: Buffer;
  /** PEM client private key, for mTLS. */
  key?: Buffer;
}

export interface ClientOptions {
  /** Deadline of each call in milliseconds. Default 500. */
  timeoutMs?: number;
  tls?: TlsOptions;
  credentials?: ChannelCredentials;
  channelOptions?: ChannelOptions;
  /**
   * Default false. When hookguard gives no decision (unreachable, deadline, any RPC error), let the
   * webhook through: allowed=true, httpStatus=200, ownerId='', error set; a warning is logged.
   * A decision (ALLOW or DENY) is always obeyed.
   */
  failOpen?: boolean;
  /** Where fail-open warnings go. Default console. */
  logger?: { warn(message: string): void };
}

export type HeadersLike =
  | Record<string, string | string[] | undefined>
  | { entries(): IterableIterator<[string, string]> };

export interface AuthorizeOptions {
  /** Verification profile; empty: the server's default. */
  profile?: string;
  /** The user the caller is about to act for; empty: not checked. */
  expectedOwnerId?: string;
  method?: string;
  url?: string;
  timeoutMs?: number;
}

export class HookguardClient {
  constructor(target: string, options?: ClientOptions);
  readonly timeoutMs: number;
  readonly failOpen: boolean;
  /** Never rejects for an RPC failure: resolves to allowed=false, httpStatus=503. */
  authorizeWebhook(body: Buffer | Uint8Array, headers: HeadersLike, opts?: AuthorizeOptions): Promise<Verdict>;
  close(): void;
}

/** True for a shadow-mode ALLOW that enforcement would have denied. */
export function isShadowDeny(verdict: Verdict): boolean;
/** True when fail-open let the webhook through without any decision (verdict.error says why). */
export function isFailedOpen(verdict: Verdict): boolean;
/** The fail-open answer for a verdict without a decision (a decision is returned unchanged); warns on logger. */
export function failOpenVerdict(verdict: Verdict, profile?: string, logger?: { warn(message: string): void }): Verdict;
/** The verdict of a failed call: allowed=false, httpStatus=503, error = the gRPC code's name. */
export function verdictFromError(err: unknown): Verdict;
/** 'Hookguard-Decision-Id': the header that carries the decision id of a deny. */
export const DECISION_ID_HEADER: string;
/** 4 MiB: the server's default body limit, and the Express middleware's. */
export const DEFAULT_MAX_BODY_BYTES: number;
export const DEFAULT_TIMEOUT_MS: number;
/** The default gRPC service config (JSON): round_robin, UNAVAILABLE retried within the deadline. */
export const SERVICE_CONFIG: string;
export const UNAVAILABLE_HTTP_STATUS: number;
export const PROTO_ROOT: string;
export function normalizeHeaders(headers: HeadersLike | undefined): Record<string, string>;
export function loadPackage(): any;

import type { HeadersLike, Verdict } from './index';

/** One delivery as the app received it, with hookguard's verdict. */
export interface Capture {
  body: Buffer;
  /** Names lowercased, as sent to hookguard. */
  headers: Record<string, string>;
  verdict: Verdict;
  /** The profile the app asked for ('' = the default). */
  profile: string;
  method: string;
  url: string;
  expectedOwnerId: string;
}

/** Called with every denied or shadow-would-deny delivery; may return a promise. */
export type CaptureHook = (capture: Capture) => void | Promise<unknown>;

export const CAPTURE_FORMAT: 'hookguard-capture/v1';
/** True for a DENY and for a shadow-mode ALLOW that enforcement would deny. */
export function shouldCapture(verdict: Verdict): boolean;
export function makeCapture(body: Buffer | Uint8Array, headers: HeadersLike, verdict: Verdict,
  opts?: { profile?: string; method?: string; url?: string; expectedOwnerId?: string }): Capture;
/** The capture file's JSON object. */
export function captureRecord(capture: Capture, now?: Date): Record<string, unknown>;
/** Writes the capture file (mode 0600, atomic) into directory; resolves to its path. */
export function writeCapture(directory: string, capture: Capture): Promise<string>;
/** A capture hook that writes each capture into directory. */
export function captureToDirectory(directory: string): CaptureHook & { directory: string };
export function callCapture(hook: CaptureHook | undefined, makeFn: () => Capture, verdict: Verdict,
  logger?: { warn(message: string): void }): Promise<void>;

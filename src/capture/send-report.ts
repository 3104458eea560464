import type { SerializedEvent } from './request-batches.ts';
import type { CaptureEvent, DropReason } from './types.ts';
import type { BatchIdentity } from './wire-request.ts';

/**
 * Why an attempt did not get its events taken: no usable answer (by kind of transport failure),
 * or an answer that asked for another try (a retryable status, or a 2xx with `retry` results).
 */
export type FailureCause = { kind: 'refused' | 'dns' | 'tls' | 'timeout' | 'network'; code?: string } | { kind: 'status'; status: number };

const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const TLS = new Set([
  'EPROTO',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'HOSTNAME_MISMATCH',
]);

/** The kind of a transport failure, from its error code. */
export function transportFailure(code: string | undefined, timedOut: boolean): FailureCause {
  const withCode = <K extends 'refused' | 'dns' | 'tls' | 'timeout' | 'network'>(kind: K): FailureCause =>
    code === undefined ? { kind } : { kind, code };
  if (timedOut) return withCode('timeout');
  if (code === undefined) return { kind: 'network' };
  if (REFUSED.has(code)) return withCode('refused');
  if (DNS.has(code)) return withCode('dns');
  if (
    TLS.has(code) ||
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('CERT_') ||
    code.startsWith('ERR_OSSL_')
  )
    return withCode('tls');
  return withCode('network');
}

/**
 * PostHog cannot be reached at all (nothing listens, the name does not resolve, TLS fails): an
 * immediate resend would fail the same way, so a flush stops rather than spin until its deadline.
 */
export function isUnreachable(cause: FailureCause | undefined): boolean {
  return cause !== undefined && (cause.kind === 'refused' || cause.kind === 'dns' || cause.kind === 'tls');
}

/** An event given up on for good: the server rejected it, or its attempt budget is spent. */
export interface RejectedEvent {
  event: CaptureEvent;
  reason: DropReason;
  /** The server's `details` for a `drop`, or the error behind a terminal status or the last failure. */
  details?: string;
  /** Requests that carried the event in this process. */
  attempts: number;
}

/**
 * A request that stopped before the server took all its events, none of them rejected (a deadline,
 * an abort, or a wait longer than the caller allows in place). Its continuation keeps the request
 * id and `created_at`; the next attempt goes out as `attempt + 1` with only these events.
 */
export interface DeferredRequest {
  identity: BatchIdentity;
  /** Requests sent under this identity so far; 0 when it was never sent. */
  attempt: number;
  /** The events still to send, each with the attempts it has used. */
  events: SerializedEvent[];
  /** What the events count as when the caller cannot keep them: the send ran out of time, or was aborted. */
  reasonIfDropped: 'deadline' | 'shutdown';
  /** The last failure, for diagnostics. */
  details?: string;
  cause?: FailureCause;
  /** Earliest time the next attempt respects the backoff (and `Retry-After`). */
  notBefore: number;
  /** When the server asked for a wait (`Retry-After`): the earliest time it allows a resend. */
  retryAfterUntil?: number;
}

/**
 * What became of every event handed to one send: each was delivered, rejected, or is in a deferred
 * request: `delivered + rejected.length + sum(deferred[].events.length) === events.length`.
 */
export interface SendReport {
  delivered: number;
  rejected: RejectedEvent[];
  deferred: DeferredRequest[];
  /** HTTP requests made, every attempt counted. */
  requests: number;
  /** Attempts beyond the first of each request. */
  retries: number;
  /** The last failed attempt's cause, if an attempt failed. */
  lastFailure?: FailureCause;
}

export function emptyReport(): SendReport {
  return { delivered: 0, rejected: [], deferred: [], requests: 0, retries: 0 };
}

import type { DeferredRequest } from '../capture/send-report.ts';
import type { OutgoingRequest } from '../capture/send-loop.ts';

/**
 * A request waiting in the retry buffer: its identity (request id, `created_at`), the requests sent
 * under it so far, the events still to send, and when it may go again. It is only ever resent as
 * itself: never merged with another request.
 */
export interface PendingRequest extends OutgoingRequest {
  /** Serialised bytes of its events, for the buffer's byte bound. */
  bytes: number;
  /** When its events began waiting, for the age bound. */
  waitingSince: number;
  /** Not to be resent on schedule before this time: the backoff, and Retry-After. */
  notBefore: number;
  /** Not to be resent at all before this time (the server's Retry-After), which even a flush respects. */
  retryAfterUntil?: number;
  /** The last failure, for diagnostics. */
  details?: string;
}

/** Shortest wait before a request is resent on schedule: with a zero initial delay an outage would become a busy loop. */
export const MIN_RESEND_DELAY_MILLIS = 100;

/** The deferred request as the buffer keeps it; `waitingSince` carries over from the request it continues. */
export function pendingRequest(deferred: DeferredRequest, waitingSince: number, now: number): PendingRequest {
  let bytes = 0;
  for (const item of deferred.events) bytes += item.bytes;
  const request: PendingRequest = {
    identity: deferred.identity,
    attempt: deferred.attempt,
    events: deferred.events,
    bytes,
    waitingSince,
    notBefore: Math.max(deferred.notBefore, now + MIN_RESEND_DELAY_MILLIS),
  };
  if (deferred.retryAfterUntil !== undefined) request.retryAfterUntil = deferred.retryAfterUntil;
  if (deferred.details !== undefined) request.details = deferred.details;
  return request;
}

export function eventCount(requests: readonly { events: readonly unknown[] }[]): number {
  let count = 0;
  for (const request of requests) count += request.events.length;
  return count;
}

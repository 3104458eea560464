import type { SerializedEvent } from '../capture/request-batches.ts';
import type { PendingRequest } from './pending-request.ts';

export interface RetryQueueLimits {
  maxEvents: number;
  maxBytes: number;
  maxAgeMillis: number;
}

/**
 * `scheduled` follows each request's backoff; `flush` only the server's Retry-After (a flush does not
 * wait out our own backoff); `all` takes everything.
 */
export type DueMode = 'scheduled' | 'flush' | 'all';

/** Events a bound pushed out of a request; `request.events` holds what is left of it (nothing: it is gone). */
export interface Eviction {
  request: PendingRequest;
  events: SerializedEvent[];
}

function dueAt(request: PendingRequest, mode: 'scheduled' | 'flush'): number {
  return mode === 'scheduled' ? request.notBefore : (request.retryAfterUntil ?? -Infinity);
}

/**
 * The retry buffer: requests that were not rejected, only not taken yet (a `retry` verdict, 5xx,
 * timeouts, a deadline). Bounded by events, bytes and age; whatever a bound pushes out is returned
 * to the caller to count, never forgotten silently. The oldest events leave first.
 */
export class RetryQueue {
  private _requests: PendingRequest[] = [];
  private _events = 0;
  private _bytes = 0;
  readonly limits: RetryQueueLimits;

  constructor(limits: RetryQueueLimits) {
    this.limits = limits;
  }

  /** Events waiting. */
  get size(): number {
    return this._events;
  }

  get bytes(): number {
    return this._bytes;
  }

  get requests(): readonly PendingRequest[] {
    return this._requests;
  }

  /** Adds a request; returns the events evicted to stay within the count and byte bounds, oldest first. */
  add(request: PendingRequest): Eviction[] {
    this._requests.push(request);
    this._events += request.events.length;
    this._bytes += request.bytes;
    if (!this._over()) return [];
    // Resent requests come back at the end; order by age so the oldest really leave first.
    this._requests.sort((a, b) => a.waitingSince - b.waitingSince);
    const evictions: Eviction[] = [];
    while (this._over() && this._requests.length > 0) evictions.push(this._evictFrom(this._requests[0]!));
    return evictions;
  }

  /** PostHog took events again: every request not held back by its own Retry-After is due now. */
  recovered(now: number): void {
    for (const request of this._requests) {
      if ((request.retryAfterUntil ?? -Infinity) <= now && request.notBefore > now) request.notBefore = now;
    }
  }

  /** Removes and returns requests whose events have waited longer than the age bound. */
  expire(now: number): PendingRequest[] {
    const cutoff = now - this.limits.maxAgeMillis;
    return this._remove((request) => request.waitingSince <= cutoff);
  }

  /** Removes and returns requests due for a resend, except those named in `skip` (by request id). */
  takeDue(now: number, mode: DueMode, skip?: ReadonlySet<string>): PendingRequest[] {
    return this._remove((request) => (mode === 'all' || dueAt(request, mode) <= now) && !skip?.has(request.identity.requestId));
  }

  /** Removes and returns the one request due first, if it is due now (for `all`, the one waiting longest). */
  takeNext(now: number, mode: DueMode): PendingRequest | undefined {
    let next: PendingRequest | undefined;
    for (const request of this._requests) {
      if (next === undefined || (mode === 'all' ? request.waitingSince < next.waitingSince : dueAt(request, mode) < dueAt(next, mode)))
        next = request;
    }
    if (next === undefined || (mode !== 'all' && dueAt(next, mode) > now)) return undefined;
    return this._remove((request) => request === next)[0];
  }

  /** The earliest time a request becomes due, if any wait. */
  nextDueAt(mode: Exclude<DueMode, 'all'> = 'scheduled'): number | undefined {
    let next: number | undefined;
    for (const request of this._requests) {
      const at = dueAt(request, mode);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  private _over(): boolean {
    return this._events > this.limits.maxEvents || this._bytes > this.limits.maxBytes;
  }

  /** Takes events from the front of the oldest request until the bounds hold, or the request is empty. */
  private _evictFrom(request: PendingRequest): Eviction {
    let count = 0;
    while (count < request.events.length && this._over()) {
      const item = request.events[count++]!;
      this._events--;
      this._bytes -= item.bytes;
      request.bytes -= item.bytes;
    }
    const events = request.events.slice(0, count);
    request.events = request.events.slice(count);
    if (request.events.length === 0) this._requests.shift();
    return { request, events };
  }

  private _remove(predicate: (request: PendingRequest) => boolean): PendingRequest[] {
    const taken: PendingRequest[] = [];
    const kept: PendingRequest[] = [];
    for (const request of this._requests) (predicate(request) ? taken : kept).push(request);
    if (taken.length > 0) {
      this._requests = kept;
      for (const request of taken) {
        this._events -= request.events.length;
        this._bytes -= request.bytes;
      }
    }
    return taken;
  }
}

import type { CaptureEvent } from '../capture/types.ts';

/** An event waiting for another try, with what it has used of its budget. */
export interface BufferedEvent {
  event: CaptureEvent;
  /** Attempts already made for this event, across exports. */
  attempts: number;
  /** Serialised size, for the byte bound. */
  bytes: number;
  /** When it first entered the buffer. */
  bufferedAt: number;
  /** Not to be resent on schedule before this time (backoff, and Retry-After). */
  notBefore: number;
  /** Not to be resent at all before this time: the server's Retry-After, which even a flush respects. */
  retryAfterUntil?: number;
  /** Spool file that holds a durable copy, if any. */
  spoolFile?: string;
}

export type DueMode = 'scheduled' | 'flush' | 'all';

function dueAt(item: BufferedEvent, mode: 'scheduled' | 'flush'): number {
  return mode === 'scheduled' ? item.notBefore : (item.retryAfterUntil ?? -Infinity);
}

export interface RetryBufferLimits {
  maxEvents: number;
  maxBytes: number;
  maxAgeMillis: number;
}

/**
 * Events that were not rejected, only not accepted yet (server `retry`, 5xx, timeouts, an export
 * deadline). Bounded by count, bytes and age; whatever a bound pushes out is returned to the
 * caller to count, never forgotten silently. Oldest events leave first.
 */
export class RetryBuffer {
  private _items: BufferedEvent[] = [];
  private _bytes = 0;
  readonly limits: RetryBufferLimits;

  constructor(limits: RetryBufferLimits) {
    this.limits = limits;
  }

  get size(): number {
    return this._items.length;
  }

  get bytes(): number {
    return this._bytes;
  }

  /** Adds events; returns those evicted to stay within the count and byte bounds (oldest first). */
  add(items: readonly BufferedEvent[]): BufferedEvent[] {
    for (const item of items) {
      this._items.push(item);
      this._bytes += item.bytes;
    }
    const evicted: BufferedEvent[] = [];
    if (this._items.length > this.limits.maxEvents || this._bytes > this.limits.maxBytes) {
      // Resent events come back at the end; order by age so the oldest really leave first.
      this._items.sort((a, b) => a.bufferedAt - b.bufferedAt);
    }
    let drop = 0;
    while (drop < this._items.length && (this._items.length - drop > this.limits.maxEvents || this._bytes > this.limits.maxBytes)) {
      const item = this._items[drop++]!;
      this._bytes -= item.bytes;
      evicted.push(item);
    }
    if (drop > 0) this._items = this._items.slice(drop);
    return evicted;
  }

  /** PostHog took events again: everything not held back by its own Retry-After is due now. */
  recovered(now: number): void {
    for (const item of this._items) {
      if ((item.retryAfterUntil ?? -Infinity) <= now && item.notBefore > now) item.notBefore = now;
    }
  }

  /** Removes and returns events older than the age bound. */
  expire(now: number): BufferedEvent[] {
    const cutoff = now - this.limits.maxAgeMillis;
    return this._remove((item) => item.bufferedAt <= cutoff);
  }

  /**
   * Removes and returns events due for a resend. `scheduled` follows the backoff; `flush` only the
   * server's Retry-After (a flush does not wait out our own backoff); `all` takes everything.
   */
  takeDue(now: number, mode: DueMode = 'scheduled'): BufferedEvent[] {
    if (mode === 'all') return this._remove(() => true);
    return this._remove((item) => dueAt(item, mode) <= now);
  }

  /** The earliest time an event becomes due, if any are buffered. */
  nextDueAt(mode: Exclude<DueMode, 'all'> = 'scheduled'): number | undefined {
    let next: number | undefined;
    for (const item of this._items) {
      const at = dueAt(item, mode);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  private _remove(predicate: (item: BufferedEvent) => boolean): BufferedEvent[] {
    const taken: BufferedEvent[] = [];
    const kept: BufferedEvent[] = [];
    for (const item of this._items) (predicate(item) ? taken : kept).push(item);
    if (taken.length > 0) {
      this._items = kept;
      for (const item of taken) this._bytes -= item.bytes;
    }
    return taken;
  }
}

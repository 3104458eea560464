import type { DropReason } from '../capture/types.ts';
import type { PipelineStatus } from './pipeline-status.ts';

/**
 * Where every event stands, and what state the pipeline is in (`status`). Once a flush completes,
 * `selected === delivered + sum(dropped) + pending` holds exactly. `pending` is counted where the
 * events are (handed to the batch processor but not yet to the exporter, being exported, waiting for
 * retry), not as the difference of the other counts.
 */
export type PostHogStats = DeliveryCounts & PipelineStatus;

/** The counts of {@link PostHogStats}, which the ledger keeps. */
export interface DeliveryCounts {
  /** Records offered to the processor (or, for an exporter on its own, records handed to export). */
  emitted: number;
  /** Records that were to become events. */
  selected: number;
  /** Events PostHog accepted. */
  delivered: number;
  /** Events given up on, by reason. */
  dropped: Partial<Record<DropReason, number>>;
  /** Events on their way: queued, being mapped, or in flight. */
  pending: number;
  /** HTTP requests made, every attempt counted. */
  requests: number;
  /** Attempts beyond the first of each request, resends from the retry buffer included. */
  retries: number;
  /** Events waiting in the retry buffer, or left in the spool at shutdown (part of `pending`). */
  retryBuffered: number;
  /** Events this process took over from the spool directory (counted in `selected` too). */
  recovered: number;
  /** Spool files that could not be read; counted, then removed. */
  corruptSpoolFiles: number;
}

export function totalDropped(stats: Pick<DeliveryCounts, 'dropped'>): number {
  let total = 0;
  for (const count of Object.values(stats.dropped)) total += count ?? 0;
  return total;
}

/**
 * The one account of a pipeline's events: each change of place is one method, so every count moves
 * in exactly one spot and no caller writes a number directly.
 *
 * Places: the batch queue (handed to the batch processor, not yet taken by the exporter), in flight
 * (taken by an export or a resend, not yet settled), waiting (in the retry buffer), parked (left in
 * the spool at shutdown for a later process). An event leaves them as delivered or dropped.
 */
export class DeliveryLedger {
  private _emitted = 0;
  private _selected = 0;
  private _queued = 0;
  private _taken = 0;
  private _derived = 0;
  private _recovered = 0;
  private _inFlight = 0;
  private _waiting = 0;
  private _parked = 0;
  private _delivered = 0;
  private readonly _dropped = new Map<DropReason, number>();
  /** Dropped by the processor before the exporter saw them: in the pipeline's account only. */
  private readonly _refused = new Map<DropReason, number>();
  private _requests = 0;
  private _retries = 0;
  private _corruptSpoolFiles = 0;

  /** The processor was offered a record. */
  emit(): void {
    this._emitted++;
  }

  /** The record is one to turn into an event. */
  select(): void {
    this._selected++;
  }

  /** The processor handed the record to the batch processor. */
  queue(): void {
    this._queued++;
  }

  /** The processor refused a selected record before queueing it (queue full, after shutdown). */
  refuse(reason: DropReason): void {
    this._refused.set(reason, (this._refused.get(reason) ?? 0) + 1);
  }

  /** An export took `count` items from the batch processor; they are in flight until settled. */
  take(count: number): void {
    this._taken += count;
    this._inFlight += count;
  }

  /**
   * Taken items became `count` more events than there were items (a record that maps to N events
   * adds N - 1): they are in flight, and selected, like the rest.
   */
  derive(count: number): void {
    this._derived += count;
    this._inFlight += count;
  }

  /** Recovered from the spool: `count` events start waiting in this process. */
  recover(count: number): void {
    this._recovered += count;
    this._waiting += count;
  }

  /** Recovered from the spool, but not valid events: counted as received and dropped at once. */
  recoverInvalid(count: number): void {
    this._recovered += count;
    this._drop('invalid', count);
  }

  deliver(count: number): void {
    this._inFlight -= count;
    this._delivered += count;
  }

  /** Events in flight given up on. */
  drop(reason: DropReason, count: number): void {
    this._inFlight -= count;
    this._drop(reason, count);
  }

  /** Events in flight went to the retry buffer. */
  defer(count: number): void {
    this._inFlight -= count;
    this._waiting += count;
  }

  /** Events left the retry buffer to be sent (or spooled). */
  resume(count: number): void {
    this._waiting -= count;
    this._inFlight += count;
  }

  /** Events the retry buffer gave up on (a bound pushed them out, or they waited too long). */
  dropWaiting(reason: DropReason, count: number): void {
    this._waiting -= count;
    this._drop(reason, count);
  }

  /** Events in flight stay in the spool for a later process: still pending. */
  park(count: number): void {
    this._inFlight -= count;
    this._parked += count;
  }

  /** HTTP requests made, of which `retries` were attempts beyond a request's first. */
  sent(requests: number, retries: number): void {
    this._requests += requests;
    this._retries += retries;
  }

  corruptSpoolFiles(count: number): void {
    this._corruptSpoolFiles += count;
  }

  /** Records handed to the batch processor so far. */
  get handedToBatch(): number {
    return this._queued;
  }

  /** Items exports took so far. */
  get taken(): number {
    return this._taken;
  }

  /** Selected records not yet taken by an export: the batch processor's queue, or an upper bound of it. */
  get batchQueue(): number {
    return this._queued - this._taken;
  }

  /** Events in the retry buffer, or parked in the spool. */
  get retryBuffered(): number {
    return this._waiting + this._parked;
  }

  /** What the exporter accounts for: everything handed to it, and what it recovered. */
  exporterStats(): DeliveryCounts {
    const received = this._taken + this._derived + this._recovered;
    return this._stats(this._taken + this._recovered, received, this._inFlight + this.retryBuffered, new Map());
  }

  /** The whole pipeline's account, the batch processor's queue included. */
  pipelineStats(): DeliveryCounts {
    // Recovered events were selected by an earlier process; this one answers for them now.
    return this._stats(
      this._emitted,
      this._selected + this._derived + this._recovered,
      this.batchQueue + this._inFlight + this.retryBuffered,
      this._refused,
    );
  }

  private _stats(emitted: number, selected: number, pending: number, refused: ReadonlyMap<DropReason, number>): DeliveryCounts {
    const dropped: Partial<Record<DropReason, number>> = {};
    for (const [reason, count] of this._dropped) dropped[reason] = count;
    for (const [reason, count] of refused) dropped[reason] = (dropped[reason] ?? 0) + count;
    return {
      emitted,
      selected,
      delivered: this._delivered,
      dropped,
      pending,
      requests: this._requests,
      retries: this._retries,
      retryBuffered: this.retryBuffered,
      recovered: this._recovered,
      corruptSpoolFiles: this._corruptSpoolFiles,
    };
  }

  private _drop(reason: DropReason, count: number): void {
    if (count > 0) this._dropped.set(reason, (this._dropped.get(reason) ?? 0) + count);
  }
}

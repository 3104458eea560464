import type { DropReason } from '../capture/types.ts';

/**
 * Where every event stands. Once a flush completes, `selected === delivered + sum(dropped) + pending`
 * holds exactly. `pending` is counted where the events are (handed to the batch processor but not yet
 * to the exporter, being exported, waiting for retry), not as the difference of the other counts.
 */
export interface PostHogStats {
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
  /** Attempts beyond the first of each request. */
  retries: number;
  /** Events waiting in the retry buffer, or left in the spool at shutdown (part of `pending`). */
  retryBuffered: number;
  /** Events this process took over from the spool directory (counted in `selected` too). */
  recovered: number;
  /** Spool files that could not be read and were set aside. */
  corruptSpoolFiles: number;
}

/** Counters for one exporter. */
export class ExportCounters {
  received = 0;
  inFlight = 0;
  recovered = 0;
  corruptSpoolFiles = 0;
  delivered = 0;
  requests = 0;
  retries = 0;
  readonly dropped = new Map<DropReason, number>();

  drop(reason: DropReason, count: number): void {
    if (count > 0) this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + count);
  }

  droppedRecord(extra?: ReadonlyMap<DropReason, number>): Partial<Record<DropReason, number>> {
    const out: Partial<Record<DropReason, number>> = {};
    for (const [reason, count] of this.dropped) out[reason] = count;
    if (extra) for (const [reason, count] of extra) out[reason] = (out[reason] ?? 0) + count;
    return out;
  }
}

export function totalDropped(stats: Pick<PostHogStats, 'dropped'>): number {
  let total = 0;
  for (const count of Object.values(stats.dropped)) total += count ?? 0;
  return total;
}

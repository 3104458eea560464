import type { DeferredRequest, SendReport } from '../capture/send-report.ts';
import type { CaptureEvent, DropReason } from '../capture/types.ts';

/** Events given up on for one reason; the details are the first event's. */
export interface DropGroup {
  reason: DropReason;
  details: string | undefined;
  events: CaptureEvent[];
}

/** What a send's report means for its events: delivered, dropped (by reason), or kept for a later attempt. */
export interface Settlement {
  delivered: number;
  drops: DropGroup[];
  kept: DeferredRequest[];
}

/**
 * Settles a send. Rejected events are drops; deferred requests are kept when the caller can keep
 * them (a retry buffer, not yet shut down), and otherwise dropped as what they were stopped by
 * (`deadline`, or `shutdown` for an abort).
 */
export function settle(report: SendReport, canKeep: boolean): Settlement {
  const groups = new Map<DropReason, DropGroup>();
  const add = (reason: DropReason, details: string | undefined, events: readonly CaptureEvent[]): void => {
    const group = groups.get(reason);
    if (group) group.events.push(...events);
    else groups.set(reason, { reason, details, events: [...events] });
  };
  for (const rejected of report.rejected) add(rejected.reason, rejected.details, [rejected.event]);
  if (!canKeep) {
    for (const deferred of report.deferred)
      add(
        deferred.reasonIfDropped,
        deferred.details,
        deferred.events.map((item) => item.event),
      );
  }
  return { delivered: report.delivered, drops: [...groups.values()], kept: canKeep ? report.deferred : [] };
}

/** Drops by reason, counted: what an export reports to its callback. */
export function dropCounts(settlement: Settlement): Map<DropReason, number> {
  return new Map(settlement.drops.map((group) => [group.reason, group.events.length]));
}

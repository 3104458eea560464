import type { DropReason } from './capture/types.ts';
import { describeReason } from './diagnostics/diagnostics.ts';

/** The error an export reports when some of its events were dropped. */
export class PostHogExportError extends Error {
  readonly dropped: Partial<Record<DropReason, number>>;
  constructor(message: string, dropped: Partial<Record<DropReason, number>>) {
    super(message);
    this.name = 'PostHogExportError';
    this.dropped = dropped;
  }
}

/** The error of an export that dropped `dropped` (by reason) of its `total` events. */
export function exportError(dropped: ReadonlyMap<DropReason, number>, total: number): PostHogExportError {
  let count = 0;
  const parts: string[] = [];
  const record: Partial<Record<DropReason, number>> = {};
  for (const [reason, n] of dropped) {
    count += n;
    record[reason] = n;
    parts.push(`${n} ${reason} (${describeReason(reason)})`);
  }
  return new PostHogExportError(`${count} of ${total} PostHog event(s) not delivered: ${parts.join(', ')}`, record);
}

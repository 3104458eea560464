import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';

/**
 * A processor placed before the one under test that writes attributes straight into the record,
 * bypassing the SDK's validation (as hand-written enrichers do). The only way to hand the mapping
 * values the SDK itself refuses (BigInt, cycles) or cannot validate (very deep nesting overflows
 * its checks). `byEventName` gives the attributes to write into records of each event name.
 */
export class RawAttributeWriter implements LogRecordProcessor {
  readonly byEventName = new Map<string, Record<string, unknown>>();
  onEmit(record: ReadWriteLogRecord): void {
    const raw = record.eventName === undefined ? undefined : this.byEventName.get(record.eventName);
    if (raw !== undefined) Object.assign(record.attributes, raw);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

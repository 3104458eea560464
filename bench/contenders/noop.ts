// References that do nothing: an exporter that accepts every batch at once (what the SDK and its
// batch processor cost on their own), and a processor that does nothing (what building a record costs).

import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';

/** An exporter that accepts everything at once and only counts. */
export class NoopLogExporter implements LogRecordExporter {
  exported = 0;
  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    this.exported += records.length;
    resultCallback({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** Keeps the SDK emitting (a provider without processors skips building the record) and does nothing. */
export class NoopLogProcessor implements LogRecordProcessor {
  onEmit(_record: ReadWriteLogRecord): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

// The bound: an exporter that does only what no design of ours can skip, to divide ours by.

import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { encodeBody } from '../../src/transport/compression.ts';
import { UndiciTransport } from '../../src/transport/transport.ts';
import { requestBody } from '../../src/capture/wire-request.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import type { MappingSettings } from '../../src/config/sections.ts';
import { recordToEvent } from '../../src/mapping/record-to-event.ts';
import { BENCH_API_KEY } from '../workload/records.ts';
import { oursEnv } from './ours.ts';

/**
 * A bound, not an alternative: our mapping, the request body written into one buffer, compressed
 * with our codec, one POST per batch, acknowledged when the sink answers; and nothing else: no
 * per-event results, retries or counters. Ours divided by it is what delivery bookkeeping costs.
 */
export class MapAndPostExporter implements LogRecordExporter {
  private readonly _mapping: MappingSettings;
  private readonly _transport: UndiciTransport;
  private readonly _bodyBuffer = Buffer.allocUnsafeSlow(4 * 1024 * 1024);

  constructor(sinkUrl: string) {
    // The same settings as ours: the configuration the bench gives our processor.
    this._mapping = resolveConfig({}, oursEnv(sinkUrl)).config.mapping;
    this._transport = new UndiciTransport({
      url: new URL(`${sinkUrl}/i/v1/analytics/events`),
      connectTimeoutMillis: 5_000,
      maxResponseBytes: 1024 * 1024,
    });
  }

  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    const now = Date.now();
    const members = records.map((record) => recordToEvent(record, this._mapping, now).json);
    const raw = requestBody({ requestId: '', createdAt: new Date(now).toISOString() }, false, members, () => this._bodyBuffer);
    const headers = { 'content-type': 'application/json', 'content-encoding': 'zstd', authorization: `Bearer ${BENCH_API_KEY}` };
    encodeBody(raw, 'zstd')
      .then(({ body }) => this._transport.post({ headers, body, timeoutMillis: 10_000 }))
      .then(
        (response) =>
          resultCallback(
            response.status === 200
              ? { code: ExportResultCode.SUCCESS }
              : { code: ExportResultCode.FAILED, error: new Error(`HTTP ${response.status}`) },
          ),
        (error: unknown) => resultCallback({ code: ExportResultCode.FAILED, error: error as Error }),
      );
  }

  shutdown(): Promise<void> {
    return this._transport.close();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

// Nothing we ship throws into the host: hostile records, spans and export arguments through real
// OpenTelemetry providers and a real HTTP fake capture server, with the stats accounting for them.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { PostHogExportError } from '../../src/export-error.ts';
import type { EndedSpan } from '../../src/selection/span-event-record.ts';
import { assertIdentity } from '../support/accounting.ts';
import { withDiag } from '../support/diag-capture.ts';
import { newExporter, sdkRecords, withServer, zeroStats } from '../support/hand-wired.ts';
import { waitFor } from '../support/host-process.ts';
import { withPipeline } from '../support/pipeline.ts';

describe('nothing throws into the host', () => {
  test('hostile records, spans and export arguments: no exception escapes, no unhandled rejection, stats account for them', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      await withDiag(async (d) => {
        const throwing = new Proxy(
          {},
          {
            get: () => {
              throw new Error('attribute getter exploded');
            },
            ownKeys: () => {
              throw new Error('attribute enumeration exploded');
            },
          },
        );
        // A processor before ours that leaves every record's attributes as a throwing Proxy.
        const saboteur: LogRecordProcessor = {
          onEmit(record: ReadWriteLogRecord) {
            Object.defineProperty(record, 'attributes', { value: throwing, configurable: true });
          },
          forceFlush: async () => undefined,
          shutdown: async () => undefined,
        };
        await withPipeline({ options: { scheduledDelayMillis: 60_000 }, processorsBefore: [saboteur] }, async (p) => {
          // Selected (it has an eventName), then unmappable at export time: dropped as invalid.
          assert.doesNotThrow(() => p.logger().emit({ eventName: 'poisoned' }));
          // Not selectable: selection itself reads the attributes.
          assert.doesNotThrow(() => p.logger().emit({ body: 'no event name' }));
          // A record that throws on every property read.
          const hostileRecord = new Proxy({} as ReadWriteLogRecord, {
            get: () => {
              throw new Error('record exploded');
            },
          });
          assert.doesNotThrow(() => p.processor.onEmit(hostileRecord));

          // Broken spans straight into the span processor.
          assert.doesNotThrow(() => p.spanProcessor.onEnd({} as EndedSpan));
          assert.doesNotThrow(() =>
            p.spanProcessor.onEnd({
              name: 'broken',
              get events(): EndedSpan['events'] {
                throw new Error('events exploded');
              },
            } as unknown as EndedSpan),
          );
          assert.doesNotThrow(() => p.spanProcessor.onStart({}, undefined as never));

          await p.flush();
          const stats = p.processor.getStats();
          assert.deepEqual(stats, zeroStats({ emitted: 3, selected: 1, dropped: { invalid: 1 } }));
          assertIdentity(stats);
          assert.equal(p.requests().length, 0);
          assert.ok(d.ours('error').length >= 3, `errors are reported through diag: ${JSON.stringify(d.ours('error'))}`);
        });

        // Garbage straight into the exporter.
        await withServer(async (server) => {
          const exporter = newExporter(server);
          try {
            const garbage = [null, undefined, 42, 'record', {}, { attributes: throwing }] as unknown as ReadableLogRecord[];
            let result: ExportResult | undefined;
            assert.doesNotThrow(() => exporter.export(garbage, (r) => (result = r)));
            await waitFor(() => result !== undefined, 2000, 'the export callback');
            assert.equal(result!.code, ExportResultCode.FAILED);
            assert.deepEqual((result!.error as PostHogExportError).dropped, { invalid: 6 });
            assert.doesNotThrow(() => exporter.export(null as unknown as ReadableLogRecord[], () => undefined));
            assert.doesNotThrow(() => exporter.export([], undefined as unknown as (r: ExportResult) => void));
            const [valid] = await sdkRecords((logger) => logger.emit({ eventName: 'valid' }));
            let validResult: ExportResult | undefined;
            exporter.export([valid!], (r) => (validResult = r));
            await waitFor(() => validResult !== undefined, 2000, 'the valid export callback');
            assert.deepEqual(validResult, { code: ExportResultCode.SUCCESS });
            await sleep(20);
            const stats = exporter.getStats();
            assert.deepEqual(stats, zeroStats({ emitted: 7, selected: 7, delivered: 1, dropped: { invalid: 6 }, requests: 1 }));
            assertIdentity(stats);
          } finally {
            await exporter.shutdown();
          }
        });
      });
      await sleep(20);
      assert.deepEqual(rejections, [], 'no unhandled rejection');
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});

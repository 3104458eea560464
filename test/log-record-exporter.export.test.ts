// The exporter on its own, as the batch processor calls it: the export result callback, exactly
// once per call, with a PostHogExportError counting drops; an export bounded by its deadline; a
// disabled exporter doing nothing.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExportResultCode } from '@opentelemetry/core';
import { SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { CaptureEvent } from '../src/capture/types.ts';
import { PostHogExportError } from '../src/export-error.ts';
import { PostHogLogRecordExporter } from '../src/log-record-exporter.ts';
import { assertAcceptedOnce, assertIdentity, names } from './support/accounting.ts';
import { withDiag } from './support/diag-capture.ts';
import { busyWait, emitEvents, exportOnce, newExporter, newProvider, sdkRecords, withServer, zeroStats } from './support/hand-wired.ts';
import { withPipeline } from './support/pipeline.ts';

describe('exporter result callback', () => {
  test('SUCCESS, exactly once, when every event is accepted', async () => {
    await withServer(async (server) => {
      const exporter = newExporter(server);
      try {
        const records = await sdkRecords((logger) => emitEvents(logger, 'ok', 3));
        const result = await exportOnce(exporter, records);
        assert.deepEqual(result, { code: ExportResultCode.SUCCESS });
        assert.equal(server.acceptedEvents().length, 3);
        const stats = exporter.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 3, selected: 3, delivered: 3, requests: 1 }));
        assertIdentity(stats);
      } finally {
        await exporter.shutdown();
      }
    });
  });

  test('behind a SimpleLogRecordProcessor (one export per record, overlapping) every record is delivered', async () => {
    await withServer(async (server) => {
      const exporter = newExporter(server);
      const provider = newProvider(new SimpleLogRecordProcessor({ exporter }));
      server.setDefault({ delayMs: 20 });
      emitEvents(provider.getLogger('simple'), 'simple', 4);
      await provider.forceFlush();
      await exporter.forceFlush();
      assertAcceptedOnce(server, 4);
      assert.deepEqual(exporter.getStats(), zeroStats({ emitted: 4, selected: 4, delivered: 4, requests: 4 }));
      await provider.shutdown();
    });
  });

  test('FAILED with a PostHogExportError counting the drops by reason', async () => {
    await withServer(async (server) => {
      const exporter = newExporter(server, { beforeSend: (e) => (e.event === 'blocked' ? null : e) });
      try {
        const records = await sdkRecords((logger) => {
          for (const name of ['kept', 'refused', 'blocked', 'kept_too']) logger.emit({ eventName: name });
        });
        server.script({
          results: (events) =>
            Object.fromEntries(
              events.filter((e) => e.event === 'refused').map((e) => [e.uuid, { result: 'drop', details: 'event_too_big' }]),
            ),
        });
        const result = await exportOnce(exporter, records);
        assert.equal(result.code, ExportResultCode.FAILED);
        assert.ok(result.error instanceof PostHogExportError, `a PostHogExportError, got ${String(result.error)}`);
        assert.deepEqual(result.error.dropped, { before_send: 1, server_drop: 1 });
        assert.match(result.error.message, /^2 of 4 PostHog event\(s\) not delivered/);
        assert.deepEqual(names(server.acceptedEvents()), ['kept', 'kept_too']);
        const stats = exporter.getStats();
        assert.deepEqual(
          stats,
          zeroStats({ emitted: 4, selected: 4, delivered: 2, dropped: { before_send: 1, server_drop: 1 }, requests: 1 }),
        );
        assertIdentity(stats);
      } finally {
        await exporter.shutdown();
      }
    });
  });

  test('export after shutdown: FAILED, counted as shutdown, no request', async () => {
    await withServer(async (server) => {
      const exporter = newExporter(server);
      const records = await sdkRecords((logger) => emitEvents(logger, 'late', 2));
      await exporter.shutdown();
      await withDiag(async (d) => {
        const result = await exportOnce(exporter, records);
        assert.equal(result.code, ExportResultCode.FAILED);
        assert.ok(result.error instanceof Error);
        assert.equal(server.requests.length, 0);
        assert.equal(d.ours('warn').filter((w) => /shut down/.test(w)).length, 1);
      });
      const stats = exporter.getStats();
      assert.deepEqual(stats, zeroStats({ emitted: 2, selected: 2, dropped: { shutdown: 2 } }));
      assertIdentity(stats);
    });
  });
});

test('an export ends within exportDeadlineMillis of export(), so the batch processor never times it out', async () => {
  await withDiag(async (d) => {
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      busyWait(150);
      return event;
    };
    await withPipeline(
      { options: { exportTimeoutMillis: 300, timeoutMillis: 5000, scheduledDelayMillis: 60_000, beforeSend } },
      async (p) => {
        p.server.setDefault({ delayMs: 200 });
        p.logger().emit({ eventName: 'slow_hook' });
        await p.processor.forceFlush();
        assert.equal(p.server.acceptedEvents().length, 1);
        assert.deepEqual(
          d.all('error').filter((e) => /Timeout/.test(e)),
          [],
          'the batch processor reported no export timeout',
        );
      },
    );
  });
});

test('a disabled exporter on its own is a no-op: SUCCESS, and no counts (nothing runs)', async () => {
  const exporter = new PostHogLogRecordExporter({}, { env: {} });
  const records = await sdkRecords((logger) => emitEvents(logger, 'discarded', 2));
  const result = await exportOnce(exporter, records);
  assert.deepEqual(result, { code: ExportResultCode.SUCCESS });
  const stats = exporter.getStats();
  assert.deepEqual([stats.emitted, stats.selected, stats.delivered, stats.pending], [0, 0, 0, 0]);
  await exporter.shutdown();
});

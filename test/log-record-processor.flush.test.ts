// forceFlush and shutdown of the processor against a real HTTP fake capture server: overlapping
// exports, the queue bound, bounds on flush and shutdown when the server or a resource hangs, and
// what each waits for before it resolves.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import type { CaptureEvent } from '../src/capture/types.ts';
import { PostHogLogRecordProcessor } from '../src/log-record-processor.ts';
import { InstantClock, ManualClock } from './support/clocks.ts';
import { assertAcceptedOnce, assertIdentity, names } from './support/accounting.ts';
import { withDiag } from './support/diag-capture.ts';
import { busyWait, emitEvents, envFor, exportOnce, newProvider, sdkRecords, withServer, zeroStats } from './support/hand-wired.ts';
import { waitFor } from './support/host-process.ts';
import { withPipeline } from './support/pipeline.ts';

describe('flush and shutdown', () => {
  test('exports overlapping after the batch export timeout deliver every event exactly once', async () => {
    // A slow synchronous beforeSend on the first batch makes its export outlive the batch
    // processor's 300 ms export timeout, so the batch processor starts the next export while the
    // first one's request is still in flight.
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      if (event.event === 'slow') busyWait(150);
      return event;
    };
    await withPipeline(
      { options: { exportTimeoutMillis: 300, timeoutMillis: 5000, maxExportBatchSize: 2, scheduledDelayMillis: 5, beforeSend } },
      async (p) => {
        assert.equal(p.processor.exporter.exportDeadlineMillis, 270, 'the exporter deadline stays below the batch export timeout');
        p.server.setDefault({ delayMs: 200 });
        p.logger().emit({ eventName: 'slow' });
        for (const name of ['first', 'a', 'b', 'c', 'd']) p.logger().emit({ eventName: name });
        await p.server.waitForRequests(3, 3000);
        await p.processor.forceFlush();

        // Request i is in flight from receivedAt to receivedAt + 200 ms: count the overlap.
        const times = p.requests().map((r) => r.receivedAt);
        const overlapping = times.some((t, i) => times.some((u, j) => j !== i && u >= t && u < t + 200));
        assert.ok(
          overlapping,
          `two exports were in flight at once (requests received at ${times.map((t) => t - times[0]!).join(', ')} ms)`,
        );
        // A request cut off by the export deadline may have reached the server before its answer
        // did; the resend carries the same uuids, which PostHog dedupes. Stored: each event once.
        assert.deepEqual(names(p.server.acceptedEvents()), ['a', 'b', 'c', 'd', 'first', 'slow']);
        const stats = p.processor.getStats();
        assert.equal(stats.delivered, 6);
        assert.equal(stats.pending, 0);
        assertIdentity(stats);
      },
    );
  });

  test('queue_full: records over maxQueueSize are counted, warned about, and the rest delivered', async () => {
    await withDiag(async (d) => {
      await withPipeline({ options: { maxQueueSize: 5, scheduledDelayMillis: 60_000 } }, async (p) => {
        emitEvents(p.logger(), 'burst', 12);
        const during = p.processor.getStats();
        assert.equal(during.dropped.queue_full, 7);
        assertIdentity(during, 'identity holds even before the flush');

        await p.flush();
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 12, selected: 12, delivered: 5, dropped: { queue_full: 7 }, requests: 1 }));
        assertIdentity(stats);
        assert.deepEqual(names(p.server.acceptedEvents()), ['burst_0', 'burst_1', 'burst_2', 'burst_3', 'burst_4']);
        const warnings = d.ours('warn');
        assert.equal(warnings.length, 1, JSON.stringify(warnings));
        assert.match(warnings[0]!, /queue was full/);
        assert.match(warnings[0]!, /maxQueueSize/);
      });
    });
  });

  test('forceFlush is bounded by flushTimeoutMillis when the server hangs; the events stay pending and go out later', async () => {
    await withPipeline(
      { options: { flushTimeoutMillis: 300, scheduledDelayMillis: 60_000, retryInitialDelayMillis: 5_000 } },
      async (p) => {
        p.server.setDefault({ hang: true });
        emitEvents(p.logger(), 'stuck', 4);
        const start = performance.now();
        await p.processor.forceFlush();
        const elapsed = performance.now() - start;
        assert.ok(elapsed < 2000, `forceFlush took ${elapsed.toFixed(0)} ms`);
        assert.ok(elapsed >= 250, `forceFlush gave the request its budget (${elapsed.toFixed(0)} ms)`);

        const stuck = p.processor.getStats();
        assert.deepEqual(stuck.dropped, {}, 'nothing is dropped by a forceFlush deadline');
        assert.equal(stuck.pending, 4);
        assert.equal(stuck.retryBuffered, 4);
        assertIdentity(stuck);
        assert.equal(p.server.acceptedEvents().length, 0);

        p.server.setDefault({});
        await p.processor.forceFlush();
        assertAcceptedOnce(p.server, 4);
        const stats = p.processor.getStats();
        assert.equal(stats.delivered, 4);
        assert.equal(stats.pending, 0);
        assert.equal(stats.retryBuffered, 0);
        assert.deepEqual(stats.dropped, {});
        assertIdentity(stats);
      },
    );
  });

  test('shutdown is bounded when the server hangs: leftovers count as deadline; later records as shutdown, with no request', async () => {
    await withServer(async (server) => {
      server.setDefault({ hang: true });
      const processor = new PostHogLogRecordProcessor({ flushTimeoutMillis: 300, scheduledDelayMillis: 60_000 }, { env: envFor(server) });
      const provider = newProvider(processor);
      const logger = provider.getLogger('app');
      try {
        emitEvents(logger, 'doomed', 3);
        const start = performance.now();
        await processor.shutdown();
        const elapsed = performance.now() - start;
        assert.ok(elapsed < 2000, `shutdown took ${elapsed.toFixed(0)} ms`);
        assert.equal(server.requests.length, 1);
        const afterShutdown = processor.getStats();
        assert.deepEqual(afterShutdown, zeroStats({ emitted: 3, selected: 3, dropped: { deadline: 3 }, requests: 1 }));
        assertIdentity(afterShutdown);

        emitEvents(logger, 'too_late', 2);
        await processor.forceFlush();
        await sleep(20);
        assert.equal(server.requests.length, 1, 'records after shutdown cause no request');
        const stats = processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 5, selected: 5, dropped: { deadline: 3, shutdown: 2 }, requests: 1 }));
        assertIdentity(stats);
      } finally {
        await provider.shutdown();
      }
    });
  });

  test(
    'a resource whose async attributes never settle: forceFlush and shutdown end at flushTimeoutMillis, and the held records stay counted',
    { timeout: 10_000 },
    async () => {
      await withServer(async (server) => {
        await withDiag(async (d) => {
          const clock = new ManualClock();
          const processor = new PostHogLogRecordProcessor(
            { scheduledDelayMillis: 60_000, flushTimeoutMillis: 3_000 },
            { env: envFor(server), clock },
          );
          // A stuck cloud-metadata detector: the batch processor awaits it before every export.
          const provider = new LoggerProvider({
            resource: resourceFromAttributes({ 'cloud.region': new Promise<string>(() => undefined) }),
            processors: [processor],
          });
          emitEvents(provider.getLogger('app'), 'held', 2);

          const flushStart = clock.now();
          await clock.run(processor.forceFlush());
          assert.equal(clock.now() - flushStart, 3_000, 'forceFlush ended at its deadline');
          let stats = processor.getStats();
          assert.deepEqual(
            { pending: stats.pending, delivered: stats.delivered, dropped: stats.dropped },
            { pending: 2, delivered: 0, dropped: {} },
          );
          assertIdentity(stats);

          const shutdownStart = clock.now();
          await clock.run(processor.shutdown());
          assert.ok(clock.now() - shutdownStart <= 3_000, 'shutdown ended by its deadline');
          assert.equal(server.requests.length, 0);
          stats = processor.getStats();
          assert.equal(stats.pending, 2, 'still held by the batch processor, and said so');
          assertIdentity(stats);
          assert.equal(
            d.all('warn').filter((w) => /shutdown: 2 record\(s\) never reached the exporter/.test(w)).length,
            1,
            JSON.stringify(d.all('warn')),
          );
        });
      });
    },
  );

  test(
    'a resource whose async attributes never settle: shutdown on its own ends at flushTimeoutMillis and shuts the exporter down',
    { timeout: 10_000 },
    async () => {
      await withServer(async (server) => {
        const clock = new ManualClock();
        const processor = new PostHogLogRecordProcessor(
          { scheduledDelayMillis: 60_000, flushTimeoutMillis: 3_000 },
          { env: envFor(server), clock },
        );
        const provider = new LoggerProvider({
          resource: resourceFromAttributes({ 'cloud.region': new Promise<string>(() => undefined) }),
          processors: [processor],
        });
        emitEvents(provider.getLogger('app'), 'held', 2);
        const start = clock.now();
        await clock.run(processor.shutdown());
        assert.equal(clock.now() - start, 3_000, 'shutdown ended at its deadline');
        // The exporter is shut down: an export the batch processor makes later counts its records as shutdown.
        const late = await exportOnce(processor.exporter, await sdkRecords((logger) => logger.emit({ eventName: 'late' })));
        assert.equal(late.code, ExportResultCode.FAILED);
        assert.equal(server.requests.length, 0);
      });
    },
  );

  test('a forceFlush asked for during shutdown waits for it, and every queued batch is delivered', async () => {
    await withServer(async (server) => {
      server.setDefault({ delayMs: 30 });
      const processor = new PostHogLogRecordProcessor({ maxExportBatchSize: 10, scheduledDelayMillis: 60_000 }, { env: envFor(server) });
      const provider = newProvider(processor);
      try {
        emitEvents(provider.getLogger('app'), 'queued', 25);
        const shutdown = processor.shutdown();
        await processor.forceFlush();
        await shutdown;
        assert.equal(server.acceptedEvents().length, 25);
        const stats = processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 25, selected: 25, delivered: 25, requests: 3 }));
        assertIdentity(stats);
      } finally {
        await provider.shutdown();
      }
    });
  });

  test('shutdown keeps resending within its window: Retry-After is honoured, and the events are delivered', async () => {
    await withPipeline(
      { options: { flushTimeoutMillis: 10_000, retryInitialDelayMillis: 300, scheduledDelayMillis: 60_000 } },
      async (p) => {
        // Two failures put the next attempt past the short wait an export takes in place.
        p.server.script({ status: 503 }, { status: 503, headers: { 'retry-after': '1' } });
        emitEvents(p.logger(), 'last_words', 2);
        const start = performance.now();
        await p.processor.shutdown();
        const elapsed = performance.now() - start;
        assert.deepEqual(
          p.server.requests.map((r) => r.responseStatus),
          [503, 503, 200],
        );
        assert.ok(elapsed >= 1000, `the third attempt waited for Retry-After (${elapsed.toFixed(0)} ms)`);
        assertAcceptedOnce(p.server, 2);
        // The third attempt is a resend from the retry buffer: the same request, its third attempt.
        assert.deepEqual(
          p.server.requests.map((r) => r.headers['posthog-attempt']),
          ['1', '2', '3'],
        );
        assert.equal(new Set(p.server.requests.map((r) => r.headers['posthog-request-id'])).size, 1);
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 2, selected: 2, delivered: 2, requests: 3, retries: 2 }));
        assertIdentity(stats);
      },
    );
  });

  test('shutdown while a forceFlush runs still exports what arrived during that flush', async () => {
    await withServer(async (server) => {
      server.setDefault({ delayMs: 200 });
      const processor = new PostHogLogRecordProcessor({ scheduledDelayMillis: 60_000 }, { env: envFor(server) });
      const provider = newProvider(processor);
      const logger = provider.getLogger('app');
      try {
        emitEvents(logger, 'before_flush', 1);
        // A flush at the end of an invocation, racing the process's shutdown.
        const flush = processor.forceFlush();
        await sleep(50);
        emitEvents(logger, 'during_flush', 1);
        await processor.shutdown();
        await flush;
        assert.deepEqual(
          server.acceptedEvents().map((e) => e.event),
          ['before_flush_0', 'during_flush_0'],
        );
        const stats = processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 2, selected: 2, delivered: 2, requests: 2 }));
        assertIdentity(stats);
        const start = performance.now();
        await processor.forceFlush();
        assert.ok(performance.now() - start < 1000, 'a flush after shutdown returns at once');
      } finally {
        await provider.shutdown();
      }
    });
  });

  test('concurrent forceFlush: the second call waits for the records emitted before it', async () => {
    await withPipeline({ options: { scheduledDelayMillis: 60_000 } }, async (p) => {
      p.server.setDefault({ delayMs: 100 });
      p.logger().emit({ eventName: 'first' });
      const firstFlush = p.processor.forceFlush();
      await sleep(20);
      p.logger().emit({ eventName: 'second' });
      await p.processor.forceFlush();
      const afterSecond = names(p.server.acceptedEvents());
      await firstFlush;
      assert.deepEqual(afterSecond, ['first', 'second']);
    });
  });

  test('forceFlush waits out the Retry-After the server asked for, then resends and delivers', async () => {
    const clock = new InstantClock();
    await withPipeline(
      { options: { maxAttempts: 3, retryInitialDelayMillis: 0, scheduledDelayMillis: 5 }, internals: { clock } },
      async (p) => {
        p.server.script({ status: 503, headers: { 'retry-after': '2' } });
        p.logger().emit({ eventName: 'patient' });
        await waitFor(() => p.processor.getStats().retryBuffered === 1, 2000, 'the event to wait in the retry buffer');
        assert.deepEqual(clock.sleeps, [], 'a 2 s Retry-After is longer than an export waits in place');
        await p.processor.forceFlush();
        assert.deepEqual(clock.sleeps, [2000], 'the flush slept exactly the Retry-After before resending');
        assert.equal(p.requests().length, 2);
        assert.deepEqual(
          p.requests().map((r) => r.headers['posthog-attempt']),
          ['1', '2'],
        );
        assertAcceptedOnce(p.server, 1);
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 1, selected: 1, delivered: 1, requests: 2, retries: 1 }));
        assertIdentity(stats);
      },
    );
  });
});

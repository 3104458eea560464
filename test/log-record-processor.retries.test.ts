// Retries through the processor: a 503 retried within the export, events cut short by a deadline
// waiting in the retry buffer, attempts and age running out, each counted once.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAcceptedOnce, assertIdentity } from './support/accounting.ts';
import { emitEvents, zeroStats } from './support/hand-wired.ts';
import { waitFor } from './support/host-process.ts';
import { withPipeline } from './support/pipeline.ts';

describe('retries', () => {
  test('a 503 is retried within the export and the events are delivered exactly once', async () => {
    await withPipeline({ options: { maxAttempts: 2, retryInitialDelayMillis: 0, scheduledDelayMillis: 60_000 } }, async (p) => {
      p.server.script({ status: 503 });
      emitEvents(p.logger(), 'retried', 3);
      await p.flush();
      const requests = p.requests();
      assert.deepEqual(
        requests.map((r) => [r.responseStatus, r.headers['posthog-attempt']]),
        [
          [503, '1'],
          [200, '2'],
        ],
      );
      assert.equal(requests[0]!.headers['posthog-request-id'], requests[1]!.headers['posthog-request-id']);
      assertAcceptedOnce(p.server, 3);
      const stats = p.processor.getStats();
      assert.deepEqual(stats, zeroStats({ emitted: 3, selected: 3, delivered: 3, requests: 2, retries: 1 }));
      assertIdentity(stats);
    });
  });

  test('events the deadline cuts short wait in the retry buffer and go out again on a timer, as the same request, exactly once', async () => {
    // 503, then 503 with a Retry-After longer than the export deadline: the second wait cannot fit, so
    // the events are kept (2 of 3 attempts spent) and a timer resends them after the Retry-After.
    await withPipeline(
      { options: { maxAttempts: 3, retryInitialDelayMillis: 0, timeoutMillis: 150, scheduledDelayMillis: 5 } },
      async (p) => {
        p.server.script({ status: 503 }, { status: 503, headers: { 'retry-after': '0.25' } });
        emitEvents(p.logger(), 'buffered', 2);
        await p.server.waitForRequests(2, 1000);
        await waitFor(() => p.processor.getStats().retryBuffered === 2, 2000, 'the events to wait in the retry buffer');
        const waiting = p.processor.getStats();
        assert.deepEqual(
          waiting,
          zeroStats({
            emitted: 2,
            selected: 2,
            pending: 2,
            retryBuffered: 2,
            requests: 2,
            retries: 1,
            status: 'outage',
            outage: waiting.outage,
          }),
        );
        assertIdentity(waiting);

        const [, second, third] = await p.server.waitForRequests(3, 2000);
        assert.ok(
          third!.receivedAt - second!.receivedAt >= 240,
          `the resend respected Retry-After (${third!.receivedAt - second!.receivedAt} ms)`,
        );
        await p.processor.forceFlush();
        assert.equal(p.requests().length, 3);
        assert.deepEqual(
          p.requests().map((r) => r.headers['posthog-attempt']),
          ['1', '2', '3'],
        );
        assert.equal(new Set(p.requests().map((r) => r.headers['posthog-request-id'])).size, 1);
        assertAcceptedOnce(p.server, 2);
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 2, selected: 2, delivered: 2, requests: 3, retries: 2 }));
        assertIdentity(stats);
      },
    );
  });

  test('retries exhausted with the retry buffer off: the events are dropped as retry_exhausted at once and the identity still holds', async () => {
    await withPipeline(
      { options: { maxAttempts: 2, retryInitialDelayMillis: 0, scheduledDelayMillis: 60_000, retryBufferMaxEvents: 0 } },
      async (p) => {
        p.server.script({ status: 503 }, { status: 503 });
        emitEvents(p.logger(), 'lost', 2);
        await p.flush();
        const stats = p.processor.getStats();
        assert.deepEqual(
          stats,
          zeroStats({
            emitted: 2,
            selected: 2,
            dropped: { retry_exhausted: 2 },
            requests: 2,
            retries: 1,
            status: 'outage',
            outage: stats.outage,
          }),
        );
        assertIdentity(stats);
        assert.equal(p.requests().length, 2);
      },
    );
  });

  test('retries exhausted with the retry buffer on: maxAttempts counts every request, so the flush does not resend them', async () => {
    await withPipeline({ options: { maxAttempts: 2, retryInitialDelayMillis: 0, scheduledDelayMillis: 60_000 } }, async (p) => {
      p.server.script({ status: 503 }, { status: 503 });
      emitEvents(p.logger(), 'spent', 2);
      await p.flush();
      const requests = p.requests();
      assert.deepEqual(
        requests.map((r) => [r.responseStatus, r.headers['posthog-attempt']]),
        [
          [503, '1'],
          [503, '2'],
        ],
      );
      assert.equal(requests[0]!.headers['posthog-request-id'], requests[1]!.headers['posthog-request-id']);
      const stats = p.processor.getStats();
      assert.deepEqual(
        stats,
        zeroStats({
          emitted: 2,
          selected: 2,
          dropped: { retry_exhausted: 2 },
          requests: 2,
          retries: 1,
          status: 'outage',
          outage: stats.outage,
        }),
      );
      assertIdentity(stats);
    });
  });

  test('waiting past retryBufferMaxAgeMillis: retry_exhausted at the next delivery, the details naming the age, no further request', async () => {
    const drops: Array<[string, number, string | undefined]> = [];
    const onDrop = (events: readonly unknown[], reason: string, details: string | undefined): void => {
      drops.push([reason, events.length, details]);
    };
    // An age bound of 0: whatever waits is too old by the next delivery. A 2 s Retry-After puts the
    // request in the buffer, past the 1 s flush window.
    await withPipeline(
      { options: { maxAttempts: 10, scheduledDelayMillis: 60_000, flushTimeoutMillis: 1_000, retryBufferMaxAgeMillis: 0, onDrop } },
      async (p) => {
        p.server.script({ status: 503, headers: { 'retry-after': '2' } });
        emitEvents(p.logger(), 'aged', 2);
        await p.flush();
        assert.equal(p.processor.getStats().retryBuffered, 2);
        emitEvents(p.logger(), 'fresh', 1);
        await p.flush();
        // The fresh event waits, unsent, for the outage's next probe (after the Retry-After).
        assert.equal(p.requests().length, 1);
        const stats = p.processor.getStats();
        assert.deepEqual(
          stats,
          zeroStats({
            emitted: 3,
            selected: 3,
            pending: 1,
            retryBuffered: 1,
            dropped: { retry_exhausted: 2 },
            requests: 1,
            status: 'outage',
            outage: stats.outage,
          }),
        );
        assertIdentity(stats);
        assert.deepEqual(drops, [['retry_exhausted', 2, 'still undelivered after 0 ms of retries']]);
      },
    );
  });
});

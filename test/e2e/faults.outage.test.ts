// Fault injection, a long outage: capture v1 conformance of attempts across the retry buffer, and
// the bounds that hold while PostHog is down (retry buffer size and age, resend timers, the batch
// queue, records after shutdown).
// Every scenario checks that nothing escapes into the host process (no throw, no unhandled
// rejection), that flush and shutdown end by their deadlines (wall time), and that
// `selected === delivered + sum(dropped) + pending` once a flush completes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { systemClock } from '../../src/shared/clock.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { InstantClock } from '../support/clocks.ts';
import { assertIdentity, assertRequestCounts, assertStoredOnce, names } from '../support/accounting.ts';
import { guardProcess, waitFor } from '../support/host-process.ts';
import { startFastPipeline } from '../support/pipeline.ts';

/** Slack over a deadline for timers, sockets and the event loop on a loaded 2-core machine. */
const SLACK_MS = 400;

describe('attempts across the retry buffer', () => {
  const OPTIONS = { retryInitialDelayMillis: 500, retryMaxDelayMillis: 30_000, timeoutMillis: 10_000, flushTimeoutMillis: 10_000 };

  test('attempt_header_increments_on_retry: 503, 503, 200 gives PostHog-Attempt 1, 2, 3 under one request id and created_at', async (t) => {
    const clean = guardProcess(t);
    const clock = new InstantClock();
    const rig = await startFastPipeline(t, { internals: { clock, random: () => 0 }, options: { ...OPTIONS, maxAttempts: 4 } });
    rig.server.script({ status: 503 }, { status: 503 });
    rig.emit(1, 'conformance');
    await rig.flush();
    const requests = rig.server.requests;
    // Attempt 2 in place after 500 ms; attempt 3 from the retry buffer, at the flush, once the
    // outage's backoff allows (500 ms later).
    assert.deepEqual(clock.sleeps, [500, 500]);
    assert.deepEqual(
      requests.map((r) => [r.responseStatus, r.headers['posthog-attempt']]),
      [
        [503, '1'],
        [503, '2'],
        [200, '3'],
      ],
    );
    assert.equal(new Set(requests.map((r) => r.headers['posthog-request-id'])).size, 1);
    assert.equal(new Set(requests.map((r) => (r.decodedBody as { created_at: string }).created_at)).size, 1);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(
      { delivered: stats.delivered, requests: stats.requests, retries: stats.retries },
      { delivered: 1, requests: 3, retries: 2 },
    );
    assertRequestCounts(stats, rig.server);
    clean();
  });

  test('max_retries_respected: maxAttempts 4 against five 503s gives exactly 4 requests, through flush and shutdown', async (t) => {
    const clean = guardProcess(t);
    const clock = new InstantClock();
    const rig = await startFastPipeline(t, { internals: { clock, random: () => 0 }, options: { ...OPTIONS, maxAttempts: 4 } });
    rig.server.script({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    rig.emit(1, 'conformance');
    await rig.flush();
    await rig.flush();
    await rig.shutdown();
    assert.deepEqual(
      rig.server.requests.map((r) => r.headers['posthog-attempt']),
      ['1', '2', '3', '4'],
    );
    assert.equal(new Set(rig.server.requests.map((r) => r.headers['posthog-request-id'])).size, 1);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { retry_exhausted: 1 });
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 4, retries: 3 });
    clean();
  });

  test('a 503 storm through exports, flushes and shutdown: no event is carried by more than maxAttempts requests', async (t) => {
    const clean = guardProcess(t);
    const clock = new InstantClock();
    const rig = await startFastPipeline(t, {
      internals: { clock, random: () => 0 },
      options: { ...OPTIONS, maxAttempts: 5, maxExportBatchSize: 4 },
    });
    rig.server.setDefault({ status: 503 });
    rig.emit(10, 'storm');
    await rig.flush();
    rig.emit(6, 'later');
    await rig.flush();
    await rig.shutdown();
    const carried = new Map<string, number>();
    for (const request of rig.server.requests)
      for (const event of request.events) carried.set(event.uuid, (carried.get(event.uuid) ?? 0) + 1);
    // Exports during the outage are held, not sent; one probe at a time goes.
    assert.ok(Math.max(...carried.values()) <= 5, 'no event went out in more than maxAttempts requests');
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.pending, 0);
    assert.equal(stats.delivered, 0);
    assertRequestCounts(stats, rig.server);
    clean();
  });
});

describe('bounds under an outage', () => {
  test('the retry buffer overflows: the oldest are retry_buffer_full, the rest delivered after recovery', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t, {
      options: { retryBufferMaxEvents: 5, maxAttempts: 10_000, timeoutMillis: 2_000, flushTimeoutMillis: 500 },
    });
    rig.server.setDefault({ status: 503 });
    rig.emit(12, 'overflow');
    await rig.flush();
    const during = rig.stats();
    assertIdentity(during, 'during the outage');
    assert.deepEqual(during.dropped, { retry_buffer_full: 7 });
    assert.equal(during.pending, 5);
    await rig.settle();
    rig.server.setDefault({});
    await rig.flush();
    const after = rig.stats();
    assertIdentity(after, 'after recovery');
    assert.equal(after.delivered, 5);
    assert.equal(after.pending, 0);
    assert.deepEqual(names(assertStoredOnce(rig.server)), ['overflow-10', 'overflow-11', 'overflow-7', 'overflow-8', 'overflow-9']);
    clean();
  });

  test('events older than retryBufferMaxAgeMillis are dropped as retry_exhausted at the next delivery, the details naming the age', async (t) => {
    const clean = guardProcess(t);
    const drops: Array<[string, number, string | undefined]> = [];
    // Buffered about 50 ms into a 100 ms flush, so still young (< 200 ms) when the flush ends.
    const rig = await startFastPipeline(t, {
      options: {
        retryBufferMaxAgeMillis: 200,
        retryInitialDelayMillis: 10_000,
        retryMaxDelayMillis: 10_000,
        maxAttempts: 100,
        timeoutMillis: 50,
        flushTimeoutMillis: 100,
        onDrop: (events, reason, details) => drops.push([reason, events.length, details]),
      },
    });
    rig.server.setDefault({ status: 503 });
    rig.emit(3, 'stale');
    await rig.flush();
    assert.equal(rig.stats().retryBuffered, 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await rig.settle();
    rig.server.setDefault({});
    rig.emit(1, 'fresh');
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { retry_exhausted: 3 });
    assert.deepEqual(drops, [['retry_exhausted', 3, 'still undelivered after 200 ms of retries']]);
    // The fresh event waits, unsent, for the outage's next probe (10 s after it began).
    assert.equal(stats.delivered, 0);
    assert.equal(stats.pending, 1);
    assert.equal(stats.retryBuffered, 1);
    assert.equal(rig.server.requests.length, 1);
    clean();
  });

  test('without any flush, buffered events are resent on their own timer once due', async (t) => {
    const rig = await startFastPipeline(t, {
      options: { maxAttempts: 100, timeoutMillis: 100, flushTimeoutMillis: 200, retryInitialDelayMillis: 20, retryMaxDelayMillis: 50 },
    });
    rig.server.setDefault({ status: 503 });
    rig.emit(4, 'timer');
    await rig.flush();
    assert.equal(rig.stats().retryBuffered, 4);
    await rig.settle();
    rig.server.setDefault({});
    // Resends are at least 100 ms apart; one may still meet the 503 before the switch: generous margin.
    await waitFor(() => rig.stats().delivered === 4, 3_000, 'the timed resend');
    assertIdentity(rig.stats());
  });

  test('a resend timer that fires before its events are due (clock and timers disagree) is re-armed', async (t) => {
    // A clock running at half the speed of timers: every timer fires "early" by this clock.
    const origin = Date.now();
    const slow: Clock = {
      now: () => origin + (Date.now() - origin) / 2,
      sleep: (ms, signal) => systemClock.sleep(ms * 2, signal),
    };
    const rig = await startFastPipeline(t, {
      internals: { clock: slow, random: () => 0 },
      options: { maxAttempts: 100, timeoutMillis: 100, flushTimeoutMillis: 200, retryInitialDelayMillis: 40, retryMaxDelayMillis: 40 },
    });
    rig.server.setDefault({ status: 503 });
    rig.emit(2, 'early');
    await rig.flush();
    assert.equal(rig.stats().retryBuffered, 2);
    await rig.settle();
    rig.server.setDefault({});
    // At half speed the 100 ms minimum between resends is 200 ms of timers, and a resend may still meet
    // the 503 before the switch: a generous margin. The timer must re-arm itself each time it fires early.
    await waitFor(() => rig.stats().delivered === 2, 3_000, 'the re-armed resend');
    assertIdentity(rig.stats());
  });

  test('a full batch queue: records over maxQueueSize are queue_full, the rest delivered', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t, { options: { maxQueueSize: 5, maxExportBatchSize: 5 } });
    // The fifth record fills a batch, which leaves the queue for an export that has not reached the
    // exporter yet: counted as still queued, so the next three are refused.
    rig.emit(8, 'queued');
    const ms = await rig.timedFlush();
    assert.ok(ms < 1_000 + SLACK_MS);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.selected, 8);
    assert.deepEqual(stats.dropped, { queue_full: 3 });
    assert.equal(stats.delivered, 5);
    assert.equal(stats.pending, 0);
    assert.deepEqual(names(rig.server.acceptedEvents()), ['queued-0', 'queued-1', 'queued-2', 'queued-3', 'queued-4']);
    clean();
  });

  test('records that reach the processor after its shutdown are dropped as shutdown; broken records never throw', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t);
    rig.emit(2, 'before');
    await rig.shutdown();
    // The rig's provider ignores records after its shutdown; a second provider still feeds our processor.
    const other = new LoggerProvider({ processors: [rig.processor] });
    for (let i = 0; i < 3; i++) other.getLogger('late').emit({ eventName: `after-${i}` });
    assert.doesNotThrow(() => rig.processor.onEmit({} as never));
    assert.doesNotThrow(() => rig.processor.onEmit(null as never));
    await assert.doesNotReject(rig.processor.forceFlush());
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.selected, 5);
    assert.equal(stats.delivered, 2);
    assert.deepEqual(stats.dropped, { shutdown: 3 });
    assert.equal(stats.pending, 0);
    clean();
  });
});

// Fault injection, broken exchanges: resets, hangs, trickling and cut-off responses, a 50 MiB body,
// and hostile Retry-After values, through a real LoggerProvider and PostHogLogRecordProcessor
// against the fake capture server (real HTTP).
// Every scenario checks that nothing escapes into the host process (no throw, no unhandled
// rejection), that flush and shutdown end by their deadlines (wall time), and that
// `selected === delivered + sum(dropped) + pending` once a flush completes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InstantClock } from '../support/clocks.ts';
import { assertIdentity, assertRequestCounts, assertStoredOnce, serverCounts, storedOccurrences } from '../support/accounting.ts';
import { guardProcess } from '../support/host-process.ts';
import { startFastPipeline } from '../support/pipeline.ts';

/** Slack over a deadline for timers, sockets and the event loop on a loaded 2-core machine. */
const SLACK_MS = 400;

describe('broken exchanges', () => {
  test('a reset mid-request is retried and the event delivered once', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t);
    rig.server.script({ reset: true });
    rig.emit(3, 'reset');
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.delivered, 3);
    assert.deepEqual(stats.dropped, {});
    assert.deepEqual(
      rig.server.requests.map((r) => r.responseStatus),
      [0, 200],
    );
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 2, retries: 1 });
    assert.deepEqual(serverCounts(rig.server), { requests: 2, retries: 1 });
    assert.equal(assertStoredOnce(rig.server).length, 3);
    clean();
  });

  test('a server that accepts and never answers: flush ends by its deadline, the events wait; shutdown drops them as deadline', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t, { options: { timeoutMillis: 200, flushTimeoutMillis: 300, maxAttempts: 10 } });
    rig.server.setDefault({ hang: true });
    rig.emit(4, 'hang');
    const flushMs = await rig.timedFlush();
    assert.ok(flushMs >= 150 && flushMs < 300 + SLACK_MS, `flush took ${flushMs} ms`);
    const during = rig.stats();
    assertIdentity(during, 'after the flush');
    assert.equal(during.pending, 4);
    assert.equal(during.retryBuffered, 4);
    assert.deepEqual(during.dropped, {});

    const shutdownMs = await rig.shutdown();
    assert.ok(shutdownMs < 300 + SLACK_MS, `shutdown took ${shutdownMs} ms`);
    const after = rig.stats();
    assertIdentity(after, 'after shutdown');
    assert.deepEqual(after.dropped, { deadline: 4 });
    assert.equal(after.pending, 0);
    assert.equal(after.delivered, 0);
    assertRequestCounts(after, rig.server, 1);
    clean();
  });

  test('a hang, then the server answers: the events are delivered within the same flush', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t, { options: { timeoutMillis: 200, flushTimeoutMillis: 800, maxAttempts: 10 } });
    rig.server.script({ hang: true });
    rig.emit(2, 'late');
    const ms = await rig.timedFlush();
    assert.ok(ms < 800 + SLACK_MS, `flush took ${ms} ms`);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.delivered, 2);
    assert.equal(stats.pending, 0);
    assert.deepEqual(stats.dropped, {});
    assert.equal(assertStoredOnce(rig.server).length, 2);
    clean();
  });

  test('a slow trickling body: in time it is read; too slow it times out, is resent and counted once', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t, { options: { timeoutMillis: 300, flushTimeoutMillis: 1_000, maxAttempts: 10 } });
    // ~8 chunks 20 ms apart: well inside the 300 ms request budget.
    rig.server.script({ trickle: { chunkBytes: 40, intervalMs: 20, totalBytes: 300 } });
    rig.emit(2, 'slow-ok');
    await rig.flush();
    assert.equal(rig.stats().delivered, 2);
    assert.equal(rig.server.requests.length, 1);

    // 10 bytes every 50 ms of a 10 KB body: minutes. The attempt times out, the resend answers at once.
    rig.server.script({ trickle: { chunkBytes: 10, intervalMs: 50, totalBytes: 10_000 } });
    rig.emit(2, 'slow-never');
    const ms = await rig.timedFlush();
    assert.ok(ms < 1_000 + SLACK_MS, `flush took ${ms} ms`);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.delivered, 4);
    assert.deepEqual(stats.dropped, {});
    assert.equal(stats.pending, 0);
    assert.equal(rig.server.requests.length, 3);
    // The server stored the timed-out batch as well: PostHog dedupes the resend by uuid.
    const occurrences = storedOccurrences(rig.server);
    assert.deepEqual(
      rig.server.acceptedEvents().map((e) => [e.event, occurrences.get(e.uuid)]),
      [
        ['slow-ok-0', 1],
        ['slow-ok-1', 1],
        ['slow-never-0', 2],
        ['slow-never-1', 2],
      ],
    );
    clean();
  });

  test('a response cut off after its status: a 400 is still terminal; a 2xx cannot say which events it took, so they are resent', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t, { options: { maxAttempts: 3, retryInitialDelayMillis: 0 } });
    rig.server.script({ status: 400, cutBody: true });
    rig.emit(2, 'refused');
    await rig.flush();
    assert.equal(rig.server.requests.length, 1, 'a 400 is not retried, whatever happens to its body');
    assert.deepEqual(rig.stats().dropped, { status_400: 2 });

    rig.server.script({ status: 200, cutBody: true });
    rig.emit(2, 'unconfirmed');
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.delivered, 2);
    assert.deepEqual(stats.dropped, { status_400: 2 });
    assert.equal(rig.server.requests.length, 3);
    assert.deepEqual(
      rig.server.requests.slice(1).map((r) => r.headers['posthog-request-id']),
      [rig.server.requests[1]!.headers['posthog-request-id'], rig.server.requests[1]!.headers['posthog-request-id']],
      'the resend is the same request: same id',
    );
    clean();
  });

  test('a 50 MiB response body is not buffered: memory stays flat, the answer is malformed_response', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t, { options: { timeoutMillis: 2_000, flushTimeoutMillis: 3_000 } });
    rig.server.script({ oversizedBodyBytes: 50 * 1024 * 1024 });
    rig.emit(2, 'big-answer');
    const before = process.memoryUsage();
    let maxRss = before.rss;
    let maxExternal = before.external + before.arrayBuffers;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      maxRss = Math.max(maxRss, m.rss);
      maxExternal = Math.max(maxExternal, m.external + m.arrayBuffers);
    }, 2);
    let ms: number;
    try {
      ms = await rig.timedFlush();
    } finally {
      clearInterval(sampler);
    }
    const MB = 1024 * 1024;
    assert.ok(maxRss - before.rss < 100 * MB, `rss grew by ${((maxRss - before.rss) / MB).toFixed(1)} MB`);
    assert.ok(maxExternal - (before.external + before.arrayBuffers) < 100 * MB, 'external memory stays flat');
    assert.ok(ms < 3_000 + SLACK_MS, `flush took ${ms} ms`);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { malformed_response: 2 });
    assert.equal(stats.requests, 1);

    // The same on an error answer: a 50 MiB 503 body is cut short, the attempt retried.
    rig.server.script({ status: 503, oversizedBodyBytes: 50 * 1024 * 1024 });
    rig.emit(1, 'big-error');
    const rssBefore = process.memoryUsage().rss;
    await rig.flush();
    assert.ok(process.memoryUsage().rss - rssBefore < 100 * MB);
    const after = rig.stats();
    assertIdentity(after);
    assert.equal(after.delivered, 1);
    assert.deepEqual(after.dropped, { malformed_response: 2 });
    assert.deepEqual({ requests: after.requests, retries: after.retries }, { requests: 3, retries: 1 });
    clean();
  });

  test('hostile Retry-After: a huge value is clamped to retryMaxDelayMillis', async (t) => {
    const clean = guardProcess(t);
    const clock = new InstantClock();
    const rig = await startFastPipeline(t, {
      internals: { clock, random: () => 0 },
      options: { retryInitialDelayMillis: 10, retryMaxDelayMillis: 200, timeoutMillis: 2_000, flushTimeoutMillis: 3_000, maxAttempts: 5 },
    });
    const values = ['999999999', '86400.5', 'Fri, 31 Dec 9999 23:59:59 GMT'];
    for (const value of values) {
      rig.server.script({ status: 503, headers: { 'retry-after': value } }, {});
      rig.emit(1, `clamped-${value.length}`);
      await rig.flush();
    }
    // Each resend waited the cap (200 ms), neither the own 10 ms nor the days the server asked for.
    assert.deepEqual(
      clock.sleeps,
      values.map(() => 200),
    );
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.delivered, 3);
    assert.equal(stats.retries, 3);
    clean();
  });

  test('hostile Retry-After: negative, zero, garbage and oversized values are ignored (own backoff applies)', async (t) => {
    const clean = guardProcess(t);
    // A misread value would be clamped to 1500 ms; the own backoff is 10 ms (no jitter here).
    const clock = new InstantClock();
    const rig = await startFastPipeline(t, {
      internals: { clock, random: () => 0 },
      options: { retryInitialDelayMillis: 10, retryMaxDelayMillis: 1_500, timeoutMillis: 3_000, flushTimeoutMillis: 4_000, maxAttempts: 5 },
    });
    const values = ['-5', '0', 'soon', 'NaN', 'Infinity', '1e9', '+30', ' ', '1'.repeat(80), 'Thu, 01 Jan 1970 00:00:00 GMT', '3 seconds'];
    for (const value of values) {
      rig.server.script({ status: 503, headers: { 'retry-after': value } }, {});
      rig.emit(1, 'ignored');
      await rig.flush();
    }
    assert.deepEqual(
      clock.sleeps,
      values.map(() => 10),
      'every resend waited the own backoff only',
    );
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.delivered, values.length);
    assert.equal(stats.retries, values.length);
    assert.deepEqual(stats.dropped, {});
    clean();
  });
});

describe('Retry-After that only looks like a date', () => {
  test('free text with a year in it is not an HTTP-date and is ignored', async (t) => {
    const rig = await startFastPipeline(t, {
      options: { retryInitialDelayMillis: 10, retryMaxDelayMillis: 400, timeoutMillis: 2_000, flushTimeoutMillis: 3_000, maxAttempts: 5 },
    });
    for (const value of ['later 2099', 'a 9999', 'May 3000']) {
      rig.server.script({ status: 503, headers: { 'retry-after': value } }, {});
      rig.emit(1, 'dated');
      await rig.flush();
      const [first, second] = rig.server.requests.slice(-2);
      const gap = second!.receivedAt - first!.receivedAt;
      assert.ok(gap < 300, `Retry-After ${JSON.stringify(value)}: waited ${gap} ms (clamped to retryMaxDelayMillis instead of ignored)`);
    }
  });
});

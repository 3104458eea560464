// Fault injection, server answers: a 503 storm and recovery, flushes during it, Retry-After across
// flush and shutdown, terminal 429, 413 splitting, partial results and malformed 2xx bodies, through
// a real LoggerProvider and PostHogLogRecordProcessor against the fake capture server (real HTTP).
// Every scenario checks that nothing escapes into the host process (no throw, no unhandled
// rejection), that flush and shutdown end by their deadlines (wall time), and that
// `selected === delivered + sum(dropped) + pending` once a flush completes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { InstantClock } from '../support/clocks.ts';
import { assertIdentity, assertRequestCounts, assertStoredOnce, names, serverCounts } from '../support/accounting.ts';
import { guardProcess } from '../support/host-process.ts';
import { startFastPipeline } from '../support/pipeline.ts';

/** Slack over a deadline for timers, sockets and the event loop on a loaded 2-core machine. */
const SLACK_MS = 400;

function byName(events: readonly CaptureEvent[], name: string): CaptureEvent {
  const found = events.filter((e) => e.event === name);
  assert.equal(found.length, 1, `exactly one ${name} among ${JSON.stringify(names(events))}`);
  return found[0]!;
}

describe('server faults', () => {
  test('a 503 storm, then recovery: events wait in the retry buffer and are delivered exactly once, retries counted', async (t) => {
    const clean = guardProcess(t);
    // Sends are bounded by the 600 ms flush window; a generous per-send budget keeps a slow (loaded)
    // machine from timing out an accepted request, which would then be resent and stored twice.
    const rig = await startFastPipeline(t, { options: { maxAttempts: 10_000, timeoutMillis: 2_000, flushTimeoutMillis: 600 } });
    rig.server.setDefault({ status: 503 });
    rig.emit(20, 'storm');

    const stormMs = await rig.timedFlush();
    assert.ok(stormMs < 600 + SLACK_MS, `flush during the storm took ${stormMs} ms`);
    const during = rig.stats();
    assertIdentity(during, 'during the storm');
    assert.equal(during.selected, 20);
    assert.equal(during.delivered, 0);
    assert.deepEqual(during.dropped, {});
    assert.equal(during.pending, 20);
    assert.equal(during.retryBuffered, 20);
    assert.ok(rig.server.requests.length >= 2, `the storm was retried (${rig.server.requests.length} requests)`);
    await rig.settle();
    assert.ok(rig.server.requests.every((r) => r.responseStatus === 503));

    rig.server.setDefault({});
    const recoveryMs = await rig.timedFlush();
    assert.ok(recoveryMs < 600 + SLACK_MS, `recovery flush took ${recoveryMs} ms`);
    const after = rig.stats();
    assertIdentity(after, 'after recovery');
    assert.equal(after.delivered, 20);
    assert.deepEqual(after.dropped, {});
    assert.equal(after.pending, 0);
    assert.equal(after.retryBuffered, 0);
    const stored = assertStoredOnce(rig.server);
    assert.deepEqual(names(stored), Array.from({ length: 20 }, (_, i) => `storm-${i}`).sort());
    // Requests aborted at the storm flush's deadline may never have reached the server.
    assertRequestCounts(after, rig.server, 2);
    assert.ok(after.retries > 0, 'retries are counted');
    clean();
  });

  test('a flush during a 503 storm keeps to a backoff: no burst of back-to-back requests', async (t) => {
    const clean = guardProcess(t);
    const clock = new InstantClock();
    const rig = await startFastPipeline(t, {
      internals: { clock, random: () => 0 },
      options: {
        maxAttempts: 1_000,
        retryInitialDelayMillis: 200,
        retryMaxDelayMillis: 5_000,
        timeoutMillis: 5_000,
        flushTimeoutMillis: 1_000,
      },
    });
    rig.server.setDefault({ status: 503 });
    rig.emit(3, 'storm');
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, {});
    assert.equal(stats.pending, 3);
    assert.equal(stats.retryBuffered, 3);
    await rig.settle();
    // The export retries in place on its backoff (200, then 400 ms) while that fits its short wait
    // (1 s); the next (800 ms) would not, so its events go to the retry buffer, and the outage begins.
    // The flush then waits for the outage's next probe (200 ms) and sends it; a flush sends one probe
    // at most, so it ends there: four requests, not hundreds.
    assert.deepEqual(clock.sleeps, [200, 400, 200]);
    assert.equal(rig.server.requests.length, 4);
    assertRequestCounts(stats, rig.server, 1);
    clean();
  });

  test('a processor flush, and each exporter forceFlush on its own, make exactly one pass that ignores the own backoff', async (t) => {
    const clean = guardProcess(t);
    // Backoff from 5 s: after the export's first attempt nothing else is due within a 500 ms window.
    // Each request gets one event taken and the rest asked again: a backoff, not an outage.
    const rig = await startFastPipeline(t, {
      options: {
        maxAttempts: 1_000,
        retryInitialDelayMillis: 5_000,
        retryMaxDelayMillis: 60_000,
        timeoutMillis: 5_000,
        flushTimeoutMillis: 500,
      },
    });
    rig.server.setDefault({
      headers: {},
      results: (events) => Object.fromEntries(events.slice(1).map((event) => [event.uuid, { result: 'retry' }])),
    });
    rig.emit(6, 'storm');
    await rig.flush();
    await rig.settle();
    // The export's one attempt, plus the processor's one pass over the retry buffer (the SDK's own
    // call of the exporter's forceFlush inside the processor's flush only waits for the export).
    assert.equal(rig.server.requests.length, 2);
    for (let i = 1; i <= 3; i++) {
      const started = performance.now();
      await rig.processor.exporter.forceFlush();
      const ms = performance.now() - started;
      await rig.settle();
      assert.equal(rig.server.requests.length, 2 + i, `exporter flush #${i}: exactly one more request`);
      assert.ok(ms < 500, `exporter flush #${i} ended when nothing else was due, after ${ms} ms`);
    }
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, {});
    assert.equal(stats.retryBuffered, 1);
    // Every pass resends the same request: one request id, PostHog-Attempt counting up.
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 5, retries: 4 });
    assert.deepEqual(serverCounts(rig.server), { requests: 5, retries: 4 });
    assert.deepEqual(
      rig.server.requests.map((r) => r.headers['posthog-attempt']),
      ['1', '2', '3', '4', '5'],
    );
    assert.deepEqual(
      rig.server.requests.map((r) => r.events.length),
      [6, 5, 4, 3, 2],
    );
    clean();
  });

  test('a forceFlush waits out a Retry-After that ends inside its window, then delivers', async (t) => {
    const clean = guardProcess(t);
    const clock = new InstantClock();
    const rig = await startFastPipeline(t, {
      internals: { clock },
      options: { maxAttempts: 2, retryInitialDelayMillis: 10, retryMaxDelayMillis: 5_000, flushTimeoutMillis: 2_000 },
    });
    rig.server.script({ status: 503, headers: { 'retry-after': '0.4' } });
    rig.emit(2, 'held');
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.delivered, 2);
    assert.equal(stats.pending, 0);
    assert.deepEqual(stats.dropped, {});
    assert.equal(rig.server.requests.length, 2);
    // The resend waited for the Retry-After (0.4 s), not for the own backoff (10 ms), on the clock.
    assert.deepEqual(clock.sleeps, [400]);
    clean();
  });

  test('shutdown without a spool: events held back by a Retry-After past the window get one last attempt', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t, {
      options: { maxAttempts: 1_000, retryMaxDelayMillis: 60_000, timeoutMillis: 5_000, flushTimeoutMillis: 500 },
    });
    rig.server.setDefault({ status: 503, headers: { 'retry-after': '30' } });
    rig.emit(2, 'held');
    await rig.flush();
    await rig.settle();
    // A forceFlush respects the server's 30 s: the export's one attempt, no pass of its own.
    assert.equal(rig.server.requests.length, 1);
    const during = rig.stats();
    assertIdentity(during);
    assert.equal(during.retryBuffered, 2);
    assert.deepEqual(during.dropped, {});

    rig.server.setDefault({});
    const ms = await rig.shutdown();
    assert.ok(ms < 500 + SLACK_MS, `shutdown took ${ms} ms`);
    const after = rig.stats();
    assertIdentity(after);
    assert.equal(after.delivered, 2);
    assert.deepEqual(after.dropped, {});
    assert.equal(after.pending, 0);
    assert.deepEqual(
      rig.server.requests.map((r) => r.responseStatus),
      [503, 200],
    );
    assert.deepEqual(names(assertStoredOnce(rig.server)), ['held-0', 'held-1']);
    clean();
  });

  test('429 is terminal: status_429, one request, no retry', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t, { options: { maxAttempts: 5 } });
    rig.server.setDefault({ status: 429, headers: { 'retry-after': '1' } });
    rig.emit(5, 'limited');
    const ms = await rig.timedFlush();
    assert.ok(ms < 1_000 + SLACK_MS);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { status_429: 5 });
    assert.equal(stats.delivered, 0);
    assert.equal(stats.pending, 0);
    assert.equal(stats.requests, 1);
    assert.equal(stats.retries, 0);
    assert.equal(rig.server.requests.length, 1);
    clean();
  });

  test('413 on a multi-event request splits it in halves until each part is accepted', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t);
    // 4 events → 413; [2] → 413 → [1] ok, [1] ok; [2] → 413 → [1] ok, [1] ok.
    rig.server.script({ status: 413 }, { status: 413 }, {}, {}, { status: 413 }, {}, {});
    rig.emit(4, 'split');
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.delivered, 4);
    assert.deepEqual(stats.dropped, {});
    assert.deepEqual(
      rig.server.requests.map((r) => [r.events.length, r.responseStatus]),
      [
        [4, 413],
        [2, 413],
        [1, 200],
        [1, 200],
        [2, 413],
        [1, 200],
        [1, 200],
      ],
    );
    assert.equal(rig.server.pendingScript, 0);
    assert.deepEqual(names(assertStoredOnce(rig.server)), ['split-0', 'split-1', 'split-2', 'split-3']);
    // Each half is a new request (own request id, attempt 1): no retries.
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 7, retries: 0 });
    assert.deepEqual(serverCounts(rig.server), { requests: 7, retries: 0 });
    clean();
  });

  test('413 on a single event is too_large; an event over ~900 KiB is too_large before any request, the rest delivered', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t);
    rig.server.script({ status: 413 });
    rig.emit(1, 'refused-by-server');
    await rig.flush();
    assert.deepEqual(rig.stats().dropped, { too_large: 1 });
    assert.equal(rig.server.requests.length, 1);

    rig.logger().emit({ eventName: 'huge', attributes: { blob: 'x'.repeat(950 * 1024) } });
    rig.emit(3, 'small');
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { too_large: 2 });
    assert.equal(stats.delivered, 3);
    assert.equal(rig.server.requests.length, 2);
    assert.deepEqual(names(rig.server.requests[1]!.events), ['small-0', 'small-1', 'small-2']);
    clean();
  });

  test('partial results: retry then ok is delivered, drop is server_drop, retry every time is retry_exhausted (retry buffer off)', async (t) => {
    const clean = guardProcess(t);
    // With the retry buffer disabled, an event out of attempts is given up on at once.
    const rig = await startFastPipeline(t, { options: { maxAttempts: 2, retryBufferMaxEvents: 0 } });
    const pick = (events: CaptureEvent[], name: string): string => byName(events, name).uuid;
    rig.server.script(
      {
        headers: {},
        results: (events) => ({
          [pick(events, 'p-retry')]: { result: 'retry' },
          [pick(events, 'p-drop')]: { result: 'drop', details: 'scripted drop' },
          [pick(events, 'p-stubborn')]: { result: 'retry' },
        }),
      },
      { headers: {}, results: (events) => ({ [pick(events, 'p-stubborn')]: { result: 'retry' } }) },
    );
    for (const name of ['p-ok', 'p-retry', 'p-drop', 'p-stubborn', 'p-warning']) rig.logger().emit({ eventName: name });
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.delivered, 3);
    assert.deepEqual(stats.dropped, { server_drop: 1, retry_exhausted: 1 });
    assert.equal(stats.pending, 0);
    assert.deepEqual(
      rig.server.requests.map((r) => names(r.events)),
      [
        ['p-drop', 'p-ok', 'p-retry', 'p-stubborn', 'p-warning'],
        ['p-retry', 'p-stubborn'],
      ],
    );
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 2, retries: 1 });
    assert.deepEqual(serverCounts(rig.server), { requests: 2, retries: 1 });
    assert.deepEqual(names(assertStoredOnce(rig.server)), ['p-ok', 'p-retry', 'p-warning']);
    clean();
  });

  test('partial results with the retry buffer on: an event the server keeps marking `retry` goes on under its request id, in place and from the buffer, until maxAttempts requests carried it', async (t) => {
    const clean = guardProcess(t);
    const clock = new InstantClock();
    // A 600 ms first delay: one retry fits the export's short wait in place (1 s), the next does not.
    const rig = await startFastPipeline(t, {
      internals: { clock, random: () => 0 },
      options: {
        maxAttempts: 3,
        retryInitialDelayMillis: 600,
        retryMaxDelayMillis: 5_000,
        timeoutMillis: 5_000,
        flushTimeoutMillis: 5_000,
      },
    });
    const pick = (events: CaptureEvent[], name: string): string => byName(events, name).uuid;
    rig.server.script({
      headers: {},
      results: (events) => ({
        [pick(events, 'p-retry')]: { result: 'retry' },
        [pick(events, 'p-drop')]: { result: 'drop', details: 'scripted drop' },
        [pick(events, 'p-stubborn')]: { result: 'retry' },
      }),
    });
    rig.server.setDefault({ headers: {}, results: (events) => ({ [pick(events, 'p-stubborn')]: { result: 'retry' } }) });
    for (const name of ['p-ok', 'p-retry', 'p-drop', 'p-stubborn', 'p-warning']) rig.logger().emit({ eventName: name });
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    // Attempt 2 in place; then p-stubborn waited in the buffer, and the flush sent its 3rd and last attempt.
    assert.deepEqual(clock.sleeps, [600]);
    assert.equal(stats.delivered, 3);
    assert.deepEqual(stats.dropped, { server_drop: 1, retry_exhausted: 1 });
    assert.equal(stats.pending, 0);
    assert.deepEqual(
      rig.server.requests.map((r) => names(r.events)),
      [['p-drop', 'p-ok', 'p-retry', 'p-stubborn', 'p-warning'], ['p-retry', 'p-stubborn'], ['p-stubborn']],
    );
    assert.deepEqual(
      rig.server.requests.map((r) => r.headers['posthog-attempt']),
      ['1', '2', '3'],
    );
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 3, retries: 2 });
    assert.deepEqual(serverCounts(rig.server), { requests: 3, retries: 2 });
    assert.deepEqual(names(assertStoredOnce(rig.server)), ['p-ok', 'p-retry', 'p-warning']);
    clean();
  });

  test('malformed 2xx bodies are malformed_response, never retried', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t);
    const variants: Array<{ status?: number; body: string }> = [
      { body: 'not json' },
      { body: '' },
      { body: '{"results":' },
      { body: 'null' },
      { body: '"ok"' },
      { body: '[]' },
      { body: '{}' },
      { body: '{"results":[]}' },
      { body: '{"results":"ok"}' },
      { body: '{"results":null}' },
      { status: 202, body: '<html>accepted</html>' },
      { status: 204, body: '' },
    ];
    rig.server.script(...variants);
    for (let i = 0; i < variants.length; i++) {
      rig.logger().emit({ eventName: `m-${i}` });
      const ms = await rig.timedFlush();
      assert.ok(ms < 1_000 + SLACK_MS);
      assert.deepEqual(rig.stats().dropped, { malformed_response: i + 1 }, `variant ${JSON.stringify(variants[i])}`);
    }
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.delivered, 0);
    assert.equal(stats.requests, variants.length);
    assert.equal(stats.retries, 0);
    assert.equal(rig.server.requests.length, variants.length);
    clean();
  });
});

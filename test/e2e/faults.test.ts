// Fault injection: a real LoggerProvider and PostHogLogRecordProcessor against the fake capture
// server (real HTTP on 127.0.0.1), a closed port, an unknown host and a TLS server with a
// self-signed certificate. Every scenario checks that nothing escapes into the host process (no
// throw, no unhandled rejection), that flush and shutdown end by their deadlines (wall time), and
// that `selected === delivered + sum(dropped) + pending` once a flush completes.

import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { systemClock } from '../../src/shared/clock.ts';
import type { Clock } from '../../src/shared/clock.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { PostHogSpanEventProcessor } from '../../src/span-event-processor.ts';
import { FakeCaptureServer, isRfc3339 } from '../support/fake-capture-server.ts';
import { InstantClock } from '../support/instant-clock.ts';
import {
  assertIdentity,
  assertRequestCounts,
  assertStoredOnce,
  guardProcess,
  names,
  serverCounts,
  startRig,
  storedOccurrences,
  waitFor,
} from '../fixtures/delivery-rig.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Slack over a deadline for timers, sockets and the event loop on a loaded 2-core machine. */
const SLACK_MS = 400;

function byName(events: readonly CaptureEvent[], name: string): CaptureEvent {
  const found = events.filter((e) => e.event === name);
  assert.equal(found.length, 1, `exactly one ${name} among ${JSON.stringify(names(events))}`);
  return found[0]!;
}

/** A port on 127.0.0.1 with nothing listening (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('server faults', () => {
  test('a 503 storm, then recovery: events wait in the retry buffer and are delivered exactly once, retries counted', async (t) => {
    const clean = guardProcess(t);
    // Sends are bounded by the 600 ms flush window; a generous per-send budget keeps a slow (loaded)
    // machine from timing out an accepted request, which would then be resent and stored twice.
    const rig = await startRig(t, { options: { maxAttempts: 10_000, timeoutMillis: 2_000, flushTimeoutMillis: 600 } });
    rig.server.setDefault({ status: 503 });
    rig.emit(20, 'storm');

    const stormMs = await rig.flush();
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
    const recoveryMs = await rig.flush();
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
    const rig = await startRig(t, {
      clock,
      random: () => 0,
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
    const rig = await startRig(t, {
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
    const rig = await startRig(t, {
      clock,
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
    const rig = await startRig(t, {
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
    const rig = await startRig(t, { options: { maxAttempts: 5 } });
    rig.server.setDefault({ status: 429, headers: { 'retry-after': '1' } });
    rig.emit(5, 'limited');
    const ms = await rig.flush();
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
    const rig = await startRig(t);
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
    const rig = await startRig(t);
    rig.server.script({ status: 413 });
    rig.emit(1, 'refused-by-server');
    await rig.flush();
    assert.deepEqual(rig.stats().dropped, { too_large: 1 });
    assert.equal(rig.server.requests.length, 1);

    rig.logger.emit({ eventName: 'huge', attributes: { blob: 'x'.repeat(950 * 1024) } });
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
    const rig = await startRig(t, { options: { maxAttempts: 2, retryBufferMaxEvents: 0 } });
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
    for (const name of ['p-ok', 'p-retry', 'p-drop', 'p-stubborn', 'p-warning']) rig.logger.emit({ eventName: name });
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
    const rig = await startRig(t, {
      clock,
      random: () => 0,
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
    for (const name of ['p-ok', 'p-retry', 'p-drop', 'p-stubborn', 'p-warning']) rig.logger.emit({ eventName: name });
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
    const rig = await startRig(t);
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
      rig.logger.emit({ eventName: `m-${i}` });
      const ms = await rig.flush();
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

  test('a reset mid-request is retried and the event delivered once', async (t) => {
    const clean = guardProcess(t);
    const rig = await startRig(t);
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
    const rig = await startRig(t, { options: { timeoutMillis: 200, flushTimeoutMillis: 300, maxAttempts: 10 } });
    rig.server.setDefault({ hang: true });
    rig.emit(4, 'hang');
    const flushMs = await rig.flush();
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
    const rig = await startRig(t, { options: { timeoutMillis: 200, flushTimeoutMillis: 800, maxAttempts: 10 } });
    rig.server.script({ hang: true });
    rig.emit(2, 'late');
    const ms = await rig.flush();
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
    const rig = await startRig(t, { options: { timeoutMillis: 300, flushTimeoutMillis: 1_000, maxAttempts: 10 } });
    // ~8 chunks 20 ms apart: well inside the 300 ms request budget.
    rig.server.script({ trickle: { chunkBytes: 40, intervalMs: 20, totalBytes: 300 } });
    rig.emit(2, 'slow-ok');
    await rig.flush();
    assert.equal(rig.stats().delivered, 2);
    assert.equal(rig.server.requests.length, 1);

    // 10 bytes every 50 ms of a 10 KB body: minutes. The attempt times out, the resend answers at once.
    rig.server.script({ trickle: { chunkBytes: 10, intervalMs: 50, totalBytes: 10_000 } });
    rig.emit(2, 'slow-never');
    const ms = await rig.flush();
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
    const rig = await startRig(t, { options: { maxAttempts: 3, retryInitialDelayMillis: 0 } });
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
    const rig = await startRig(t, { options: { timeoutMillis: 2_000, flushTimeoutMillis: 3_000 } });
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
      ms = await rig.flush();
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
    const rig = await startRig(t, {
      clock,
      random: () => 0,
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
    const rig = await startRig(t, {
      clock,
      random: () => 0,
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

describe('capture v1 conformance across the retry buffer (posthog-sdk-test-harness scenarios)', () => {
  const OPTIONS = { retryInitialDelayMillis: 500, retryMaxDelayMillis: 30_000, timeoutMillis: 10_000, flushTimeoutMillis: 10_000 };

  test('attempt_header_increments_on_retry: 503, 503, 200 gives PostHog-Attempt 1, 2, 3 under one request id and created_at', async (t) => {
    const clean = guardProcess(t);
    const clock = new InstantClock();
    const rig = await startRig(t, { clock, random: () => 0, options: { ...OPTIONS, maxAttempts: 4 } });
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
    const rig = await startRig(t, { clock, random: () => 0, options: { ...OPTIONS, maxAttempts: 4 } });
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
    const rig = await startRig(t, { clock, random: () => 0, options: { ...OPTIONS, maxAttempts: 5, maxExportBatchSize: 4 } });
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
    const rig = await startRig(t, {
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
    const rig = await startRig(t, {
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
    const rig = await startRig(t, {
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
    const rig = await startRig(t, {
      clock: slow,
      random: () => 0,
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
    const rig = await startRig(t, { options: { maxQueueSize: 5, maxExportBatchSize: 5 } });
    // The fifth record fills a batch, which leaves the queue for an export that has not reached the
    // exporter yet: counted as still queued, so the next three are refused.
    rig.emit(8, 'queued');
    const ms = await rig.flush();
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
    const rig = await startRig(t);
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

describe('Retry-After that only looks like a date', () => {
  test('free text with a year in it is not an HTTP-date and is ignored', async (t) => {
    const rig = await startRig(t, {
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

describe('network faults', () => {
  test('connection refused, retry buffer off: retried, then retry_exhausted; nothing escapes', async (t) => {
    const clean = guardProcess(t);
    const port = await closedPort();
    const rig = await startRig(t, { host: `http://127.0.0.1:${port}`, options: { maxAttempts: 3, retryBufferMaxEvents: 0 } });
    rig.emit(3, 'refused');
    const ms = await rig.flush();
    assert.ok(ms < 1_000 + SLACK_MS);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { retry_exhausted: 3 });
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 3, retries: 2 });
    assert.equal(stats.pending, 0);
    const shutdownMs = await rig.shutdown();
    assert.ok(shutdownMs < 1_000 + SLACK_MS);
    const after = rig.stats();
    assertIdentity(after, 'after shutdown');
    assert.deepEqual(after.dropped, { retry_exhausted: 3 });
    assert.equal(after.requests, 3, 'nothing left to send at shutdown');
    clean();
  });

  test('connection refused, retry buffer on: the flush fails fast; the request is resent on its timer under its id until maxAttempts, then retry_exhausted', async (t) => {
    const clean = guardProcess(t);
    const port = await closedPort();
    const drops: Array<[string, number, string | undefined]> = [];
    const rig = await startRig(t, {
      host: `http://127.0.0.1:${port}`,
      options: {
        maxAttempts: 3,
        timeoutMillis: 2_000,
        flushTimeoutMillis: 5_000,
        onDrop: (events, reason, details) => drops.push([reason, events.length, details]),
      },
    });
    rig.emit(3, 'refused');
    const ms = await rig.flush();
    // One refused connection ends the flush: it does not spin until its 5 s deadline.
    assert.ok(ms < 1_000, `flush took ${ms} ms`);
    const during = rig.stats();
    assertIdentity(during, 'after the flush');
    assert.deepEqual(
      { requests: during.requests, pending: during.pending, retryBuffered: during.retryBuffered },
      { requests: 1, pending: 3, retryBuffered: 3 },
    );
    // The timer resends the request (at least 100 ms apart) until three requests carried the events.
    await waitFor(() => rig.stats().pending === 0, 3_000, 'the attempts to run out');
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { retry_exhausted: 3 });
    assert.deepEqual(drops, [['retry_exhausted', 3, 'request failed (ECONNREFUSED)']]);
    // Three requests, two of them retries: all under one request id.
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 3, retries: 2 });
    const shutdownMs = await rig.shutdown();
    assert.ok(shutdownMs < 1_000 + SLACK_MS);
    assertIdentity(rig.stats(), 'after shutdown');
    assert.equal(rig.stats().requests, 3, 'nothing left to send at shutdown');
    clean();
  });

  test('connection refused under a short budget: events wait, then shutdown drops them as deadline', async (t) => {
    const clean = guardProcess(t);
    const port = await closedPort();
    const rig = await startRig(t, {
      host: `http://127.0.0.1:${port}`,
      options: { maxAttempts: 1_000, timeoutMillis: 100, flushTimeoutMillis: 200 },
    });
    rig.emit(3, 'refused');
    const ms = await rig.flush();
    assert.ok(ms < 200 + SLACK_MS, `flush took ${ms} ms`);
    const during = rig.stats();
    assertIdentity(during);
    assert.equal(during.pending, 3);
    const shutdownMs = await rig.shutdown();
    assert.ok(shutdownMs < 200 + SLACK_MS, `shutdown took ${shutdownMs} ms`);
    const after = rig.stats();
    assertIdentity(after);
    assert.deepEqual(after.dropped, { deadline: 3 });
    assert.equal(after.pending, 0);
    clean();
  });

  test('DNS failure (does-not-exist.invalid), retry buffer off: retried, then retry_exhausted', async (t) => {
    const clean = guardProcess(t);
    // Retry buffer off: the events are given up on as soon as the export's attempts run out.
    const rig = await startRig(t, {
      host: 'http://does-not-exist.invalid',
      options: { maxAttempts: 2, timeoutMillis: 1_500, flushTimeoutMillis: 2_000, retryBufferMaxEvents: 0 },
    });
    rig.emit(2, 'nowhere');
    const ms = await rig.flush();
    assert.ok(ms < 2_000 + SLACK_MS, `flush took ${ms} ms`);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { retry_exhausted: 2 });
    assert.equal(stats.pending, 0);
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 2, retries: 1 });
    const shutdownMs = await rig.shutdown();
    assert.ok(shutdownMs < 2_000 + SLACK_MS);
    assertIdentity(rig.stats(), 'after shutdown');
    clean();
  });

  test('TLS failure (self-signed certificate), retry buffer off: the handshake fails, is retried and counted, never crashes', async (t) => {
    const clean = guardProcess(t);
    const { key, cert } = selfSignedCertificate(t);
    let handshakeFailures = 0;
    let answered = 0;
    const https = createHttpsServer({ key, cert }, (_req, res) => {
      answered++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"results":{}}');
    });
    https.on('tlsClientError', () => handshakeFailures++);
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => https.close(() => resolve())));
    const { port } = https.address() as AddressInfo;

    // Retry buffer off, so the attempts (and handshakes) are exactly maxAttempts.
    const rig = await startRig(t, { host: `https://127.0.0.1:${port}`, options: { maxAttempts: 3, retryBufferMaxEvents: 0 } });
    rig.emit(2, 'tls');
    const ms = await rig.flush();
    assert.ok(ms < 1_000 + SLACK_MS, `flush took ${ms} ms`);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { retry_exhausted: 2 });
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 3, retries: 2 });
    assert.equal(answered, 0, 'no request got through the failed handshake');
    // The server hears of the client's refusal a moment after the client gave up.
    await waitFor(() => handshakeFailures >= 3, 2_000, 'three failed handshakes');
    assert.equal(handshakeFailures, 3, 'one failed handshake per attempt');
    clean();
  });
});

/** A throwaway self-signed certificate for 127.0.0.1: made with openssl when it is there, else the committed fixture. */
function selfSignedCertificate(t: TestContext): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'posthog-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore', timeout: 10_000 },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    const fixtures = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
    return { key: readFileSync(join(fixtures, 'self-signed.key')), cert: readFileSync(join(fixtures, 'self-signed.crt')) };
  }
}

describe('bad records through a real LoggerProvider', () => {
  test('cyclic, binary, BigInt, 10k attributes, 5 MB values, invalid timestamps, odd distinct ids and uuids', async (t) => {
    const clean = guardProcess(t);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    // A processor before ours writes values the SDK's own checks would refuse straight into the record.
    const smuggler: LogRecordProcessor = {
      onEmit(record: ReadWriteLogRecord) {
        if (record.eventName !== 'smuggled') return;
        const attributes = record.attributes as Record<string, unknown>;
        attributes.cyclic = cyclic;
        attributes.big = 12345678901234567890n;
        attributes['posthog.distinct_id'] = 42n;
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const rig = await startRig(t, { logRecordLimits: { attributeCountLimit: 20_000 }, processorsBefore: [smuggler] });
    const before = Date.now();
    const log = rig.logger;
    log.emit({ eventName: 'cyclic-attr', attributes: { ok: 1, cyclic: cyclic as never } });
    log.emit({
      eventName: 'binary',
      attributes: { bytes: new Uint8Array([104, 105, 255]), nested: { list: [new Uint8Array([1])] } as never },
    });
    log.emit({ eventName: 'bigint-attr', attributes: { big: 10n as never } });
    log.emit({ eventName: 'smuggled' });
    const many: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) many[`k${i}`] = i;
    log.emit({ eventName: 'many-attrs', attributes: many });
    log.emit({ eventName: 'five-mb-attr', attributes: { blob: 'y'.repeat(5 * 1024 * 1024) } });
    log.emit({ eventName: 'five-mb-body', body: 'z'.repeat(5 * 1024 * 1024) });
    log.emit({ eventName: 'nan-time', timestamp: NaN });
    log.emit({ eventName: 'nan-date', timestamp: new Date(NaN) });
    log.emit({ eventName: 'number-id', attributes: { 'posthog.distinct_id': 42 } });
    log.emit({ eventName: 'float-id', attributes: { 'posthog.distinct_id': 1.5 } });
    log.emit({ eventName: 'object-id', attributes: { 'posthog.distinct_id': { id: 'x' } as never } });
    log.emit({ eventName: 'bad-uuid', attributes: { 'posthog.uuid': 'not-a-uuid' } });
    log.emit({ eventName: 'upper-uuid', attributes: { 'posthog.uuid': '0190A2B3-C4D5-7E6F-8A9B-0C1D2E3F4A5B' } });
    log.emit({ eventName: 'plain' });

    const ms = await rig.flush();
    assert.ok(ms < 1_000 + SLACK_MS, `flush took ${ms} ms`);
    const after = Date.now();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.selected, 15);
    assert.deepEqual(stats.dropped, { too_large: 2 }, 'only the two 5 MB events are lost');
    assert.equal(stats.delivered, 13);
    assert.deepEqual(
      rig.server.requests.filter((r) => !r.validation.ok).map((r) => r.validation),
      [],
    );
    const events = rig.server.acceptedEvents();
    assert.deepEqual(names(events), [
      'bad-uuid',
      'bigint-attr',
      'binary',
      'cyclic-attr',
      'float-id',
      'many-attrs',
      'nan-date',
      'nan-time',
      'number-id',
      'object-id',
      'plain',
      'smuggled',
      'upper-uuid',
    ]);

    // The SDK refuses cyclic and BigInt values at emit; the rest of the record goes through.
    assert.equal(byName(events, 'cyclic-attr').properties.ok, 1);
    assert.equal('cyclic' in byName(events, 'cyclic-attr').properties, false);
    assert.equal('big' in byName(events, 'bigint-attr').properties, false);
    assert.equal(byName(events, 'binary').properties.bytes, 'aGn/');
    assert.deepEqual(byName(events, 'binary').properties.nested, { list: ['AQ=='] });
    // Values smuggled past the SDK are made JSON-safe by the mapping.
    const smuggled = byName(events, 'smuggled');
    assert.deepEqual(smuggled.properties.cyclic, { name: 'loop', self: '[Circular]' });
    assert.equal(smuggled.properties.big, '12345678901234567890');
    assert.equal(smuggled.distinct_id, '42');
    const manyProps = byName(events, 'many-attrs').properties;
    assert.equal(manyProps.k0, 0);
    assert.equal(manyProps.k9999, 9999);
    assert.equal(Object.keys(manyProps).filter((k) => /^k\d+$/.test(k)).length, 10_000);

    for (const name of ['nan-time', 'nan-date']) {
      const e = byName(events, name);
      assert.ok(isRfc3339(e.timestamp), `${name} timestamp ${e.timestamp}`);
      const at = Date.parse(e.timestamp);
      assert.ok(at >= before - 1 && at <= after + 1, `${name}: the observed time stands in (${e.timestamp})`);
    }
    assert.equal(byName(events, 'number-id').distinct_id, '42');
    assert.equal(byName(events, 'number-id').options.process_person_profile, undefined);
    for (const name of ['float-id', 'object-id']) {
      const e = byName(events, name);
      assert.match(e.distinct_id, UUID_V7, `${name} is personless`);
      assert.equal(e.options.process_person_profile, false);
    }
    assert.match(byName(events, 'bad-uuid').uuid, UUID_V7);
    assert.equal(byName(events, 'upper-uuid').uuid, '0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b');
    assert.ok(events.every((e) => UUID.test(e.uuid)));
    clean();
  });
});

describe('timestamps the wire cannot carry', () => {
  test('a record time past year 9999 is replaced by a sane one, not sent as an extended-year timestamp', async (t) => {
    const rig = await startRig(t);
    const before = Date.now();
    rig.logger.emit({ eventName: 'far-future', timestamp: new Date('+010000-01-01T00:00:00Z') });
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, {});
    const [event] = rig.server.acceptedEvents();
    assert.ok(event, `delivered (server results: ${JSON.stringify(rig.server.requests.map((r) => r.results))})`);
    assert.ok(isRfc3339(event.timestamp), event.timestamp);
    assert.ok(Date.parse(event.timestamp) >= before - 1);
  });
});

describe('deterministic uuids', () => {
  const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
  const SPAN_ID = 'b7ad6b7169203331';
  const TIME = new Date('2025-06-01T10:00:00.123Z');

  /** Emits one record with a fixed span context and time through a fresh rig; returns its uuid. */
  async function uuidOf(t: TestContext, options: { deterministicUuids: boolean }, time = TIME, spanId = SPAN_ID): Promise<string> {
    const rig = await startRig(t, { options });
    const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId, traceFlags: TraceFlags.SAMPLED });
    rig.logger.emit({ eventName: 'checkout', timestamp: time, context: ctx });
    await rig.flush();
    const events = rig.server.acceptedEvents();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.properties.$trace_id, TRACE_ID);
    await rig.shutdown();
    return events[0]!.uuid;
  }

  test('the same record exported by two pipelines gets the same uuid; other time or span, another uuid', async (t) => {
    const clean = guardProcess(t);
    const first = await uuidOf(t, { deterministicUuids: true });
    const second = await uuidOf(t, { deterministicUuids: true });
    assert.match(first, UUID);
    assert.equal(second, first);
    // Pinned: a change to what goes into the key (the properties' text included) changes every
    // uuid across versions, and a replay of old records would then no longer dedupe.
    assert.equal(first, 'adaeaaa1-ca09-8403-9795-e627b6030e99');
    assert.notEqual(await uuidOf(t, { deterministicUuids: true }, new Date(TIME.getTime() + 1)), first);
    assert.notEqual(await uuidOf(t, { deterministicUuids: true }, TIME, 'b7ad6b7169203332'), first);
    // Off (the default): fresh uuids each time.
    assert.notEqual(await uuidOf(t, { deterministicUuids: false }), await uuidOf(t, { deterministicUuids: false }));
    clean();
  });

  test('span events: same span exported twice gives the same uuids, events of one span differ by index', async (t) => {
    const clean = guardProcess(t);
    const run = async (): Promise<string[]> => {
      const server = await FakeCaptureServer.start();
      t.after(() => server.close());
      const rig = await startRig(t, { server, options: { deterministicUuids: true } });
      const spanProcessor = new PostHogSpanEventProcessor({ processor: rig.processor });
      let ids = 0;
      const tracerProvider = new TracerProvider({
        spanProcessors: [spanProcessor],
        idGenerator: {
          generateTraceId: () => TRACE_ID,
          generateSpanId: () => (ids++ === 0 ? SPAN_ID : 'c7ad6b7169203331'),
        },
      });
      const span = tracerProvider.getTracer('t').startSpan('checkout', { startTime: TIME });
      span.addEvent('clicked', {}, TIME);
      span.addEvent('clicked', {}, TIME);
      span.end(TIME);
      await tracerProvider.forceFlush();
      await rig.flush();
      await tracerProvider.shutdown();
      const events = server.acceptedEvents();
      assert.deepEqual(
        events.map((e) => [e.event, e.properties.$trace_id, e.properties.$span_id]),
        [
          ['clicked', TRACE_ID, SPAN_ID],
          ['clicked', TRACE_ID, SPAN_ID],
        ],
      );
      return events.map((e) => e.uuid);
    };
    const first = await run();
    const second = await run();
    assert.deepEqual(second, first);
    assert.notEqual(first[0], first[1], 'a different span-event index gives a different uuid');
    clean();
  });
});

// The outage gate of EventDelivery, on the manual clock over the scripted endpoint (no HTTP, no
// jitter). While PostHog takes nothing, new exports do not send: their requests wait in the retry
// buffer unsent, and one request at a time probes PostHog on the outage's backoff. So the number of
// requests per minute follows that backoff whatever the export rate, and the first success drains
// the buffer at once.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { totalDropped, type DeliveryLedger } from '../../src/delivery/ledger.ts';
import type { Answer, SeenRequest } from '../support/scripted-transport.ts';
import { namedEvents } from '../support/capture-events.ts';
import { startStage, type Stage, type StageOptions } from '../support/delivery-stage.ts';

const SECOND = 1_000;
const MINUTE = 60_000;

function assertBalanced(ledger: DeliveryLedger): void {
  const s = ledger.exporterStats();
  assert.equal(s.selected, s.delivered + totalDropped(s) + s.pending, JSON.stringify(s));
}

/** Requests in each minute from `start`, for `minutes` minutes. */
function perMinute(requests: readonly SeenRequest[], start: number, minutes: number): number[] {
  return Array.from(
    { length: minutes },
    (_, m) => requests.filter((r) => r.at >= start + m * MINUTE && r.at < start + (m + 1) * MINUTE).length,
  );
}

/**
 * Exports of 2 events every `intervalMillis` for `minutes` against `answer`, none awaited before
 * the next starts (as overlapping exports of the batch processor); returns the stage once they settled.
 */
async function outage(
  answer: Answer,
  intervalMillis: number,
  minutes: number,
  options: StageOptions = {},
): Promise<{ s: Stage; start: number; exports: number }> {
  const s = startStage(options);
  s.transport.setDefault(answer);
  const start = s.clock.now();
  const running: Array<Promise<unknown>> = [];
  let exports = 0;
  for (let at = 0; at < minutes * MINUTE; at += intervalMillis) {
    await s.clock.advanceTo(start + at);
    running.push(s.deliver(namedEvents(2)));
    exports++;
  }
  await s.clock.advanceTo(start + minutes * MINUTE);
  await s.clock.run(Promise.all(running));
  return { s, start, exports };
}

describe('during an outage the requests per minute follow the backoff, not the export rate', () => {
  for (const [name, answer] of [
    ['a long 503 outage', { status: 503 }],
    ['connection refused', { fail: 'ECONNREFUSED' }],
  ] as Array<[string, Answer]>) {
    test(`${name}: 10 minutes of exports every 10 s or every 250 ms make as few requests`, async () => {
      const slow = await outage(answer, 10 * SECOND, 10);
      const fast = await outage(answer, 250, 10);
      assert.equal(fast.exports, 2_400);
      for (const { s, start } of [slow, fast]) {
        const minutes = perMinute(s.transport.requests, start, 10);
        // The first minute: the exports that began before the outage was known (each tried twice, in
        // place), then probes 0.5, 1, 2, 4, 8 and 16 s apart; after that one every 30 s at most.
        assert.ok(minutes[0]! <= 2 * 6 + 7, `first minute: ${minutes[0]} requests`);
        for (const count of minutes.slice(1)) assert.ok(count <= 2, `requests per minute: ${minutes.join(', ')}`);
        const sent = new Set(s.transport.requests.map((r) => r.requestId)).size;
        assert.ok(sent < 40, `${sent} request ids went out; the rest waited unsent`);
        assertBalanced(s.ledger);
      }
      // Forty times as many exports, and about as many requests: only those in flight when the outage began add some.
      const [fastTotal, slowTotal] = [fast.s.transport.requests.length, slow.s.transport.requests.length];
      assert.ok(fastTotal <= slowTotal + 6, `${fastTotal} requests against ${slowTotal}`);
    });
  }

  for (const interval of [250, 10 * SECOND]) {
    test(`exports every ${interval} ms: once the outage began, requests go one at a time, each gap as long as the one before or longer`, async () => {
      const { s } = await outage({ status: 503 }, interval, 5);
      const outageAt = s.healthChanges.find((change) => change.kind === 'outage')!.at;
      // Exports that began before the outage was known may still retry in place, for a second at most.
      const probes = s.transport.requests.filter((r) => r.at > outageAt + SECOND);
      let previous = 0;
      for (let i = 1; i < probes.length; i++) {
        const gap = probes[i]!.at - probes[i - 1]!.at;
        // Each failure counts, so exports in flight when the outage began lengthen the first gaps.
        assert.ok(gap >= Math.min(previous, 30_000) && gap >= 1_000, `gap ${i}: ${gap} ms after ${previous} ms`);
        previous = gap;
      }
      assert.ok(probes.length >= 10);
      assert.ok(
        probes.slice(-5).every((r, i, all) => i === 0 || r.at - all[i - 1]!.at >= 30_000),
        'at the cap: 30 s apart',
      );
    });
  }

  test('a Retry-After longer than the backoff sets the pace of the probes', async () => {
    const { s, start } = await outage({ status: 503, retryAfter: '20' }, 100, 3);
    const outageAt = s.healthChanges.find((change) => change.kind === 'outage')!.at;
    const probes = s.transport.requests.filter((r) => r.at > outageAt);
    for (let i = 1; i < probes.length; i++) assert.ok(probes[i]!.at - probes[i - 1]!.at >= 20_000, `probe ${i}`);
    assert.ok(
      perMinute(s.transport.requests, start, 3)
        .slice(1)
        .every((n) => n <= 3),
    );
  });
});

describe('requests held during an outage', () => {
  test('are not sent: attempt 0, no budget spent; when they go, it is as attempt 1 of their own request id', async () => {
    const s = startStage({ maxAttempts: 3 });
    s.transport.setDefault({ status: 503 });
    await s.clock.run(s.deliver(namedEvents(2)));
    assert.equal(s.transport.requests.length, 2, 'the first export tried twice and began the outage');
    const held = [];
    for (let i = 0; i < 5; i++) {
      await s.clock.run(s.deliver(namedEvents(2)));
      held.push(...s.delivery.waitingRequests.filter((request) => request.attempt === 0));
    }
    assert.equal(s.transport.requests.length, 2, 'nothing more was sent');
    const waiting = s.delivery.waitingRequests;
    assert.equal(waiting.length, 6, 'one request per export: never merged');
    assert.deepEqual(waiting.map((request) => request.attempt).sort(), [0, 0, 0, 0, 0, 2]);
    assert.ok(
      waiting.filter((request) => request.attempt === 0).every((request) => request.events.every((item) => item.attempts === 0)),
      'no event has used an attempt',
    );
    assert.deepEqual(s.ledger.exporterStats().retryBuffered, 12);

    // PostHog is back: the next probe succeeds and everything goes, each held request as attempt 1.
    s.transport.setDefault({ status: 200 });
    await s.clock.advance(MINUTE);
    const stats = s.ledger.exporterStats();
    assert.deepEqual(
      { delivered: stats.delivered, pending: stats.pending, dropped: stats.dropped },
      { delivered: 12, pending: 0, dropped: {} },
    );
    for (const [, attempts] of s.transport.byRequestId()) {
      assert.deepEqual(
        attempts.map((r) => r.attempt),
        attempts.map((_, i) => i + 1),
      );
      assert.equal(new Set(attempts.map((r) => r.createdAt)).size, 1);
    }
    assert.equal(s.transport.byRequestId().size, 6);
    assert.ok(Math.max(...s.transport.carried().values()) <= 3);
    assertBalanced(s.ledger);
  });

  test('count the buffer bounds as always: the oldest are pushed out as retry_buffer_full', async () => {
    const s = startStage({ retryBuffer: { maxEvents: 6 } });
    s.transport.setDefault({ fail: 'ECONNREFUSED' });
    for (let i = 0; i < 5; i++) await s.clock.run(s.deliver(namedEvents(2)));
    const stats = s.ledger.exporterStats();
    assert.deepEqual(
      { retryBuffered: stats.retryBuffered, dropped: stats.dropped },
      { retryBuffered: 6, dropped: { retry_buffer_full: 4 } },
    );
    assert.equal(s.transport.requests.length, 2);
    assertBalanced(s.ledger);
  });

  test('expire by age as always', async () => {
    const s = startStage({ retryBuffer: { maxAgeMillis: 20_000 } });
    s.transport.setDefault({ status: 503, retryAfter: '60' });
    await s.clock.run(s.deliver(namedEvents(1)));
    await s.clock.run(s.deliver(namedEvents(3)));
    await s.clock.advance(25_000);
    await s.clock.run(s.deliver(namedEvents(1)));
    assert.deepEqual(s.ledger.exporterStats().dropped, { retry_exhausted: 4 });
    assert.equal(s.drops[0]!.details, 'still undelivered after 20000 ms of retries');
    assertBalanced(s.ledger);
  });
});

describe('the end of an outage', () => {
  test('the first success ends it and the buffer drains at once, several requests at a time', async () => {
    const { s } = await outage({ status: 503 }, 1_000, 3);
    const waiting = s.delivery.waitingRequests.length;
    assert.ok(waiting > 100);
    s.transport.setDefault({ status: 200 });
    const before = s.transport.requests.length;
    await s.clock.advance(31 * SECOND);
    const drained = s.transport.requests.slice(before);
    assert.equal(drained.length, waiting, 'every waiting request went once');
    // The probe found PostHog back; everything else followed within a few milliseconds.
    assert.ok(drained.at(-1)!.at - drained[0]!.at <= 10, `drained over ${drained.at(-1)!.at - drained[0]!.at} ms`);
    assert.deepEqual(
      s.healthChanges.filter((change) => change.kind !== 'still-failing').map((change) => change.kind),
      ['outage', 'recovered'],
    );
    assert.ok(s.healthChanges.filter((change) => change.kind === 'still-failing').length >= 5, 'each failed probe was told of');
    assert.equal(s.ledger.exporterStats().pending, 0);
    assert.equal(s.delivery.health.outage, false);
    assertBalanced(s.ledger);
  });

  test('an export after the recovery is sent at once again', async () => {
    const s = startStage();
    s.transport.script({ status: 503 }, { status: 503 });
    await s.clock.run(s.deliver(namedEvents(1)));
    await s.clock.advance(MINUTE);
    assert.equal(s.delivery.health.outage, false);
    const before = s.transport.requests.length;
    await s.clock.run(s.deliver(namedEvents(1)));
    assert.equal(s.transport.requests.length, before + 1);
    assert.equal(s.ledger.exporterStats().delivered, 2);
  });
});

describe('a flush or shutdown during an outage', () => {
  test('a flush sends one probe at most, waiting for it within its window, and the rest stays pending', async () => {
    const s = startStage({ retryInitialDelayMillis: 2_000, flushTimeoutMillis: 10_000 });
    s.transport.setDefault({ status: 503 });
    for (let i = 0; i < 5; i++) await s.clock.run(s.deliver(namedEvents(2)));
    const before = s.transport.requests.length;
    const started = s.clock.now();
    await s.clock.run(s.flush());
    assert.equal(s.transport.requests.length, before + 1, 'one probe');
    assert.equal(s.transport.requests.at(-1)!.at - started, 2_000, 'when the outage backoff allowed it');
    assert.equal(s.clock.now() - started, 2_000, 'then the flush ended');
    assert.equal(s.ledger.exporterStats().retryBuffered, 10);
  });

  test('a server that does not answer: after one timeout a flush waits for the probe; once that repeats, it no longer waits', async () => {
    const s = startStage({ requestTimeoutMillis: 1_000, sendTimeoutMillis: 1_000, flushTimeoutMillis: 5_000 });
    s.transport.setDefault({ hang: true });
    await s.clock.run(s.deliver(namedEvents(1)));
    assert.equal(s.transport.requests.length, 1);
    // A blip, perhaps: the probe is due in 500 ms, and its 1 s timeout ends within the window.
    let started = s.clock.now();
    await s.clock.run(s.flush());
    assert.equal(s.clock.now() - started, 500 + 1_000);
    assert.equal(s.transport.requests.length, 2);
    // No answer twice: the next probe (1 s later) is not waited for.
    started = s.clock.now();
    await s.clock.run(s.flush());
    assert.equal(s.clock.now(), started);
    assert.equal(s.transport.requests.length, 2);
  });

  test('a flush whose probe falls past its window sends nothing and ends at once', async () => {
    const s = startStage({ retryInitialDelayMillis: 20_000, flushTimeoutMillis: 5_000 });
    s.transport.setDefault({ status: 503 });
    await s.clock.run(s.deliver(namedEvents(2)));
    const before = s.transport.requests.length;
    const started = s.clock.now();
    await s.clock.run(s.flush());
    assert.equal(s.transport.requests.length, before);
    assert.equal(s.clock.now(), started);
  });

  test('shutdown without a spool probes once even before the backoff allows, then drops the rest as deadline', async () => {
    const s = startStage({ retryInitialDelayMillis: 20_000 });
    s.transport.setDefault({ status: 503 });
    for (let i = 0; i < 3; i++) await s.clock.run(s.deliver(namedEvents(2)));
    const before = s.transport.requests.length;
    await s.clock.run(s.delivery.shutdown());
    assert.equal(s.transport.requests.length, before + 1, 'one last probe');
    const stats = s.ledger.exporterStats();
    assert.deepEqual({ pending: stats.pending, dropped: stats.dropped }, { pending: 0, dropped: { deadline: 6 } });
    assertBalanced(s.ledger);
  });

  test('shutdown whose probe finds PostHog back delivers everything within its window', async () => {
    const s = startStage({ retryInitialDelayMillis: 20_000 });
    s.transport.setDefault({ status: 503 });
    for (let i = 0; i < 3; i++) await s.clock.run(s.deliver(namedEvents(2)));
    s.transport.setDefault({ status: 200 });
    await s.clock.run(s.delivery.shutdown());
    const stats = s.ledger.exporterStats();
    assert.deepEqual(
      { delivered: stats.delivered, pending: stats.pending, dropped: stats.dropped },
      { delivered: 6, pending: 0, dropped: {} },
    );
  });
});

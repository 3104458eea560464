// Unit tests of the delivery stage: EventDelivery with its ledger over the real capture client,
// which sends through an in-memory scripted endpoint (no HTTP), on a clock that moves only when the
// test moves it. Backoff is exact (no jitter). What is checked: a request keeps its identity across
// every kind of resend, no event is carried by more requests than maxAttempts, the backoff bounds
// the request rate in a long outage, and a flush stops once PostHog is unreachable.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT_DEFAULTS, DELIVERY_DEFAULTS } from '../../src/config/defaults.ts';
import { totalDropped } from '../../src/delivery/ledger.ts';
import type { DeliveryLedger } from '../../src/delivery/ledger.ts';
import type { Answer, ScriptedTransport, SeenRequest } from '../support/scripted-transport.ts';
import { namedEvents } from '../support/capture-events.ts';
import { startStage, type Stage } from '../support/delivery-stage.ts';

const MINUTE = 60_000;

/** selected === delivered + dropped + pending, for the stage's own account. */
function assertBalanced(ledger: DeliveryLedger): void {
  const s = ledger.exporterStats();
  assert.equal(s.selected, s.delivered + totalDropped(s) + s.pending, JSON.stringify(s));
}

/** Every request id's attempts are 1, 2, 3… in order, each with the same created_at and a subset of the events before. */
function assertRequestsKeepTheirIdentity(transport: ScriptedTransport): void {
  for (const [id, attempts] of transport.byRequestId()) {
    assert.deepEqual(
      attempts.map((r) => r.attempt),
      attempts.map((_, i) => i + 1),
      `request ${id}: attempts count up from 1`,
    );
    assert.equal(new Set(attempts.map((r) => r.createdAt)).size, 1, `request ${id}: one created_at`);
    for (let i = 1; i < attempts.length; i++) {
      assert.ok(
        attempts[i]!.uuids.every((uuid) => attempts[i - 1]!.uuids.includes(uuid)),
        `request ${id}: a resend carries only events of the attempt before`,
      );
    }
  }
}

/** The own backoff before attempt `n` of a request (no jitter): initial * 2^(n-2), capped. */
function backoff(n: number, initial = 500, cap = 30_000): number {
  return Math.min(cap, initial * 2 ** (n - 2));
}

describe('a request keeps its identity across every kind of resend', () => {
  test('in place, from the timer, in a flush and at shutdown: one request id and created_at, PostHog-Attempt 1 to 6', async () => {
    const s = startStage({ retryInitialDelayMillis: 600 });
    s.transport.script({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    const events = namedEvents(3);
    const t0 = s.clock.now();

    // In place: attempt 2 after 600 ms; the next wait (1200 ms) is longer than an export waits in place.
    assert.deepEqual([...(await s.clock.run(s.deliver(events)))], [], 'waiting events are not drops of the export');
    assert.deepEqual(
      s.transport.requests.map((r) => [r.attempt, r.at - t0]),
      [
        [1, 0],
        [2, 600],
      ],
    );
    assert.equal(s.ledger.exporterStats().retryBuffered, 3);

    // The timer: attempt 3 once its backoff has passed, with no export or flush; attempt 4 once its
    // own backoff (2400 ms) has passed, the outage's next probe (1200 ms) waiting for it.
    await s.clock.advance(600 + 1200 + 1);
    assert.equal(s.transport.requests.length, 3);
    assert.ok(s.transport.requests[2]!.at >= t0 + 600 + 1200);
    await s.clock.advance(2400 + 1);
    assert.equal(s.transport.requests.length, 4);

    // A flush once the outage's backoff allows the next probe (2400 ms after the last), before the
    // request's own (4800 ms) is over: it sends that request at once, and stops when it fails.
    await s.clock.advance(1800);
    const flushStart = s.clock.now();
    await s.clock.run(s.flush());
    assert.deepEqual(
      s.transport.requests.slice(4).map((r) => [r.attempt, r.at - flushStart]),
      [[5, 0]],
    );

    // Shutdown: its flush probes once more, early: attempt 6, which is taken.
    await s.clock.run(s.delivery.shutdown());
    const requests = s.transport.requests;
    assert.deepEqual(
      requests.map((r) => r.attempt),
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal(new Set(requests.map((r) => r.requestId)).size, 1, 'one request id');
    assert.equal(new Set(requests.map((r) => r.createdAt)).size, 1, 'one created_at');
    assert.ok(requests.every((r) => r.uuids.join() === events.map((e) => e.uuid).join()));
    const stats = s.ledger.exporterStats();
    assert.deepEqual(
      { delivered: stats.delivered, pending: stats.pending, requests: stats.requests, retries: stats.retries },
      { delivered: 3, pending: 0, requests: 6, retries: 5 },
    );
    assertBalanced(s.ledger);
  });

  test('a partial `retry` resends only those events, under the same id; the delivered ones leave the request', async () => {
    const s = startStage({ retryInitialDelayMillis: 2_000 });
    const events = namedEvents(3);
    s.transport.script(
      { status: 200, results: { [events[0]!.uuid]: 'retry', [events[2]!.uuid]: 'retry' } },
      { status: 200, results: { [events[2]!.uuid]: 'retry' } },
    );
    await s.clock.run(s.deliver(events));
    assert.equal(s.ledger.exporterStats().retryBuffered, 2);
    await s.clock.run(s.flush());
    await s.clock.advance(MINUTE);
    assert.deepEqual(
      s.transport.requests.map((r) => [r.attempt, r.uuids.length]),
      [
        [1, 3],
        [2, 2],
        [3, 1],
      ],
    );
    assertRequestsKeepTheirIdentity(s.transport);
    assert.equal(s.ledger.exporterStats().delivered, 3);
    assertBalanced(s.ledger);
  });

  test('requests are never merged: two exports waiting at once are resent as two requests', async () => {
    const s = startStage();
    s.transport.setDefault({ status: 503 });
    await s.clock.run(s.deliver(namedEvents(2)));
    await s.clock.run(s.deliver(namedEvents(2)));
    const before = s.transport.requests.length;
    s.transport.setDefault({ status: 200 });
    await s.clock.run(s.flush());
    const resent = s.transport.requests.slice(before);
    assert.equal(resent.length, 2);
    assert.ok(resent.every((r) => r.uuids.length === 2));
    assertRequestsKeepTheirIdentity(s.transport);
  });
});

describe('maxAttempts is the number of requests that may carry an event', () => {
  const cases: Array<[string, Answer | ((request: SeenRequest) => Answer)]> = [
    ['a 503 storm', { status: 503 }],
    [
      'partial `retry` verdicts on every other event',
      (request) => ({
        status: 200,
        results: Object.fromEntries(request.uuids.filter((_, i) => i % 2 === 0).map((uuid) => [uuid, 'retry'])),
      }),
    ],
    ['timeouts (a server that never answers)', { hang: true }],
    ['connection refused', { fail: 'ECONNREFUSED' }],
  ];
  for (const [name, answer] of cases) {
    test(`${name}: at most 4 requests per event, through the timer, flushes and shutdown`, async () => {
      const s = startStage({ maxAttempts: 4, requestTimeoutMillis: 2_000, sendTimeoutMillis: 5_000 });
      s.transport.setDefault(answer);
      for (let i = 0; i < 3; i++) {
        await s.clock.run(s.deliver(namedEvents(4)));
        await s.clock.advance(1_000);
      }
      await s.clock.run(s.flush());
      await s.clock.advance(5 * MINUTE);
      await s.clock.run(s.flush());
      await s.clock.run(s.delivery.shutdown());

      const carried = [...s.transport.carried().values()];
      assert.equal(carried.length, 12, 'every event was sent');
      assert.ok(Math.max(...carried) <= 4, `requests per event: ${carried.join(', ')}`);
      assertRequestsKeepTheirIdentity(s.transport);
      const stats = s.ledger.exporterStats();
      assert.equal(stats.pending, 0);
      // Whatever was not delivered used its whole budget and was given up on for good.
      assert.equal(stats.dropped.retry_exhausted ?? 0, 12 - stats.delivered);
      for (const [uuid, count] of s.transport.carried()) {
        if (count < 4)
          assert.ok(
            s.transport.requests.some((r) => r.uuids.includes(uuid)),
            uuid,
          );
      }
      assert.equal(
        carried.filter((n) => n === 4).length,
        stats.dropped.retry_exhausted ?? 0,
        'each exhausted event was carried exactly 4 times',
      );
      assertBalanced(s.ledger);
    });
  }
});

describe('capture v1 conformance scenarios', () => {
  test('503, 503, 200: attempts 1, 2, 3 under one request id (the third from the retry buffer, at a flush)', async () => {
    const s = startStage();
    s.transport.script({ status: 503 }, { status: 503 });
    await s.clock.run(s.deliver(namedEvents(1)));
    await s.clock.run(s.flush());
    assert.deepEqual(
      s.transport.requests.map((r) => r.attempt),
      [1, 2, 3],
    );
    assert.equal(new Set(s.transport.requests.map((r) => r.requestId)).size, 1);
    assert.equal(s.ledger.exporterStats().delivered, 1);
  });

  test('maxAttempts 4 against five 503s: exactly 4 requests, then retry_exhausted', async () => {
    const s = startStage({ maxAttempts: 4 });
    s.transport.script({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    await s.clock.run(s.deliver(namedEvents(1)));
    await s.clock.run(s.flush());
    await s.clock.advance(10 * MINUTE);
    await s.clock.run(s.delivery.shutdown());
    assert.equal(s.transport.requests.length, 4);
    assert.deepEqual(s.ledger.exporterStats().dropped, { retry_exhausted: 1 });
  });
});

describe('a long outage', () => {
  test('30 minutes of 503 with an export every 10 s: each request waits out its backoff, so the rate stays bounded', async () => {
    const s = startStage({ maxAttempts: 1_000, retryBuffer: { maxAgeMillis: 3_600_000 } });
    s.transport.setDefault({ status: 503 });
    const start = s.clock.now();
    for (let i = 0; i < 180; i++) {
      await s.clock.run(s.deliver(namedEvents(5)));
      await s.clock.advanceTo(start + (i + 1) * 10_000);
    }
    assertRequestsKeepTheirIdentity(s.transport);
    // Between two attempts of a request lies at least its own backoff: 500 ms doubling, capped at 30 s.
    for (const [id, attempts] of s.transport.byRequestId()) {
      for (let i = 1; i < attempts.length; i++) {
        const gap = attempts[i]!.at - attempts[i - 1]!.at;
        assert.ok(
          gap >= backoff(attempts[i]!.attempt),
          `request ${id}: attempt ${attempts[i]!.attempt} came ${gap} ms after the one before`,
        );
      }
    }
    // So in any minute a request makes at most 2 attempts once its backoff reached the 30 s cap (31.5 s
    // after its first), and at most 7 before (at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s).
    for (let m = 0; m < 30; m++) {
      const from = start + m * MINUTE;
      for (const [id, attempts] of s.transport.byRequestId()) {
        const inMinute = attempts.filter((r) => r.at >= from && r.at < from + MINUTE).length;
        const capped = attempts[0]!.at + 31_500 <= from;
        assert.ok(inMinute <= (capped ? 2 : 7), `minute ${m}, request ${id}: ${inMinute} attempts`);
      }
    }
    assert.deepEqual(s.healthChanges.filter((change) => change.kind !== 'still-failing').length, 1);
    // The first export retried once in place (500 ms) before its request went to the buffer.
    assert.deepEqual(s.healthChanges[0], { kind: 'outage', cause: { kind: 'status', status: 503 }, at: start + 500 });

    // PostHog is back: the next probe finds it, and every waiting request goes out at once instead of at the end of its backoff.
    s.transport.setDefault({ status: 200 });
    await s.clock.run(s.deliver(namedEvents(5)));
    await s.clock.advance(MINUTE);
    const stats = s.ledger.exporterStats();
    assert.deepEqual(
      { delivered: stats.delivered, pending: stats.pending, dropped: stats.dropped },
      { delivered: 905, pending: 0, dropped: {} },
    );
    assert.equal(s.healthChanges.at(-1)?.kind, 'recovered');
    assertBalanced(s.ledger);
  });
});

describe('the default budget', () => {
  const defaults = {
    maxAttempts: CLIENT_DEFAULTS.maxAttempts,
    retryInitialDelayMillis: CLIENT_DEFAULTS.retryInitialDelayMillis,
    retryMaxDelayMillis: CLIENT_DEFAULTS.retryMaxDelayMillis,
    retryBuffer: { maxAgeMillis: DELIVERY_DEFAULTS.retryBuffer.maxAgeMillis },
  };

  test('25 requests over about 9.5 minutes: attempts at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s, then every 30 s', async () => {
    const s = startStage(defaults);
    s.transport.setDefault({ status: 503 });
    const start = s.clock.now();
    await s.clock.run(s.deliver(namedEvents(1)));
    await s.clock.advance(12 * MINUTE);
    const times = s.transport.requests.map((r) => r.at - start);
    assert.equal(times.length, 25);
    // Each timed resend fires a millisecond after it falls due.
    const expected = [0, 500, 1_500, 3_500, 7_500, 15_500, 31_500, ...Array.from({ length: 18 }, (_, k) => 61_500 + 30_000 * k)];
    times.forEach((at, i) =>
      assert.ok(at >= expected[i]! && at <= expected[i]! + i, `attempt ${i + 1} at ${at} ms, expected ${expected[i]} ms`),
    );
    assert.ok(times[24]! < DELIVERY_DEFAULTS.retryBuffer.maxAgeMillis, 'the budget is spent before the age bound gives the event up');
    assert.deepEqual(s.ledger.exporterStats().dropped, { retry_exhausted: 1 });
  });

  test('an outage of 9 minutes is ridden out: everything waiting is delivered once PostHog is back', async () => {
    const s = startStage(defaults);
    s.transport.setDefault({ status: 503 });
    const start = s.clock.now();
    for (let i = 0; i < 9; i++) {
      await s.clock.run(s.deliver(namedEvents(10)));
      await s.clock.advanceTo(start + (i + 1) * MINUTE);
    }
    s.transport.setDefault({ status: 200 });
    await s.clock.advance(MINUTE);
    const stats = s.ledger.exporterStats();
    assert.deepEqual(
      { delivered: stats.delivered, dropped: stats.dropped, pending: stats.pending },
      { delivered: 90, dropped: {}, pending: 0 },
    );
    assert.ok(Math.max(...s.transport.carried().values()) <= CLIENT_DEFAULTS.maxAttempts);
  });
});

describe('a flush fails fast when PostHog is unreachable', () => {
  for (const fail of ['ECONNREFUSED', 'ENOTFOUND', 'DEPTH_ZERO_SELF_SIGNED_CERT'] as const) {
    test(`${fail}: a flush sends one probe at most, only when the outage's backoff allows it, takes no time, and the rest waits`, async () => {
      const s = startStage();
      s.transport.setDefault({ fail });
      for (let i = 0; i < 3; i++) await s.clock.run(s.deliver(namedEvents(2)));
      // The first export tried twice (500 ms apart) and began the outage; the other two were held.
      assert.equal(s.transport.requests.length, 2);
      const started = s.clock.now();
      await s.clock.run(s.flush());
      assert.equal(s.transport.requests.length, 2, 'no probe is due yet: the flush sends nothing');
      // The outage's next probe is due 500 ms after it began; the timer would send it a moment later.
      await s.clock.advance(500);
      await s.clock.run(s.flush());
      assert.equal(s.transport.requests.length, 3, 'one probe, not one per waiting request');
      assert.equal(s.clock.now(), started + 500, 'the flushes slept no backoff');
      const stats = s.ledger.exporterStats();
      assert.deepEqual(
        { pending: stats.pending, retryBuffered: stats.retryBuffered, dropped: stats.dropped },
        { pending: 6, retryBuffered: 6, dropped: {} },
      );
      assert.equal(s.delivery.health.outage, true);
      assert.equal(s.delivery.health.unreachable, true);
      assertBalanced(s.ledger);
    });
  }

  test('once a window found PostHog unreachable, an export in it sends nothing; the timer resumes when it closes', async () => {
    const s = startStage();
    s.transport.setDefault({ fail: 'ECONNREFUSED' });
    const close = s.delivery.openWindow(10_000, false);
    await s.clock.run(s.deliver(namedEvents(2)));
    assert.equal(s.transport.requests.length, 1, 'the refused request was not retried in place');
    await s.clock.run(s.deliver(namedEvents(2)));
    assert.equal(s.transport.requests.length, 1, 'the second export was held back');
    assert.equal(s.ledger.exporterStats().retryBuffered, 4);
    await s.clock.advance(MINUTE);
    assert.equal(s.transport.requests.length, 1, 'no timed resend while the window is open');
    close();
    s.transport.setDefault({ status: 200 });
    await s.clock.advance(MINUTE);
    assert.equal(s.ledger.exporterStats().delivered, 4);
    // The held export's request was never sent: its first request is attempt 1.
    assert.deepEqual(s.transport.requests.map((r) => r.attempt).sort(), [1, 1, 2]);
    assertRequestsKeepTheirIdentity(s.transport);
  });

  test('shutdown without a spool drops what is left as deadline, saying PostHog was unreachable', async () => {
    const s = startStage();
    s.transport.setDefault({ fail: 'ECONNREFUSED' });
    await s.clock.run(s.deliver(namedEvents(2)));
    const started = s.clock.now();
    await s.clock.run(s.delivery.shutdown());
    assert.equal(s.clock.now(), started);
    assert.deepEqual(s.drops, [
      { reason: 'deadline', count: 2, details: 'PostHog was unreachable (refused) at shutdown, and there is no spool' },
    ]);
    assertBalanced(s.ledger);
  });

  test('a server that accepts and never answers: the probe of a flush is bounded by the request timeout and the window', async () => {
    const s = startStage({ requestTimeoutMillis: 2_000, flushTimeoutMillis: 5_000 });
    s.transport.setDefault({ hang: true });
    // Two attempts time out (the second 500 ms after the first): the outage begins, its next probe due 500 ms later.
    await s.clock.run(s.deliver(namedEvents(1)));
    await s.clock.advance(500);
    const before = s.transport.requests.length;
    const started = s.clock.now();
    await s.clock.run(s.flush());
    assert.equal(s.transport.requests.length - before, 1, 'one probe');
    assert.equal(s.clock.now() - started, 2_000, 'it waited for an answer until the request timeout');
    assert.equal(s.delivery.health.unreachable, false);
    assert.equal(s.delivery.health.lastFailure?.kind, 'timeout');
    assert.equal(s.ledger.exporterStats().retryBuffered, 1);
  });
});

describe('what an export resolves to', () => {
  test('its own drops by reason; events kept for a later attempt are not drops', async () => {
    const s: Stage = startStage();
    const events = namedEvents(3);
    // A Retry-After longer than an export waits in place: the `retry` event goes to the buffer.
    s.transport.script({ status: 200, retryAfter: '5', results: { [events[0]!.uuid]: 'drop', [events[1]!.uuid]: 'retry' } });
    const own = await s.clock.run(s.deliver(events));
    assert.deepEqual([...own], [['server_drop', 1]]);
    const stats = s.ledger.exporterStats();
    assert.deepEqual({ delivered: stats.delivered, retryBuffered: stats.retryBuffered }, { delivered: 1, retryBuffered: 1 });
  });

  test('the buffer off: what could not be delivered within the export is dropped, and said so', async () => {
    const s = startStage({ maxAttempts: 100, sendTimeoutMillis: 1_200, retryBuffer: { maxEvents: 0 } });
    s.transport.setDefault({ status: 503 });
    const own = await s.clock.run(s.deliver(namedEvents(2)));
    assert.deepEqual([...own], [['deadline', 2]]);
    assert.equal(s.ledger.exporterStats().pending, 0);
  });
});

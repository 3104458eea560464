// Deadlines and aborts: what a send could not finish comes back as a deferred request, keeping its
// id, attempts and planned retry time, with the reason it would be dropped for.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { makeEvents } from '../support/capture-events.ts';
import { InstantClock, T0 } from '../support/clocks.ts';
import { accepted, assertAccounted, body, far, header, headersOf, outcome, request, setup } from '../support/capture-client.ts';

describe('deadlines and abort: what is left comes back as a deferred request', () => {
  test('a deadline already passed: nothing is sent, the events come back in a request never sent (attempt 0)', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(3);
    for (const deadline of [clock.now() - 1, clock.now()]) {
      const report = await client.send(events, { deadline });
      assert.deepEqual(outcome(report), {
        delivered: 0,
        rejected: [],
        deferred: events.map((event) => ({ event, reason: 'deadline', attempt: 0, attempts: 0, notBefore: T0 })),
        requests: 0,
        retries: 0,
      });
      assert.equal(report.deferred.length, 1, 'one request');
      assertAccounted(report, events, []);
    }
    assert.equal(server.requests.length, 0);
    assert.deepEqual(clock.sleeps, []);
  });

  test('a Retry-After that would cross the deadline stops at once, without sleeping', async (t) => {
    const { server, client, clock } = await setup(t);
    server.setDefault({ status: 503, headers: { 'retry-after': '10' } });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: clock.now() + 5000 });

    assert.equal(server.requests.length, 1);
    assert.deepEqual(clock.sleeps, []);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: [],
      deferred: events.map((event) => ({
        event,
        reason: 'deadline',
        details: 'HTTP 503: scripted 503 response',
        attempt: 1,
        attempts: 1,
        notBefore: T0 + 10_000,
        retryAfterUntil: T0 + 10_000,
      })),
      requests: 1,
      retries: 0,
    });
    assert.deepEqual(report.lastFailure, { kind: 'status', status: 503 });
    assertAccounted(report, events, []);
  });

  test('the backoff runs until the next wait would cross the deadline; the request keeps its id and attempt count', async (t) => {
    const { server, client, clock } = await setup(t);
    server.setDefault({ status: 500 });
    const events = makeEvents(1);
    // Waits 100 (t=100) and 200 (t=300) fit before 350; the next, 400, would not.
    const report = await client.send(events, { deadline: clock.now() + 350 });

    assert.equal(server.requests.length, 3);
    assert.deepEqual(clock.sleeps, [100, 200]);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: [],
      deferred: [
        {
          event: events[0]!,
          reason: 'deadline',
          details: 'HTTP 500: scripted 500 response',
          attempt: 3,
          attempts: 3,
          notBefore: T0 + 300 + 400,
        },
      ],
      requests: 3,
      retries: 2,
    });
    const deferred = report.deferred[0]!;
    assert.equal(deferred.identity.requestId, header(request(server, 0), 'posthog-request-id'));
    assert.equal(deferred.identity.createdAt, body(request(server, 0)).created_at);
    assertAccounted(report, events, []);
  });

  test('a partial retry whose Retry-After crosses the deadline: the retry events are deferred, the rest delivered', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(2);
    server.script({ results: { [events[0]!.uuid]: { result: 'retry' } } }); // automatic Retry-After: 1
    const report = await client.send(events, { deadline: clock.now() + 500 });

    assert.equal(server.requests.length, 1);
    assert.deepEqual(clock.sleeps, []);
    assert.deepEqual(outcome(report), {
      delivered: 1,
      rejected: [],
      deferred: [
        {
          event: events[0]!,
          reason: 'deadline',
          details: 'server asked to retry 1 event(s)',
          attempt: 1,
          attempts: 1,
          notBefore: T0 + 1000,
          retryAfterUntil: T0 + 1000,
        },
      ],
      requests: 1,
      retries: 0,
    });
    assertAccounted(report, events, accepted(server));
  });

  test('the deadline bounds a hung request even when requestTimeoutMillis is long', async (t) => {
    const { server, client, clock } = await setup(t, { requestTimeoutMillis: 10_000 });
    server.setDefault({ hang: true });
    const events = makeEvents(1);
    const started = performance.now();
    const report = await client.send(events, { deadline: clock.now() + 80 });
    const elapsed = performance.now() - started;

    assert.ok(elapsed >= 70 && elapsed < 1000, `took ${elapsed} ms`);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(clock.sleeps, []);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: [],
      deferred: [{ event: events[0]!, reason: 'deadline', details: 'request timed out', attempt: 1, attempts: 1, notBefore: T0 + 100 }],
      requests: 1,
      retries: 0,
    });
    assert.deepEqual(report.lastFailure, { kind: 'timeout' });
    assertAccounted(report, events, []);
  });

  for (const { abortReason, countedAs, name } of [
    {
      abortReason: undefined,
      countedAs: 'shutdown',
      name: 'an abort during a hung request resolves promptly; what is left would count as shutdown',
    },
    {
      abortReason: 'deadline',
      countedAs: 'deadline',
      name: 'abort("deadline") during a hung request resolves promptly, deferred as deadline',
    },
  ] as const) {
    test(name, async (t) => {
      const { server, client, clock } = await setup(t);
      server.setDefault({ hang: true });
      const controller = new AbortController();
      const events = makeEvents(2);
      const timer = setTimeout(() => controller.abort(abortReason), 50);
      t.after(() => clearTimeout(timer));
      const started = performance.now();
      const report = await client.send(events, { deadline: far(clock), signal: controller.signal });
      const elapsed = performance.now() - started;

      assert.ok(elapsed >= 40 && elapsed < 1000, `took ${elapsed} ms`);
      assert.equal(server.requests.length, 1);
      assert.deepEqual(clock.sleeps, []);
      assert.deepEqual(outcome(report), {
        delivered: 0,
        rejected: [],
        deferred: events.map((event) => ({
          event,
          reason: countedAs,
          details: 'request failed',
          attempt: 1,
          attempts: 1,
          notBefore: T0 + 100,
        })),
        requests: 1,
        retries: 0,
      });
      assertAccounted(report, events, []);
    });
  }

  test('aborted before send: nothing is sent, what is left would count as shutdown', async (t) => {
    const { server, client, clock } = await setup(t);
    const controller = new AbortController();
    controller.abort();
    const events = makeEvents(3);
    const report = await client.send(events, { deadline: far(clock), signal: controller.signal });

    assert.equal(server.requests.length, 0);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: [],
      deferred: events.map((event) => ({ event, reason: 'shutdown', attempt: 0, attempts: 0, notBefore: T0 })),
      requests: 0,
      retries: 0,
    });
    assertAccounted(report, events, []);
  });

  test('aborted between attempts: no further attempt; the deferral carries the last failure', async (t) => {
    const controller = new AbortController();
    const { server, client, clock } = await setup(t, { onAttempt: () => controller.abort() });
    server.setDefault({ status: 503 });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock), signal: controller.signal });

    assert.equal(server.requests.length, 1);
    assert.deepEqual(clock.sleeps, []);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: [],
      deferred: events.map((event) => ({
        event,
        reason: 'shutdown',
        details: 'HTTP 503: scripted 503 response',
        attempt: 1,
        attempts: 1,
        notBefore: T0 + 100,
      })),
      requests: 1,
      retries: 0,
    });
    assertAccounted(report, events, []);
  });

  for (const reason of [undefined, 'deadline'] as const) {
    test(`aborted (${reason ?? 'no reason'}) during a backoff sleep: the sleep ends, nothing more is sent, the planned retry time is kept`, async (t) => {
      const controller = new AbortController();
      class AbortingClock extends InstantClock {
        override async sleep(ms: number, signal?: AbortSignal): Promise<void> {
          controller.abort(reason);
          await super.sleep(ms, signal);
        }
      }
      const clock = new AbortingClock();
      const { server, client } = await setup(t, { clock });
      server.setDefault({ status: 503 });
      const events = makeEvents(1);
      const report = await client.send(events, { deadline: far(clock), signal: controller.signal });

      assert.equal(server.requests.length, 1);
      assert.deepEqual(clock.sleeps, [100]);
      assert.deepEqual(outcome(report), {
        delivered: 0,
        rejected: [],
        deferred: [
          {
            event: events[0]!,
            reason: reason ?? 'shutdown',
            details: 'HTTP 503: scripted 503 response',
            attempt: 1,
            attempts: 1,
            notBefore: T0 + 100,
          },
        ],
        requests: 1,
        retries: 0,
      });
      assertAccounted(report, events, []);
    });
  }

  for (const [name, reason] of [
    ['no reason (an AbortError)', undefined],
    ['an Error whose message is "deadline"', new Error('deadline')],
    ['"Deadline" (another case)', 'Deadline'],
    ['"shutdown"', 'shutdown'],
    ['a timeout', 'timeout'],
  ] as const) {
    test(`an abort with ${name} as reason counts as shutdown, not deadline`, async (t) => {
      const { server, client, clock } = await setup(t);
      const controller = new AbortController();
      controller.abort(reason);
      const events = makeEvents(2);
      const report = await client.send(events, { deadline: far(clock), signal: controller.signal });

      assert.equal(server.requests.length, 0);
      assert.deepEqual(
        report.deferred.map((d) => d.reasonIfDropped),
        ['shutdown'],
      );
      assertAccounted(report, events, []);
    });
  }

  test('notBefore is measured from the clock after earlier sleeps, with Retry-After as a floor', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ status: 503, headers: {} }, { status: 503, headers: { 'retry-after': '5' } });
    const events = makeEvents(1);
    // Attempt 1 at T0, sleep 100, attempt 2 at T0+100: Retry-After 5 s is over the 200 ms backoff.
    const report = await client.send(events, { deadline: clock.now() + 3000 });

    assert.equal(server.requests.length, 2);
    assert.deepEqual(clock.sleeps, [100]);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: [],
      deferred: [
        {
          event: events[0]!,
          reason: 'deadline',
          details: 'HTTP 503: scripted 503 response',
          attempt: 2,
          attempts: 2,
          notBefore: T0 + 100 + 5000,
          retryAfterUntil: T0 + 100 + 5000,
        },
      ],
      requests: 2,
      retries: 1,
    });
    assertAccounted(report, events, []);
  });

  test('maxWaitMillis: the request waits in place while its backoff fits, then comes back deferred', async (t) => {
    const { server, client, clock } = await setup(t, { maxAttempts: 10 });
    server.setDefault({ status: 503, headers: {} });
    const events = makeEvents(2);
    // 100 + 200 fit in 350 ms of waiting; the next 400 would not.
    const report = await client.send(events, { deadline: far(clock), maxWaitMillis: 350 });

    assert.deepEqual(clock.sleeps, [100, 200]);
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '2', '3']);
    assert.deepEqual(
      report.deferred.map((d) => [d.attempt, d.notBefore, d.events.length]),
      [[3, T0 + 300 + 400, 2]],
    );
  });

  test('requests leave nothing behind on a long-lived abort signal, answered or failed', async (t) => {
    const { server, client, clock } = await setup(t, { maxAttempts: 1 });
    const window = new AbortController();
    for (const status of [200, 503, 400]) {
      server.setDefault({ status });
      for (let i = 0; i < 5; i++) await client.send(makeEvents(2), { deadline: far(clock), signal: window.signal });
    }
    assert.equal(server.requests.length, 15);
    assert.equal(getEventListeners(window.signal, 'abort').length, 0);
  });
});

// How long the capture client waits between attempts and how many it makes: exponential backoff,
// its cap, Retry-After as a floor, and maxAttempts. Waits are read off an InstantClock.

import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureClientOptions } from '../../src/capture/capture-client.ts';
import { makeEvents } from '../support/capture-events.ts';
import { InstantClock, T0 } from '../support/clocks.ts';
import {
  accepted,
  assertAccounted,
  far,
  header,
  headersOf,
  iso,
  outcome,
  request,
  setup,
  uuidsPerRequest,
} from '../support/capture-client.ts';

describe('Retry-After', () => {
  async function sleepsFor(
    t: TestContext,
    retryAfter: string | ((now: number) => string),
    options: Partial<CaptureClientOptions> = {},
  ): Promise<number[]> {
    const { server, client, clock } = await setup(t, options);
    const value = typeof retryAfter === 'function' ? retryAfter(clock.now()) : retryAfter;
    server.script({ status: 503, headers: { 'retry-after': value } });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });
    assert.deepEqual(
      server.requests.map((r) => r.responseStatus),
      [503, 200],
    );
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 2, retries: 1 });
    assertAccounted(report, events, accepted(server));
    return clock.sleeps;
  }

  test('delta-seconds on a 503 is a floor over the backoff', async (t) => {
    assert.deepEqual(await sleepsFor(t, '3'), [3000]);
  });

  test('fractional seconds are honoured', async (t) => {
    assert.deepEqual(await sleepsFor(t, '2.5'), [2500]);
  });

  test('a Retry-After shorter than the backoff does not shorten it', async (t) => {
    assert.deepEqual(await sleepsFor(t, '1', { retryInitialDelayMillis: 2000 }), [2000]);
  });

  test('an HTTP-date on a 503 is measured from the client clock’s now', async (t) => {
    // The clock is set years away from the real Date.now(): a client measuring the date against the
    // wall clock would find it in the past and wait only its own 100 ms.
    const clock = new InstantClock(Date.UTC(2001, 0, 1));
    assert.deepEqual(await sleepsFor(t, (now) => new Date(now + 7000).toUTCString(), { clock }), [7000]);
  });

  test('an HTTP-date in the past gives no floor', async (t) => {
    assert.deepEqual(await sleepsFor(t, (now) => new Date(now - 7000).toUTCString()), [100]);
  });

  // Which values are hostile is unit-tested in retry-policy.test.ts; this shows the client then keeps its own backoff.
  test('a hostile Retry-After is ignored: the own backoff applies', async (t) => {
    assert.deepEqual(await sleepsFor(t, '1e9'), [100]);
  });

  test('a huge Retry-After (999999999) is clamped to retryMaxDelayMillis', async (t) => {
    assert.deepEqual(await sleepsFor(t, '999999999', { retryMaxDelayMillis: 5000 }), [5000]);
  });

  test('a huge Retry-After is clamped to the 30 s default cap', async (t) => {
    assert.deepEqual(await sleepsFor(t, '3600'), [30_000]);
  });

  test('Retry-After on a partial 200 applies to the resend', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(2);
    server.script({ results: { [events[0]!.uuid]: { result: 'retry' } }, headers: { 'retry-after': '4' } });
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(clock.sleeps, [4000]);
    assert.deepEqual(uuidsPerRequest(server), [events.map((e) => e.uuid), [events[0]!.uuid]]);
    assert.deepEqual(headersOf(server, 'posthog-request-timestamp'), [iso(T0), iso(T0 + 4000)]);
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 2, retries: 1 });
    assertAccounted(report, events, accepted(server));
  });

  test('an HTTP-date Retry-After on a partial 200 is measured from the client clock', async (t) => {
    const { server, client, clock } = await setup(t, { clock: new InstantClock(Date.UTC(2001, 0, 1)) });
    const events = makeEvents(1);
    server.script({
      results: { [events[0]!.uuid]: { result: 'retry' } },
      headers: { 'retry-after': new Date(clock.now() + 2000).toUTCString() },
    });
    const report = await client.send(events, { deadline: far(clock) });
    assert.deepEqual(clock.sleeps, [2000]);
    assert.deepEqual(outcome(report), { delivered: 1, rejected: [], deferred: [], requests: 2, retries: 1 });
    assertAccounted(report, events, accepted(server));
  });
});

describe('attempt budget', () => {
  test('default: 4 attempts, exponential backoff, then retry_exhausted', async (t) => {
    const { server, client, clock } = await setup(t);
    server.setDefault({ status: 503 });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 4);
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '2', '3', '4']);
    assert.equal(new Set(server.requests.map((r) => header(r, 'posthog-request-id'))).size, 1);
    assert.deepEqual(clock.sleeps, [100, 200, 400]);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: events.map((event) => ({ event, reason: 'retry_exhausted', details: 'HTTP 503: scripted 503 response', attempts: 4 })),
      deferred: [],
      requests: 4,
      retries: 3,
    });
    assertAccounted(report, events, []);
  });

  test('the backoff is capped at retryMaxDelayMillis', async (t) => {
    const { server, client, clock } = await setup(t, { maxAttempts: 6, retryMaxDelayMillis: 1000 });
    server.setDefault({ status: 500 });
    const events = makeEvents(1);
    const report = await client.send(events, { deadline: far(clock) });
    assert.deepEqual(clock.sleeps, [100, 200, 400, 800, 1000]);
    assert.equal(server.requests.length, 6);
    assert.deepEqual(
      report.rejected.map((d) => [d.reason, d.attempts]),
      [['retry_exhausted', 6]],
    );
    assertAccounted(report, events, []);
  });

  test('a request deferred after a Retry-After carries retryAfterUntil, and notBefore respects it as a floor', async (t) => {
    const { server, client, clock } = await setup(t, { maxAttempts: 5 });
    server.setDefault({ status: 503, headers: { 'retry-after': '2' } });
    const events = makeEvents(2);
    // No waiting in place: the request comes back at once, saying when it may go again.
    const report = await client.send(events, { deadline: far(clock), maxWaitMillis: 0 });

    // The next attempt would wait 100 ms by backoff, but the server's 2 s is the floor.
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
        notBefore: T0 + 2000,
        retryAfterUntil: T0 + 2000,
      })),
      requests: 1,
      retries: 0,
    });
    assert.equal(report.deferred[0]!.identity.requestId, header(request(server, 0), 'posthog-request-id'));
    assertAccounted(report, events, []);
  });

  test('a deferred request: a Retry-After shorter than the backoff bounds retryAfterUntil only; a huge one is capped', async (t) => {
    const { server, client, clock } = await setup(t, { maxAttempts: 5, retryMaxDelayMillis: 5000 });
    server.script({ status: 500, headers: {} }, { status: 500, headers: {} }, { status: 503, headers: { 'retry-after': '0.05' } });
    const first = makeEvents(1);
    const short = await client.send(first, { deadline: far(clock), maxWaitMillis: 300 });
    // Sleeps 100 and 200; deferred at T0 + 300. The 4th attempt's backoff (400 ms) beats the 50 ms floor.
    assert.deepEqual(clock.sleeps, [100, 200]);
    assert.deepEqual(
      short.deferred.map((d) => [d.attempt, d.notBefore, d.retryAfterUntil]),
      [[3, T0 + 300 + 400, T0 + 300 + 50]],
    );

    server.setDefault({ status: 503, headers: { 'retry-after': '999999' } });
    const second = makeEvents(1);
    const start = clock.now();
    const huge = await client.send(second, { deadline: far(clock), maxWaitMillis: 10_000 });
    // Every wait, the one a caller would make included, is capped at retryMaxDelayMillis.
    assert.deepEqual(clock.sleeps.slice(2), [5000, 5000]);
    assert.deepEqual(
      huge.deferred.map((d) => [d.attempt, d.notBefore, d.retryAfterUntil]),
      [[3, start + 10_000 + 5000, start + 10_000 + 5000]],
    );
  });

  for (const [maxAttempts, expected] of [
    [1, 1],
    [0, 1],
    [-3, 1],
    [2.9, 2],
  ] as const) {
    test(`maxAttempts: ${maxAttempts} → ${expected} request(s)`, async (t) => {
      const { server, client, clock } = await setup(t, { maxAttempts });
      server.setDefault({ status: 503 });
      const events = makeEvents(2);
      const report = await client.send(events, { deadline: far(clock) });

      assert.equal(server.requests.length, expected);
      assert.deepEqual(clock.sleeps, [100, 200].slice(0, expected - 1));
      assert.deepEqual(outcome(report), {
        delivered: 0,
        rejected: events.map((event) => ({
          event,
          reason: 'retry_exhausted',
          details: 'HTTP 503: scripted 503 response',
          attempts: expected,
        })),
        deferred: [],
        requests: expected,
        retries: expected - 1,
      });
      assertAccounted(report, events, []);
    });
  }
});

// Concurrent requests each carry exactly their own events, and a deferred request resent later goes
// on under its own identity (request id, created_at, attempt count).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { serializeEvent } from '../../src/capture/request-batches.ts';
import type { OutgoingRequest } from '../../src/capture/send-loop.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';
import type { ResultsMap } from '../support/fake-capture-server.ts';
import { makeEvent, makeEvents } from '../support/capture-events.ts';
import type { InstantClock } from '../support/clocks.ts';
import {
  accepted,
  assertAccounted,
  body,
  delay,
  far,
  header,
  headersOf,
  outcome,
  setup,
  uuidsPerRequest,
} from '../support/capture-client.ts';

describe('concurrency', () => {
  test('many events over concurrent requests are each delivered exactly once', async (t) => {
    const { server, client, clock } = await setup(t, { maxEventsPerRequest: 10, maxConcurrentRequests: 4 });
    const events = makeEvents(250);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 25);
    assert.equal(new Set(server.requests.map((r) => header(r, 'posthog-request-id'))).size, 25);
    const sent = uuidsPerRequest(server).flat();
    assert.equal(sent.length, 250, 'no uuid is sent twice');
    assert.deepEqual(new Set(sent), new Set(events.map((e) => e.uuid)));
    assert.equal(server.acceptedEvents().length, 250);
    assert.deepEqual(outcome(report), { delivered: 250, rejected: [], deferred: [], requests: 25, retries: 0 });
    assertAccounted(report, events, accepted(server));
  });

  for (const compression of ['zstd', 'none'] as const) {
    test(`bodies written into reused buffers: concurrent requests each carry exactly their own events (${compression})`, async (t) => {
      const { server, client, clock } = await setup(t, { compression, maxEventsPerRequest: 7, maxConcurrentRequests: 4 });
      // Bodies of different lengths: a body written over a longer one shows any leftover bytes.
      const events = Array.from({ length: 140 }, (_, i) => makeEvent({ properties: { i, text: 'x'.repeat((i * 37) % 900) } }));
      const report = await client.send(events, { deadline: far(clock) });

      assert.equal(server.requests.length, 20);
      for (const req of server.requests) assert.deepEqual(req.validation, { ok: true });
      const byUuid = new Map(events.map((e) => [e.uuid, e]));
      for (const req of server.requests) {
        for (const received of req.events) assert.deepEqual(received, byUuid.get(received.uuid));
      }
      assert.deepEqual(outcome(report), { delivered: 140, rejected: [], deferred: [], requests: 20, retries: 0 });
      assertAccounted(report, events, accepted(server));
    });
  }

  test('partial retries under concurrency: retried events are resent only within their own batch', async (t) => {
    const { server, client, clock } = await setup(t, { maxEventsPerRequest: 10, maxConcurrentRequests: 4 });
    const events = makeEvents(100);
    const retryOnce = new Set(events.filter((_, i) => i % 5 === 0).map((e) => e.uuid));
    server.setDefault({
      headers: {},
      results: (batch) => {
        const results: ResultsMap = {};
        for (const e of batch) if (retryOnce.delete(e.uuid)) results[e.uuid] = { result: 'retry' };
        return results;
      },
    });
    const report = await client.send(events, { deadline: far(clock) });

    // 10 batches, each with 2 retry events: 10 first attempts + 10 resends of 2 events.
    assert.equal(server.requests.length, 20);
    const byRequestId = new Map<string, string[]>();
    for (const r of server.requests) {
      const id = header(r, 'posthog-request-id');
      byRequestId.set(id, [...(byRequestId.get(id) ?? []), header(r, 'posthog-attempt')]);
    }
    assert.equal(byRequestId.size, 10);
    for (const attempts of byRequestId.values()) assert.deepEqual(attempts, ['1', '2']);
    for (const r of server.requests) {
      assert.equal(r.events.length, header(r, 'posthog-attempt') === '1' ? 10 : 2);
    }
    assert.deepEqual(
      clock.sleeps,
      Array.from({ length: 10 }, () => 100),
    );
    assert.equal(server.acceptedEvents().length, 100);
    assert.deepEqual(outcome(report), { delivered: 100, rejected: [], deferred: [], requests: 20, retries: 10 });
    assertAccounted(report, events, accepted(server));
  });

  test('no more than maxConcurrentRequests requests are in flight', async (t) => {
    const { server, client, clock } = await setup(t, { maxEventsPerRequest: 1, maxConcurrentRequests: 4 });
    server.setDefault({ delayMs: 120 });
    const events = makeEvents(8);
    const sending = client.send(events, { deadline: far(clock) });
    await server.waitForRequests(4, 2000);
    await delay(20);
    assert.equal(server.requests.length, 4, 'four in flight, the fifth waits for a slot');
    const report = await sending;

    assert.equal(server.requests.length, 8);
    assert.deepEqual(outcome(report), { delivered: 8, rejected: [], deferred: [], requests: 8, retries: 0 });
    assertAccounted(report, events, accepted(server));
  });
});

describe('resend: a deferred request goes on under its own identity', () => {
  /** A request as a caller keeps it: `attempt` sent already, each event with the attempts it used. */
  function keptRequest(clock: InstantClock, attempt: number, events: ReadonlyArray<[CaptureEvent, number]>): OutgoingRequest {
    return {
      identity: { requestId: uuidv7(clock.now()), createdAt: new Date(clock.now() - 5_000).toISOString() },
      attempt,
      events: events.map(([event, attempts]) => serializeEvent(event, attempts)!),
    };
  }

  test('the same request id and created_at, PostHog-Attempt counting on from the last; only its events', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(2);
    const kept = keptRequest(
      clock,
      2,
      events.map((e) => [e, 2]),
    );
    server.script({ status: 503 });
    const report = await client.resend(kept, { deadline: far(clock) });

    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['3', '4']);
    assert.deepEqual(headersOf(server, 'posthog-request-id'), [kept.identity.requestId, kept.identity.requestId]);
    assert.deepEqual(
      server.requests.map((r) => body(r).created_at),
      [kept.identity.createdAt, kept.identity.createdAt],
    );
    assert.deepEqual(uuidsPerRequest(server), [events.map((e) => e.uuid), events.map((e) => e.uuid)]);
    // The backoff follows the request's attempt count: after its 3rd attempt, 100 * 2^2 before the 4th.
    assert.deepEqual(clock.sleeps, [400]);
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 2, retries: 2 });
    assert.deepEqual(
      kept.events.map((item) => item.attempts),
      [2, 2],
      'the caller’s request is not modified',
    );
  });

  test('events that used 3 of 4 attempts get exactly one more, then retry_exhausted', async (t) => {
    const { server, client, clock } = await setup(t, { maxAttempts: 4 });
    const events = makeEvents(2);
    const kept = keptRequest(
      clock,
      3,
      events.map((e) => [e, 3]),
    );
    server.setDefault({ status: 503 });
    const report = await client.resend(kept, { deadline: far(clock) });

    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['4']);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: events.map((event) => ({ event, reason: 'retry_exhausted', details: 'HTTP 503: scripted 503 response', attempts: 4 })),
      deferred: [],
      requests: 1,
      retries: 1,
    });
  });

  test('a partial `retry` on a resent request: the events resend under the same id while their budget lasts', async (t) => {
    const { server, client, clock } = await setup(t, { maxAttempts: 4 });
    const [a, b, c] = makeEvents(3) as [CaptureEvent, CaptureEvent, CaptureEvent];
    const kept = keptRequest(clock, 2, [
      [a, 2],
      [b, 2],
      [c, 2],
    ]);
    server.script(
      { results: { [a.uuid]: { result: 'retry' }, [b.uuid]: { result: 'retry' } }, headers: {} },
      { results: { [a.uuid]: { result: 'retry' } }, headers: {} },
    );
    const report = await client.resend(kept, { deadline: far(clock) });

    assert.deepEqual(uuidsPerRequest(server), [
      [a.uuid, b.uuid, c.uuid],
      [a.uuid, b.uuid],
    ]);
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['3', '4']);
    assert.equal(new Set(headersOf(server, 'posthog-request-id')).size, 1);
    assert.deepEqual(outcome(report), {
      delivered: 2,
      rejected: [{ event: a, reason: 'retry_exhausted', details: 'server asked to retry 1 event(s)', attempts: 4 }],
      deferred: [],
      requests: 2,
      retries: 2,
    });
  });

  test('a 413 on a resent request splits it into new requests (attempt 1); the events keep the attempts they used', async (t) => {
    const { server, client, clock } = await setup(t, { maxAttempts: 4 });
    const events = makeEvents(2);
    const kept = keptRequest(
      clock,
      2,
      events.map((e) => [e, 2]),
    );
    server.script({ status: 413 }, { status: 503 });
    server.setDefault({ status: 503 });
    const report = await client.resend(kept, { deadline: far(clock), maxWaitMillis: 0 });

    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['3', '1', '1']);
    const ids = headersOf(server, 'posthog-request-id');
    assert.equal(ids[0], kept.identity.requestId);
    assert.equal(new Set(ids).size, 3, 'each half is a request of its own');
    // The 413 cost them no attempt; each half's one request did.
    assert.deepEqual(
      report.deferred.map((d) => [d.identity.requestId, d.attempt, d.events.map((item) => item.attempts)]),
      [
        [ids[1], 1, [3]],
        [ids[2], 1, [3]],
      ],
    );
  });

  test('a deadline already passed: the request comes back as it was, nothing sent', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(2);
    const kept = keptRequest(
      clock,
      3,
      events.map((e) => [e, 3]),
    );
    const report = await client.resend(kept, { deadline: clock.now() });
    assert.equal(server.requests.length, 0);
    assert.deepEqual(
      report.deferred.map((d) => [d.identity, d.attempt, d.events.map((item) => item.attempts)]),
      [[kept.identity, 3, [3, 3]]],
    );
  });
});

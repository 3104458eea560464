// How the capture client cuts a send into requests: by event count and bytes, events too large on
// their own, encoded events, a 415 falling back to gzip, and halving on 413.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { EncodedEvent } from '../../src/capture/encoded-event.ts';
import type { CaptureEvent, CaptureRequestBody } from '../../src/capture/types.ts';
import { makeEvent, makeEvents } from '../support/capture-events.ts';
import { accepted, assertAccounted, far, header, headersOf, outcome, request, setup, uuidsPerRequest } from '../support/capture-client.ts';

describe('request sizing', () => {
  test('maxEventsPerRequest splits into several batches with distinct request ids', async (t) => {
    const { server, client, clock } = await setup(t, { maxEventsPerRequest: 3, maxConcurrentRequests: 1 });
    const events = makeEvents(8);
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(
      uuidsPerRequest(server),
      [events.slice(0, 3), events.slice(3, 6), events.slice(6)].map((g) => g.map((e) => e.uuid)),
    );
    assert.equal(new Set(server.requests.map((r) => header(r, 'posthog-request-id'))).size, 3);
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '1', '1']);
    assert.deepEqual(outcome(report), { delivered: 8, rejected: [], deferred: [], requests: 3, retries: 0 });
    assertAccounted(report, events, accepted(server));
  });

  test('maxRequestBytes splits by uncompressed event bytes', async (t) => {
    const events = makeEvents(5, { properties: { pad: 'x'.repeat(300) } });
    const sizes = events.map((e) => Buffer.byteLength(JSON.stringify(e)));
    assert.equal(new Set(sizes).size, 1, 'all test events have the same size');
    const size = sizes[0]!;
    // Two events and a comma fit exactly; a third does not.
    const { server, client, clock } = await setup(t, { maxRequestBytes: 2 * size + 1, maxConcurrentRequests: 1 });
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(
      uuidsPerRequest(server),
      [events.slice(0, 2), events.slice(2, 4), events.slice(4)].map((g) => g.map((e) => e.uuid)),
    );
    assert.equal(new Set(server.requests.map((r) => header(r, 'posthog-request-id'))).size, 3);
    assert.deepEqual(outcome(report), { delivered: 5, rejected: [], deferred: [], requests: 3, retries: 0 });
    assertAccounted(report, events, accepted(server));
  });

  test('an event over maxEventBytes is dropped locally as too_large; the rest of its batch goes', async (t) => {
    const { server, client, clock } = await setup(t, { maxEventBytes: 1000 });
    const big = makeEvent({ properties: { blob: 'x'.repeat(5000) } });
    const events = [makeEvent(), big, makeEvent(), makeEvent()];
    const report = await client.send(events, { deadline: far(clock) });

    const bigBytes = Buffer.byteLength(JSON.stringify(big));
    assert.deepEqual(uuidsPerRequest(server), [[events[0]!.uuid, events[2]!.uuid, events[3]!.uuid]]);
    assert.deepEqual(outcome(report), {
      delivered: 3,
      rejected: [{ event: big, reason: 'too_large', details: `event is ${bigBytes} bytes, over the 1000-byte limit`, attempts: 0 }],
      deferred: [],
      requests: 1,
      retries: 0,
    });
    assertAccounted(report, events, accepted(server));
  });

  test('encoded events (the mapping writes their JSON) go out as written; one that may be over maxEventBytes is sized on its own', async (t) => {
    const { server, client, clock } = await setup(t, { maxEventBytes: 1000 });
    const encode = (event: CaptureEvent): EncodedEvent => new EncodedEvent(event, JSON.stringify(event));
    // Three-byte characters: by its length alone the event could be over the limit; by its real size it is not.
    const nearLimit = encode(makeEvent({ properties: { text: '€'.repeat(200) } }));
    const big = encode(makeEvent({ properties: { blob: 'x'.repeat(5000) } }));
    const events = [encode(makeEvent()), nearLimit, big, encode(makeEvent({ properties: { text: 'ünïcødé' } }))];
    const report = await client.send(events, { deadline: far(clock) });

    const bigBytes = Buffer.byteLength(big.json);
    assert.ok(
      Buffer.byteLength(nearLimit.json) < 1000 && nearLimit.json.length * 3 > 1000,
      'the near-limit event fits only by its real size',
    );
    assert.deepEqual(uuidsPerRequest(server), [[events[0]!.uuid, nearLimit.uuid, events[3]!.uuid]]);
    assert.deepEqual(
      report.rejected.map((d) => [d.event.uuid, d.reason, d.details]),
      [[big.uuid, 'too_large', `event is ${bigBytes} bytes, over the 1000-byte limit`]],
    );
    assert.equal(report.delivered, 3);
    assert.deepEqual(
      server.acceptedEvents(),
      [events[0]!, nearLimit, events[3]!].map((e) => JSON.parse(e.json) as unknown),
    );
  });

  test('a batch of encoded events is one request with the events exactly as written', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(5).map((event) => new EncodedEvent(event, JSON.stringify(event)));
    const report = await client.send(events, { deadline: far(clock) });
    assert.deepEqual(outcome(report), { delivered: 5, rejected: [], deferred: [], requests: 1, retries: 0 });
    const batch = (server.requests[0]!.decodedBody as CaptureRequestBody).batch;
    assert.deepEqual(
      batch,
      events.map((e) => JSON.parse(e.json)),
    );
  });

  test('a resend of encoded events carries their text as written, not a re-serialised copy', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ status: 503 });
    // Written with a non-integer key before an integer-like one: an object would put "10" first.
    const events = makeEvents(3).map((event) => {
      const json = JSON.stringify(event).replace('"properties":{', '"properties":{"b":1,"10":2,');
      return new EncodedEvent(event, json);
    });
    const report = await client.send(events, { deadline: far(clock) });
    assert.equal(report.delivered, 3);
    assert.equal(server.requests.length, 2);
    for (const request of server.requests) {
      const text = zlib.zstdDecompressSync(request.rawBody).toString('utf8');
      for (const event of events)
        assert.ok(text.includes(event.json), `attempt ${String(request.headers['posthog-attempt'])} carries the written text`);
    }
  });

  test('a 415 on a zstd body: the batch goes again as gzip, with the same request id, and later sends start with gzip', async (t) => {
    let fallbacks = 0;
    const { server, client, clock } = await setup(t, { onCompressionFallback: () => fallbacks++ });
    server.script({ status: 415 });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 2, retries: 1 });
    assert.deepEqual(headersOf(server, 'content-encoding'), ['zstd', 'gzip']);
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '2']);
    assert.equal(header(request(server, 1), 'posthog-request-id'), header(request(server, 0), 'posthog-request-id'));
    assert.deepEqual(request(server, 1).events, events);
    assert.equal(fallbacks, 1);

    await client.send(makeEvents(1), { deadline: far(clock) });
    assert.deepEqual(headersOf(server, 'content-encoding'), ['zstd', 'gzip', 'gzip']);
    assert.equal(fallbacks, 1);
  });

  test('a 415 on the gzip resend too is terminal: status_415 after two requests', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ status: 415 }, { status: 415 });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });
    assert.deepEqual(headersOf(server, 'content-encoding'), ['zstd', 'gzip']);
    assert.deepEqual(
      report.rejected.map((d) => [d.reason, d.attempts]),
      [
        ['status_415', 2],
        ['status_415', 2],
      ],
    );
    assert.equal(report.delivered, 0);
  });

  test('events that cannot be serialised (BigInt, cycle) are dropped as invalid', async (t) => {
    const { server, client, clock } = await setup(t);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const withBigInt = makeEvent({ properties: { big: 10n } });
    const withCycle = makeEvent({ properties: cyclic });
    const good = makeEvent();
    const events = [withBigInt, good, withCycle];
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(uuidsPerRequest(server), [[good.uuid]]);
    const details = 'event could not be serialised as JSON';
    assert.deepEqual(outcome(report), {
      delivered: 1,
      rejected: [
        { event: withBigInt, reason: 'invalid', details, attempts: 0 },
        { event: withCycle, reason: 'invalid', details, attempts: 0 },
      ],
      deferred: [],
      requests: 1,
      retries: 0,
    });
    assertAccounted(report, events, accepted(server));
  });

  test('nothing sendable → no request at all (never an empty batch)', async (t) => {
    const { server, client, clock } = await setup(t, { maxEventBytes: 1000 });
    const events = [makeEvent({ properties: { blob: 'x'.repeat(5000) } }), makeEvent({ properties: { big: 1n } })];
    const report = await client.send(events, { deadline: far(clock) });
    assert.equal(server.requests.length, 0);
    assert.deepEqual(
      report.rejected.map((d) => d.reason),
      ['too_large', 'invalid'],
    );
    assert.equal(report.requests, 0);
    assertAccounted(report, events, []);

    const empty = await client.send([], { deadline: far(clock) });
    assert.deepEqual(outcome(empty), { delivered: 0, rejected: [], deferred: [], requests: 0, retries: 0 });
    assert.equal(server.requests.length, 0);
    assertAccounted(empty, [], []);
  });
});

describe('413 halving', () => {
  test('a 413 on many events splits them into halves, each a new batch, until they fit', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(8);
    // The server takes at most 2 events: the halves are sent depth-first, 8 → 4 → 2 + 2, 4 → 2 + 2.
    server.script({ status: 413 }, { status: 413 }, {}, {}, { status: 413 }, {}, {});
    const report = await client.send(events, { deadline: far(clock) });

    const u = events.map((e) => e.uuid);
    assert.deepEqual(uuidsPerRequest(server), [u, u.slice(0, 4), u.slice(0, 2), u.slice(2, 4), u.slice(4), u.slice(4, 6), u.slice(6)]);
    assert.deepEqual(
      server.requests.map((r) => r.responseStatus),
      [413, 413, 200, 200, 413, 200, 200],
    );
    assert.equal(new Set(server.requests.map((r) => header(r, 'posthog-request-id'))).size, 7, 'every half is a new batch');
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '1', '1', '1', '1', '1', '1']);
    assert.deepEqual(clock.sleeps, [], 'splitting is not a retry: no backoff');
    assert.equal(server.pendingScript, 0);
    assert.deepEqual(outcome(report), { delivered: 8, rejected: [], deferred: [], requests: 7, retries: 0 });
    assertAccounted(report, events, accepted(server));
  });

  test('a single event that still gets 413 is dropped as too_large without poisoning the others', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(3);
    const [poison, a, b] = events as [CaptureEvent, CaptureEvent, CaptureEvent];
    // [p a b] → 413; [p a] → 413; [p] → 413 (too_large); [a] → ok; [b] → ok.
    server.script({ status: 413 }, { status: 413 }, { status: 413 });
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(uuidsPerRequest(server), [[poison.uuid, a.uuid, b.uuid], [poison.uuid, a.uuid], [poison.uuid], [a.uuid], [b.uuid]]);
    assert.equal(new Set(server.requests.map((r) => header(r, 'posthog-request-id'))).size, 5);
    assert.deepEqual(clock.sleeps, []);
    assert.deepEqual(outcome(report), {
      delivered: 2,
      // Every request that carried the event counts as an attempt for it, the 413s that split it included.
      rejected: [{ event: poison, reason: 'too_large', details: 'HTTP 413: scripted 413 response', attempts: 1 }],
      deferred: [],
      requests: 5,
      retries: 0,
    });
    assertAccounted(report, events, accepted(server));
  });
});

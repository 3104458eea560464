// Events that would make the server reject the whole request are refused locally as invalid, so
// the rest of their send is delivered; duplicate uuids in one send are refused after the first.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EncodedEvent } from '../../src/capture/encoded-event.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';
import { makeEvent, makeEvents } from '../support/capture-events.ts';
import { T0 } from '../support/clocks.ts';
import { accepted, assertAccounted, far, outcome, request, setup, uuidsPerRequest } from '../support/capture-client.ts';

describe('events that would make the server reject the whole request are refused as invalid', () => {
  const UUID_DETAILS = 'the uuid is not a canonical lower-case UUID';
  /** A valid event with `field` set to `value`, or removed when `value` is `REMOVE`. */
  const REMOVE = Symbol('remove');
  function withField(field: string, value: unknown): unknown {
    const event: Record<string, unknown> = { ...makeEvent() };
    if (value === REMOVE) delete event[field];
    else event[field] = value;
    return event;
  }
  const cases: { name: string; make: () => unknown; details: string }[] = [
    { name: 'null', make: () => null, details: 'the event is not an object' },
    { name: 'undefined', make: () => undefined, details: 'the event is not an object' },
    { name: 'a string', make: () => 'span_ended', details: 'the event is not an object' },
    { name: 'a number', make: () => 42, details: 'the event is not an object' },
    { name: 'an array', make: () => [makeEvent()], details: 'the event is not an object' },
    { name: 'event as a number', make: () => withField('event', 42), details: 'the event name is not a string' },
    { name: 'event null', make: () => withField('event', null), details: 'the event name is not a string' },
    { name: 'no event', make: () => withField('event', REMOVE), details: 'the event name is not a string' },
    { name: 'an upper-case uuid', make: () => withField('uuid', uuidv7().toUpperCase()), details: UUID_DETAILS },
    { name: 'a uuid with surrounding spaces', make: () => withField('uuid', ` ${uuidv7()} `), details: UUID_DETAILS },
    { name: 'a uuid in braces', make: () => withField('uuid', `{${uuidv7()}}`), details: UUID_DETAILS },
    { name: 'a uuid without hyphens', make: () => withField('uuid', uuidv7().replaceAll('-', '')), details: UUID_DETAILS },
    { name: 'a uuid that is not one', make: () => withField('uuid', 'not-a-uuid'), details: UUID_DETAILS },
    { name: 'an empty uuid', make: () => withField('uuid', ''), details: UUID_DETAILS },
    { name: 'a uuid as a number', make: () => withField('uuid', 42), details: UUID_DETAILS },
    { name: 'no uuid', make: () => withField('uuid', REMOVE), details: UUID_DETAILS },
    { name: 'distinct_id as a number', make: () => withField('distinct_id', 42), details: 'distinct_id is not a string' },
    { name: 'distinct_id null', make: () => withField('distinct_id', null), details: 'distinct_id is not a string' },
    { name: 'no distinct_id', make: () => withField('distinct_id', REMOVE), details: 'distinct_id is not a string' },
    { name: 'timestamp as epoch millis', make: () => withField('timestamp', T0), details: 'timestamp is not a string' },
    { name: 'no timestamp', make: () => withField('timestamp', REMOVE), details: 'timestamp is not a string' },
    { name: 'properties null', make: () => withField('properties', null), details: 'properties is not an object' },
    { name: 'properties an array', make: () => withField('properties', [1, 2]), details: 'properties is not an object' },
    { name: 'properties a string', make: () => withField('properties', '{}'), details: 'properties is not an object' },
    { name: 'no properties', make: () => withField('properties', REMOVE), details: 'properties is not an object' },
    { name: 'options null', make: () => withField('options', null), details: 'options is not an object' },
    { name: 'options an array', make: () => withField('options', []), details: 'options is not an object' },
    { name: 'options a boolean', make: () => withField('options', true), details: 'options is not an object' },
    { name: 'no options', make: () => withField('options', REMOVE), details: 'options is not an object' },
    { name: 'session_id as a number', make: () => withField('session_id', 5), details: 'session_id is not a string' },
    { name: 'session_id null', make: () => withField('session_id', null), details: 'session_id is not a string' },
    { name: 'window_id as a number', make: () => withField('window_id', 5), details: 'window_id is not a string' },
    { name: 'window_id an object', make: () => withField('window_id', {}), details: 'window_id is not a string' },
  ];
  for (const c of cases) {
    test(`${c.name}: refused as invalid; the valid events of the send are delivered`, async (t) => {
      const { server, client, clock } = await setup(t);
      const before = makeEvent();
      const bad = c.make() as CaptureEvent;
      const after = makeEvent();
      const report = await client.send([before, bad, after], { deadline: far(clock) });

      assert.equal(server.requests.length, 1);
      assert.deepEqual(request(server, 0).validation, { ok: true });
      assert.deepEqual(request(server, 0).events, [before, after]);
      assert.deepEqual(outcome(report), {
        delivered: 2,
        rejected: [{ event: bad, reason: 'invalid', details: c.details, attempts: 0 }],
        deferred: [],
        requests: 1,
        retries: 0,
      });
      assert.deepEqual(accepted(server), [before.uuid, after.uuid]);
    });
  }

  test('every case in one send: one valid request carrying only the valid events', async (t) => {
    const { server, client, clock } = await setup(t, { maxEventsPerRequest: 3 });
    const bad = cases.map((c) => c.make() as CaptureEvent);
    const good = makeEvents(6);
    const events = [...good.slice(0, 3), ...bad, ...good.slice(3)];
    const report = await client.send(events, { deadline: far(clock) });

    assert.ok(server.requests.every((r) => r.validation.ok && r.responseStatus === 200));
    // The two requests go out concurrently, so only their contents are fixed, not their order.
    const perRequest = (lists: string[][]): string[] => lists.map((l) => l.join(',')).sort();
    assert.deepEqual(perRequest(uuidsPerRequest(server)), perRequest([good.slice(0, 3), good.slice(3)].map((g) => g.map((e) => e.uuid))));
    assert.deepEqual(outcome(report), {
      delivered: 6,
      rejected: bad.map((event, i) => ({ event, reason: 'invalid', details: cases[i]!.details, attempts: 0 })),
      deferred: [],
      requests: 2,
      retries: 0,
    });
  });

  test('only invalid events → no request at all', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = [withField('uuid', 'x'), withField('options', null)] as CaptureEvent[];
    const report = await client.send(events, { deadline: far(clock) });
    assert.equal(server.requests.length, 0);
    assert.deepEqual(
      report.rejected.map((d) => [d.reason, d.details]),
      [
        ['invalid', UUID_DETAILS],
        ['invalid', 'options is not an object'],
      ],
    );
    assert.deepEqual([report.delivered, report.requests, report.retries], [0, 0, 0]);
  });

  test('valid shapes are not refused: a lower-case v4 uuid, string session_id/window_id, no session_id/window_id', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = [
      makeEvent({ uuid: crypto.randomUUID() }),
      makeEvent({ session_id: 'sess-1', window_id: 'win-1' }),
      makeEvent({ session_id: '', window_id: '' }),
      makeEvent({ properties: {}, options: { cookieless_mode: true } }),
    ];
    const report = await client.send(events, { deadline: far(clock) });
    assert.deepEqual(request(server, 0).events, events);
    assert.deepEqual(outcome(report), { delivered: 4, rejected: [], deferred: [], requests: 1, retries: 0 });
    assertAccounted(report, events, accepted(server));
  });

  test('a null event is refused, not thrown', async (t) => {
    const { server, client, clock } = await setup(t);
    const good = makeEvent();
    const report = await client.send([null as unknown as CaptureEvent, good], { deadline: far(clock) });
    assert.deepEqual(
      report.rejected.map((d) => [d.event, d.reason, d.attempts]),
      [[null, 'invalid', 0]],
    );
    assert.deepEqual(accepted(server), [good.uuid]);
  });

  for (const [field, value] of [
    ['properties', new Date(T0)],
    ['options', { toJSON: () => 'x' }],
  ] as const) {
    test(`${field} serialising to a non-object is refused, not sent`, async (t) => {
      const { server, client, clock } = await setup(t);
      const good = makeEvent();
      const bad = withField(field, value) as CaptureEvent;
      const report = await client.send([bad, good], { deadline: far(clock) });
      assert.ok(server.requests.every((r) => r.validation.ok));
      assert.deepEqual(
        report.rejected.map((d) => [d.event, d.reason]),
        [[bad, 'invalid']],
      );
      assert.deepEqual(accepted(server), [good.uuid]);
    });
  }
});

describe('duplicate uuids in one send', () => {
  const DUPLICATE = 'another event in the same export has this uuid';

  test('the first event with a uuid is sent; later ones are refused as invalid', async (t) => {
    const { server, client, clock } = await setup(t);
    const a = makeEvent();
    const b = makeEvent();
    const copy1 = makeEvent({ uuid: a.uuid });
    const copy2 = { ...a };
    const events = [a, copy1, b, copy2];
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 1);
    assert.deepEqual(request(server, 0).validation, { ok: true });
    assert.deepEqual(request(server, 0).events, [a, b]);
    assert.deepEqual(outcome(report), {
      delivered: 2,
      rejected: [
        { event: copy1, reason: 'invalid', details: DUPLICATE, attempts: 0 },
        { event: copy2, reason: 'invalid', details: DUPLICATE, attempts: 0 },
      ],
      deferred: [],
      requests: 1,
      retries: 0,
    });
    assert.deepEqual(accepted(server), [a.uuid, b.uuid]);
  });

  test('a uuid drawn by the mapping and the same uuid given to a later event: the later one is refused', async (t) => {
    const { server, client, clock } = await setup(t);
    const drawn = (event: CaptureEvent): EncodedEvent => new EncodedEvent(event, JSON.stringify(event), true);
    const a = drawn(makeEvent());
    const b = drawn(makeEvent());
    const given = makeEvent({ uuid: a.uuid });
    const report = await client.send([a, b, given], { deadline: far(clock) });

    assert.deepEqual(uuidsPerRequest(server), [[a.uuid, b.uuid]]);
    assert.deepEqual(report.rejected, [{ event: given, reason: 'invalid', details: DUPLICATE, attempts: 0 }]);

    // The other way round: the given one comes first and is sent.
    const first = makeEvent();
    const later = drawn(makeEvent({ uuid: first.uuid }));
    const second = await client.send([first, later], { deadline: far(clock) });
    assert.deepEqual(uuidsPerRequest(server)[1], [first.uuid]);
    assert.deepEqual(second.rejected, [{ event: later, reason: 'invalid', details: DUPLICATE, attempts: 0 }]);
  });

  test('duplicates are found across the requests of a send, not only within one', async (t) => {
    const { server, client, clock } = await setup(t, { maxEventsPerRequest: 1 });
    const a = makeEvent();
    const copy = makeEvent({ uuid: a.uuid });
    const report = await client.send([a, copy], { deadline: far(clock) });

    assert.deepEqual(uuidsPerRequest(server), [[a.uuid]]);
    assert.deepEqual(outcome(report), {
      delivered: 1,
      rejected: [{ event: copy, reason: 'invalid', details: DUPLICATE, attempts: 0 }],
      deferred: [],
      requests: 1,
      retries: 0,
    });
  });

  test('a first copy refused for another reason does not block a later valid one', async (t) => {
    const { server, client, clock } = await setup(t, { maxEventBytes: 1000 });
    const uuid = uuidv7();
    const invalid = { ...makeEvent({ uuid }), distinct_id: null } as unknown as CaptureEvent;
    const big = makeEvent({ uuid, properties: { blob: 'x'.repeat(5000) } });
    const valid = makeEvent({ uuid });
    const later = makeEvent({ uuid });
    const report = await client.send([invalid, big, valid, later], { deadline: far(clock) });

    assert.deepEqual(request(server, 0).events, [valid]);
    assert.deepEqual(
      report.rejected.map((d) => [d.event, d.reason, d.details]),
      [
        [invalid, 'invalid', 'distinct_id is not a string'],
        [big, 'too_large', `event is ${Buffer.byteLength(JSON.stringify(big))} bytes, over the 1000-byte limit`],
        [later, 'invalid', DUPLICATE],
      ],
    );
    assert.deepEqual([report.delivered, report.requests], [1, 1]);
    assert.deepEqual(accepted(server), [uuid]);
  });

  test('the same uuid in two separate sends is sent both times (dedup is per send)', async (t) => {
    const { server, client, clock } = await setup(t);
    const a = makeEvent();
    assert.deepEqual(await client.send([a], { deadline: far(clock) }), {
      delivered: 1,
      rejected: [],
      deferred: [],
      requests: 1,
      retries: 0,
    });
    assert.deepEqual(await client.send([a], { deadline: far(clock) }), {
      delivered: 1,
      rejected: [],
      deferred: [],
      requests: 1,
      retries: 0,
    });
    assert.deepEqual(uuidsPerRequest(server), [[a.uuid], [a.uuid]]);
  });
});

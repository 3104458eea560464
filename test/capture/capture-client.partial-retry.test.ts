// Per-event results in a 2xx answer: only events marked `retry` are sent again, under the same
// request id and created_at, until their attempts run out.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';
import { makeEvent, makeEvents } from '../support/capture-events.ts';
import { T0 } from '../support/clocks.ts';
import {
  accepted,
  assertAccounted,
  body,
  far,
  header,
  headersOf,
  iso,
  outcome,
  request,
  setup,
  uuidsPerRequest,
} from '../support/capture-client.ts';

describe('partial retry', () => {
  test('only `retry` events are resent; ok/warning/unknown/absent are done; drops keep details', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(8);
    const [ok, warning, dropped, retryA, limited, absent, retryB, dropNoDetails] = events as [
      CaptureEvent,
      CaptureEvent,
      CaptureEvent,
      CaptureEvent,
      CaptureEvent,
      CaptureEvent,
      CaptureEvent,
      CaptureEvent,
    ];
    server.script({
      results: {
        [ok.uuid]: { result: 'ok' },
        [warning.uuid]: { result: 'warning', details: 'person_processing_disabled' },
        [dropped.uuid]: { result: 'drop', details: 'exceptions_over_quota' },
        [retryA.uuid]: { result: 'retry', details: 'not_persisted' },
        [limited.uuid]: { result: 'limited', details: 'person_processing_disabled' },
        [retryB.uuid]: { result: 'retry', details: 'not_persisted' },
        [dropNoDetails.uuid]: { result: 'drop' },
      },
      omitUuids: [absent.uuid],
    });
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(uuidsPerRequest(server), [events.map((e) => e.uuid), [retryA.uuid, retryB.uuid]]);
    // Resent events are byte-for-byte the same events: uuid, timestamp, properties.
    assert.deepEqual(request(server, 1).events, [retryA, retryB]);
    const [r1, r2] = [request(server, 0), request(server, 1)];
    assert.equal(header(r2, 'posthog-request-id'), header(r1, 'posthog-request-id'));
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '2']);
    // The server's automatic `Retry-After: 1` on a partial 200 is a floor over the 100 ms backoff.
    assert.deepEqual(clock.sleeps, [1000]);
    assert.deepEqual(headersOf(server, 'posthog-request-timestamp'), [iso(T0), iso(T0 + 1000)]);
    assert.equal(body(r1).created_at, iso(T0));
    assert.equal(body(r2).created_at, iso(T0));
    assert.deepEqual(outcome(report), {
      delivered: 6,
      rejected: [
        { event: dropped, reason: 'server_drop', details: 'exceptions_over_quota', attempts: 1 },
        { event: dropNoDetails, reason: 'server_drop', details: 'dropped by the server', attempts: 1 },
      ],
      deferred: [],
      requests: 2,
      retries: 1,
    });
    assertAccounted(report, events, accepted(server));
    assert.deepEqual(new Set(accepted(server)), new Set([ok, warning, retryA, limited, absent, retryB].map((e) => e.uuid)));
  });

  test('attempts 1, 2, 3 share request id and created_at; timestamps advance; early drops survive', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(4);
    const [a, b, c, d] = events as [CaptureEvent, CaptureEvent, CaptureEvent, CaptureEvent];
    server.script(
      // `headers: {}` turns off the automatic Retry-After, so the own backoff (100, 200) applies.
      {
        results: {
          [a.uuid]: { result: 'drop', details: 'event_restriction_drop' },
          [b.uuid]: { result: 'retry' },
          [c.uuid]: { result: 'retry' },
        },
        headers: {},
      },
      { results: { [b.uuid]: { result: 'retry' }, [c.uuid]: { result: 'drop', details: 'event_too_big' } }, headers: {} },
    );
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(uuidsPerRequest(server), [[a.uuid, b.uuid, c.uuid, d.uuid], [b.uuid, c.uuid], [b.uuid]]);
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '2', '3']);
    assert.equal(new Set(server.requests.map((r) => header(r, 'posthog-request-id'))).size, 1);
    assert.deepEqual(clock.sleeps, [100, 200]);
    assert.deepEqual(headersOf(server, 'posthog-request-timestamp'), [iso(T0), iso(T0 + 100), iso(T0 + 300)]);
    assert.deepEqual(
      server.requests.map((r) => body(r).created_at),
      [iso(T0), iso(T0), iso(T0)],
    );
    assert.deepEqual(request(server, 2).events, [b]);
    assert.deepEqual(outcome(report), {
      delivered: 2,
      rejected: [
        { event: a, reason: 'server_drop', details: 'event_restriction_drop', attempts: 1 },
        { event: c, reason: 'server_drop', details: 'event_too_big', attempts: 2 },
      ],
      deferred: [],
      requests: 3,
      retries: 2,
    });
    assertAccounted(report, events, accepted(server));
  });

  test('events still marked retry on the last attempt are retry_exhausted; the rest are kept', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(3);
    const [stuck, gone, fine] = events as [CaptureEvent, CaptureEvent, CaptureEvent];
    server.script({
      results: { [stuck.uuid]: { result: 'retry' }, [gone.uuid]: { result: 'drop', details: 'invalid_options' } },
      headers: {},
    });
    server.setDefault({ results: { [stuck.uuid]: { result: 'retry' } }, headers: {} });
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(uuidsPerRequest(server), [[stuck.uuid, gone.uuid, fine.uuid], [stuck.uuid], [stuck.uuid], [stuck.uuid]]);
    assert.deepEqual(clock.sleeps, [100, 200, 400]);
    assert.deepEqual(outcome(report), {
      delivered: 1,
      rejected: [
        { event: gone, reason: 'server_drop', details: 'invalid_options', attempts: 1 },
        // Four requests carried it: the budget is spent, for good.
        { event: stuck, reason: 'retry_exhausted', details: 'server asked to retry 1 event(s)', attempts: 4 },
      ],
      deferred: [],
      requests: 4,
      retries: 3,
    });
    assertAccounted(report, events, accepted(server));
  });

  test('an upper-case or padded uuid is refused as invalid, without poisoning the rest of the send', async (t) => {
    const { server, client, clock } = await setup(t);
    // The server would accept these uuids, but keys `results` by the canonical form and rejects a whole
    // batch on a case-insensitive duplicate: only canonical lower-case uuids are sent.
    const upper = makeEvent({ uuid: uuidv7().toUpperCase() });
    const padded = makeEvent({ uuid: ` ${uuidv7()} ` });
    const retried = makeEvent();
    const dropped = makeEvent();
    const events = [upper, retried, padded, dropped];
    server.script({
      results: { [retried.uuid]: { result: 'retry' }, [dropped.uuid]: { result: 'drop', details: 'missing_distinct_id' } },
      headers: {},
    });
    const report = await client.send(events, { deadline: far(clock) });

    assert.ok(server.requests.every((r) => r.validation.ok));
    assert.deepEqual(uuidsPerRequest(server), [[retried.uuid, dropped.uuid], [retried.uuid]]);
    const details = 'the uuid is not a canonical lower-case UUID';
    assert.deepEqual(outcome(report), {
      delivered: 1,
      rejected: [
        { event: upper, reason: 'invalid', details, attempts: 0 },
        { event: padded, reason: 'invalid', details, attempts: 0 },
        { event: dropped, reason: 'server_drop', details: 'missing_distinct_id', attempts: 1 },
      ],
      deferred: [],
      requests: 2,
      retries: 1,
    });
    assertAccounted(report, events, accepted(server));
    assert.deepEqual(accepted(server), [retried.uuid]);
  });
});

// End-to-end tests of CaptureClient: the real client, its default undici transport, and the fake
// capture v1 server over real HTTP on 127.0.0.1. Time is an InstantClock (sleeps return at once and
// are recorded) with jitter pinned to 0, so backoff schedules are exact and nothing sleeps for seconds.

import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { CaptureClient } from '../../src/capture/capture-client.ts';
import { EncodedEvent } from '../../src/capture/encoded-event.ts';
import { serializeEvent } from '../../src/capture/request-batches.ts';
import type { OutgoingRequest } from '../../src/capture/send-loop.ts';
import type { CaptureClientOptions } from '../../src/capture/capture-client.ts';
import { CLIENT_DEFAULTS } from '../../src/config/defaults.ts';
import type { SendReport } from '../../src/capture/send-report.ts';
import type { CaptureEvent, CaptureRequestBody } from '../../src/capture/types.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';
import { FakeCaptureServer } from '../support/fake-capture-server.ts';
import type { RecordedRequest, ResultsMap } from '../support/fake-capture-server.ts';
import { InstantClock } from '../support/instant-clock.ts';

const SDK_INFO = 'my-otel-exporter/1.2.3';
/** The configuration's client defaults, with the 4 attempts and 100 ms first delay these tests count on. */
const CLIENT_SETTINGS = { ...CLIENT_DEFAULTS, maxAttempts: 4, retryInitialDelayMillis: 100 };
const PATH = '/i/v1/analytics/events';
/** InstantClock's default start, 2026-11-22T12:00:00.000Z. */
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const LOWER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HOUR = 3_600_000;

// ---------------------------------------------------------------------------------------------
// helpers

let sequence = 0;

function makeEvent(overrides: Partial<CaptureEvent> = {}): CaptureEvent {
  const n = sequence++;
  return {
    event: 'span_ended',
    uuid: uuidv7(),
    distinct_id: 'svc-a',
    timestamp: new Date(T0 - 60_000 + (n % 1000)).toISOString(),
    options: {},
    properties: { n, duration_ms: 12, nested: { list: [1, 'two', null], ok: true } },
    ...overrides,
  };
}

function makeEvents(count: number, overrides: Partial<CaptureEvent> = {}): CaptureEvent[] {
  return Array.from({ length: count }, () => makeEvent(overrides));
}

interface Harness {
  server: FakeCaptureServer;
  client: CaptureClient;
  clock: InstantClock;
}

type HarnessOptions = Partial<CaptureClientOptions> | ((server: FakeCaptureServer) => Partial<CaptureClientOptions>);

/** A fresh server and client per test, closed (client first) when the test ends. */
async function setup(t: TestContext, options: HarnessOptions = {}): Promise<Harness> {
  const server = await FakeCaptureServer.start();
  const extra = typeof options === 'function' ? options(server) : options;
  const clock = extra.clock instanceof InstantClock ? extra.clock : new InstantClock();
  const client = new CaptureClient({
    ...CLIENT_SETTINGS,
    host: server.url,
    apiKey: server.apiKey,
    sdkInfo: SDK_INFO,
    random: () => 0,
    ...extra,
    clock,
  });
  t.after(async () => {
    await client.close();
    await server.close();
  });
  return { server, client, clock };
}

/** A deadline far enough away never to matter. */
function far(clock: InstantClock): number {
  return clock.now() + HOUR;
}

/** Uuids of the events the server accepted (2xx result other than retry/drop), deduplicated. */
function accepted(server: FakeCaptureServer): string[] {
  return server.acceptedEvents().map((e) => e.uuid);
}

/** One deferred event as tests compare them: its request's state spelled out per event. */
interface DeferredEvent {
  event: CaptureEvent;
  reason: 'deadline' | 'shutdown';
  details?: string;
  /** Requests sent under the deferred request's id. */
  attempt: number;
  /** Requests that carried this event. */
  attempts: number;
  notBefore: number;
  retryAfterUntil?: number;
}

/** A report as tests compare it: deferred requests flattened to their events; the last failure left out. */
function outcome(report: SendReport): {
  delivered: number;
  rejected: SendReport['rejected'];
  deferred: DeferredEvent[];
  requests: number;
  retries: number;
} {
  const deferred = report.deferred.flatMap((d) =>
    d.events.map((item) => ({
      event: item.event,
      reason: d.reasonIfDropped,
      ...(d.details !== undefined ? { details: d.details } : {}),
      attempt: d.attempt,
      attempts: item.attempts,
      notBefore: d.notBefore,
      ...(d.retryAfterUntil !== undefined ? { retryAfterUntil: d.retryAfterUntil } : {}),
    })),
  );
  return { delivered: report.delivered, rejected: report.rejected, deferred, requests: report.requests, retries: report.retries };
}

/** Every event of a report: rejected, or in a deferred request. */
function undelivered(report: SendReport): CaptureEvent[] {
  return [...report.rejected.map((r) => r.event), ...report.deferred.flatMap((d) => d.events.map((item) => item.event))];
}

/**
 * Every input event is accounted for exactly once: either among `deliveredUuids` (what the server
 * accepted, unless the test knows better), rejected or deferred, never twice.
 */
function assertAccounted(report: SendReport, events: readonly CaptureEvent[], deliveredUuids: readonly string[]): void {
  assert.equal(report.delivered + undelivered(report).length, events.length, 'delivered + rejected + deferred === events');
  assert.equal(report.delivered, deliveredUuids.length, 'report.delivered matches the delivered uuids');
  const counts = new Map<string, number>();
  for (const uuid of [...deliveredUuids, ...undelivered(report).map((event) => event.uuid)]) counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
  for (const event of events) assert.equal(counts.get(event.uuid), 1, `uuid ${event.uuid} is accounted for exactly once`);
  assert.equal(counts.size, events.length, 'no uuid outside the input is reported');
}

function request(server: FakeCaptureServer, index: number): RecordedRequest {
  const req = server.requests[index];
  assert.ok(req, `request #${index} was recorded`);
  return req;
}

function header(req: RecordedRequest, name: string): string {
  const value = req.headers[name];
  assert.equal(typeof value, 'string', `header ${name} present once`);
  return value as string;
}

function body(req: RecordedRequest): CaptureRequestBody {
  assert.ok(req.decodedBody !== undefined, 'body decoded');
  return req.decodedBody as CaptureRequestBody;
}

function headersOf(server: FakeCaptureServer, name: string): (string | string[] | undefined)[] {
  return server.requests.map((r) => r.headers[name]);
}

function uuidsPerRequest(server: FakeCaptureServer): string[][] {
  return server.requests.map((r) => r.events.map((e) => e.uuid));
}

function iso(millis: number): string {
  return new Date(millis).toISOString();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A URL on 127.0.0.1 where nothing listens (a fake server started then closed). */
async function refusedUrl(): Promise<string> {
  const server = await FakeCaptureServer.start();
  const url = server.url;
  await server.close();
  return url;
}

// ---------------------------------------------------------------------------------------------

describe('checklist §20: endpoint, headers, body', () => {
  test('POSTs to /i/v1/analytics/events on the host', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(client.endpoint.href, `${server.url}${PATH}`);
    assert.equal(server.requests.length, 1);
    const req = request(server, 0);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, PATH);
    assert.deepEqual(req.validation, { ok: true });
    assert.equal(req.responseStatus, 200);
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 1, retries: 0 });
    assertAccounted(report, events, accepted(server));
  });

  for (const suffix of ['/', '///', '/?token=abc#frag']) {
    test(`a host ending in ${JSON.stringify(suffix)} still posts to the standard path`, async (t) => {
      const { server, client, clock } = await setup(t, (s) => ({ host: `${s.url}${suffix}` }));
      const events = makeEvents(1);
      const report = await client.send(events, { deadline: far(clock) });

      assert.equal(client.endpoint.href, `${server.url}${PATH}`);
      assert.deepEqual(
        server.requests.map((r) => r.path),
        [PATH],
      );
      assert.deepEqual(request(server, 0).validation, { ok: true });
      assert.deepEqual(outcome(report), { delivered: 1, rejected: [], deferred: [], requests: 1, retries: 0 });
      assertAccounted(report, events, accepted(server));
    });
  }

  for (const prefix of ['/ingest/', '/ingest']) {
    test(`a host with a path prefix (${prefix}) keeps it: /ingest${PATH}`, async (t) => {
      const { server, client, clock } = await setup(t, (s) => ({ host: `${s.url}${prefix}` }));
      const events = makeEvents(2);
      const report = await client.send(events, { deadline: far(clock) });

      assert.equal(client.endpoint.pathname, `/ingest${PATH}`);
      // The fake server only routes the standard path, so a reverse-proxy prefix reaches it as a 404.
      assert.deepEqual(
        server.requests.map((r) => r.path),
        [`/ingest${PATH}`],
      );
      assert.deepEqual(request(server, 0).validation, {
        ok: false,
        status: 404,
        error: 'not_found',
        description: `no route for POST /ingest${PATH}`,
      });
      const details = `HTTP 404: no route for POST /ingest${PATH}`;
      assert.deepEqual(outcome(report), {
        delivered: 0,
        rejected: events.map((event) => ({ event, reason: 'status_404', details, attempts: 1 })),
        deferred: [],
        requests: 1,
        retries: 0,
      });
      assertAccounted(report, events, []);
    });
  }

  test('every required header has its exact value', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = makeEvents(1);
    const report = await client.send(events, { deadline: far(clock) });

    const req = request(server, 0);
    assert.deepEqual(req.validation, { ok: true });
    assert.equal(header(req, 'content-type'), 'application/json');
    assert.equal(header(req, 'authorization'), 'Bearer phc_test_key');
    assert.equal(header(req, 'user-agent'), SDK_INFO);
    assert.equal(header(req, 'posthog-sdk-info'), SDK_INFO);
    assert.equal(header(req, 'posthog-attempt'), '1');
    assert.match(header(req, 'posthog-request-id'), LOWER_UUID);
    assert.equal(header(req, 'posthog-request-timestamp'), '2026-11-22T12:00:00.000Z');
    assert.equal(header(req, 'content-encoding'), 'zstd');
    assert.equal(report.delivered, 1);
    assertAccounted(report, events, accepted(server));
  });

  test('the body is {created_at, batch}: no api_key, sent_at, $lib, historical_migration by default', async (t) => {
    const { server, client, clock } = await setup(t);
    const events = [
      makeEvent(),
      makeEvent({
        event: '$exception',
        distinct_id: 'user-42',
        session_id: 'sess-1',
        window_id: 'win-1',
        options: { process_person_profile: false, product_tour_id: 'tour-1', disable_skew_correction: true },
        properties: {
          $set: { plan: 'pro' },
          $set_once: { first: 'x' },
          $groups: { company: 'acme' },
          unicode: 'héllo ✓ 🚀',
          n: -0.5,
          $exception_list: [{ type: 'Error', value: 'x' }],
        },
      }),
    ];
    const snapshot = structuredClone(events);
    const report = await client.send(events, { deadline: far(clock) });

    const req = request(server, 0);
    const sent = body(req) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(sent).sort(), ['batch', 'created_at']);
    assert.equal(sent.created_at, '2026-11-22T12:00:00.000Z');
    // Events pass through unchanged: uuid, timestamp, options, properties deep-equal the input.
    assert.deepEqual(sent.batch, snapshot);
    assert.deepEqual(events, snapshot, 'the caller’s events are not mutated');
    for (const event of body(req).batch) {
      assert.equal('$lib' in event.properties, false);
      assert.equal('$lib_version' in event.properties, false);
    }
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 1, retries: 0 });
    assertAccounted(report, events, accepted(server));
  });

  test('historical_migration: true only when historicalMigration is set', async (t) => {
    const on = await setup(t, { historicalMigration: true });
    const off = await setup(t, { historicalMigration: false });
    const events = makeEvents(2);
    const onReport = await on.client.send(events, { deadline: far(on.clock) });
    const offReport = await off.client.send(events, { deadline: far(off.clock) });

    const onBody = body(request(on.server, 0)) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(onBody).sort(), ['batch', 'created_at', 'historical_migration']);
    assert.equal(onBody.historical_migration, true);
    const offBody = body(request(off.server, 0)) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(offBody).sort(), ['batch', 'created_at']);
    assertAccounted(onReport, events, accepted(on.server));
    assertAccounted(offReport, events, accepted(off.server));
  });

  test('two sends are two batches with different request ids', async (t) => {
    const { server, client, clock } = await setup(t);
    const first = makeEvents(1);
    const second = makeEvents(1);
    assertAccounted(await client.send(first, { deadline: far(clock) }), first, [first[0]!.uuid]);
    assertAccounted(await client.send(second, { deadline: far(clock) }), second, [second[0]!.uuid]);
    const ids = server.requests.map((r) => header(r, 'posthog-request-id'));
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1]);
  });
});

describe('status matrix (§10)', () => {
  for (const status of [408, 500, 502, 503, 504]) {
    test(`${status} is retried until success`, async (t) => {
      const { server, client, clock } = await setup(t);
      server.script({ status });
      const events = makeEvents(3);
      const report = await client.send(events, { deadline: far(clock) });

      assert.deepEqual(
        server.requests.map((r) => r.responseStatus),
        [status, 200],
      );
      assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '2']);
      assert.equal(header(request(server, 1), 'posthog-request-id'), header(request(server, 0), 'posthog-request-id'));
      assert.deepEqual(request(server, 1).events, events);
      assert.deepEqual(clock.sleeps, [100]);
      assert.deepEqual(outcome(report), { delivered: 3, rejected: [], deferred: [], requests: 2, retries: 1 });
      assertAccounted(report, events, accepted(server));
    });
  }

  for (const status of [400, 401, 402, 403, 404, 415, 429, 501, 505]) {
    test(`${status} is terminal after one request: status_${status}`, async (t) => {
      // A 415 on a zstd body is the one exception (a gzip resend, tested below), so this one sends gzip.
      const { server, client, clock } = await setup(t, status === 415 ? { compression: 'gzip' } : {});
      // 429 carries Retry-After on the real server; it is still terminal in v1.
      server.script(status === 429 ? { status, headers: { 'retry-after': '1' } } : { status });
      const events = makeEvents(2);
      const report = await client.send(events, { deadline: far(clock) });

      assert.equal(server.requests.length, 1);
      assert.equal(request(server, 0).responseStatus, status);
      assert.deepEqual(clock.sleeps, []);
      const details = `HTTP ${status}: scripted ${status} response`;
      assert.deepEqual(outcome(report), {
        delivered: 0,
        rejected: events.map((event) => ({ event, reason: `status_${status}`, details, attempts: 1 })),
        deferred: [],
        requests: 1,
        retries: 0,
      });
      assertAccounted(report, events, []);
    });
  }

  test('413 on a single event is terminal: too_large', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ status: 413 });
    const events = makeEvents(1);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 1);
    assert.deepEqual(clock.sleeps, []);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: [{ event: events[0], reason: 'too_large', details: 'HTTP 413: scripted 413 response', attempts: 1 }],
      deferred: [],
      requests: 1,
      retries: 0,
    });
    assertAccounted(report, events, []);
  });

  test('a long server message is cut at a word: a key it echoes near the cut is left out whole, not half', async (t) => {
    const { server, client, clock } = await setup(t);
    // The key starts just before the 300-character cut: a plain cut would keep its first half.
    const message = `${'word '.repeat(58)}token phc_echoedSecretKey123456 and more text after it`;
    server.script({ status: 400, body: JSON.stringify({ error_description: message }) });
    const report = await client.send(makeEvents(1), { deadline: far(clock) });
    const details = report.rejected[0]!.details!;
    assert.ok(details.endsWith(' token…'), details);
    assert.ok(!details.includes('phc_'), details);
    assert.ok(details.length < 320, `${details.length}`);
  });

  test('a real 401 from the server (wrong key) carries its error_description', async (t) => {
    const { server, client, clock } = await setup(t, { apiKey: 'phc_wrong_key' });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 1);
    assert.deepEqual(request(server, 0).validation, {
      ok: false,
      status: 401,
      error: 'invalid_api_token',
      description: 'invalid project API token',
    });
    assert.deepEqual(
      report.rejected.map((d) => [d.reason, d.details, d.attempts]),
      events.map(() => ['status_401', 'HTTP 401: invalid project API token', 1]),
    );
    assertAccounted(report, events, []);
  });

  test('an error body that is not JSON gives details without a message', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ status: 400, body: '<html>bad gateway</html>' });
    const events = makeEvents(1);
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(report.rejected, [{ event: events[0], reason: 'status_400', details: 'HTTP 400', attempts: 1 }]);
    assert.equal(report.requests, 1);
    assertAccounted(report, events, []);
  });

  test('a 202 is a success like 200', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ status: 202 });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 1, retries: 0 });
    assertAccounted(report, events, accepted(server));
  });
});

describe('partial retry (§8)', () => {
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

describe('Retry-After (§11)', () => {
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

  for (const hostile of ['-1', 'abc', '1e9', '0', '0x10', 'Infinity', '  ', 'later 2099', 'a 9999', 'May 3000']) {
    test(`hostile Retry-After ${JSON.stringify(hostile)} is ignored`, async (t) => {
      assert.deepEqual(await sleepsFor(t, hostile), [100]);
    });
  }

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

describe('attempt budget (§12)', () => {
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

describe('malformed 2xx (§8): terminal, never looped', () => {
  const cases: { name: string; status?: number; body: string; reason: string }[] = [
    { name: 'not JSON', body: 'this is not json', reason: 'response body is not JSON' },
    { name: 'an array', body: '[]', reason: 'response body is not a JSON object' },
    { name: 'null', body: 'null', reason: 'response body is not a JSON object' },
    { name: '{} (no results)', body: '{}', reason: 'response has no results object' },
    { name: 'results is an array', body: '{"results":[]}', reason: 'response has no results object' },
    { name: 'results is a string', body: '{"results":"ok"}', reason: 'response has no results object' },
    { name: 'results is null', body: '{"results":null}', reason: 'response has no results object' },
    { name: 'an empty 204', status: 204, body: '', reason: 'response body is not JSON' },
  ];
  for (const c of cases) {
    test(`a 2xx whose body is ${c.name} → malformed_response after one request`, async (t) => {
      const { server, client, clock } = await setup(t);
      const status = c.status ?? 200;
      server.script({ status, body: c.body });
      const events = makeEvents(2);
      const report = await client.send(events, { deadline: far(clock) });

      assert.equal(server.requests.length, 1);
      assert.deepEqual(clock.sleeps, []);
      assert.deepEqual(outcome(report), {
        delivered: 0,
        rejected: events.map((event) => ({ event, reason: 'malformed_response', details: `HTTP ${status}: ${c.reason}`, attempts: 1 })),
        deferred: [],
        requests: 1,
        retries: 0,
      });
      assertAccounted(report, events, []);
    });
  }

  test('a 2xx body larger than maxResponseBytes → malformed_response; the client keeps working', async (t) => {
    const { server, client, clock } = await setup(t, { maxResponseBytes: 4096 });
    server.script({ oversizedBodyBytes: 512 * 1024 });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 1);
    assert.deepEqual(clock.sleeps, []);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: events.map((event) => ({ event, reason: 'malformed_response', details: 'HTTP 200: response body too large', attempts: 1 })),
      deferred: [],
      requests: 1,
      retries: 0,
    });
    assertAccounted(report, events, []);

    const next = makeEvents(1);
    const nextReport = await client.send(next, { deadline: far(clock) });
    assert.deepEqual(outcome(nextReport), { delivered: 1, rejected: [], deferred: [], requests: 1, retries: 0 });
    assert.equal(server.requests.length, 2);
    assertAccounted(nextReport, next, [next[0]!.uuid]);
  });
});

describe('compression (§14)', () => {
  const cases: { compression: 'zstd' | 'gzip' | 'deflate' | 'none' | undefined; encoding: string | undefined; magic: number[] }[] = [
    { compression: undefined, encoding: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd] },
    { compression: 'zstd', encoding: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd] },
    { compression: 'gzip', encoding: 'gzip', magic: [0x1f, 0x8b] },
    { compression: 'deflate', encoding: 'deflate', magic: [0x78] },
    { compression: 'none', encoding: undefined, magic: [0x7b] },
  ];
  for (const c of cases) {
    test(`compression ${c.compression ?? '(default)'} round-trips through the server's decoder`, async (t) => {
      const { server, client, clock } = await setup(t, c.compression === undefined ? {} : { compression: c.compression });
      const events = makeEvents(20, { properties: { message: 'repeated text '.repeat(20), nested: { a: [1, 2, 3] } } });
      const report = await client.send(events, { deadline: far(clock) });

      const req = request(server, 0);
      assert.deepEqual(req.validation, { ok: true });
      assert.equal(req.headers['content-encoding'], c.encoding);
      assert.deepEqual([...req.rawBody.subarray(0, c.magic.length)], c.magic);
      if (c.encoding === undefined) {
        assert.deepEqual(JSON.parse(req.rawBody.toString('utf8')), req.decodedBody);
      } else {
        assert.ok(req.rawBody.length < JSON.stringify(req.decodedBody).length, 'the body is actually compressed');
      }
      assert.deepEqual(req.events, events);
      assert.deepEqual(outcome(report), { delivered: 20, rejected: [], deferred: [], requests: 1, retries: 0 });
      assertAccounted(report, events, accepted(server));
    });
  }
});

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

describe('network faults (§15)', () => {
  test('a connection reset is retried, then succeeds', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ reset: true });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(
      server.requests.map((r) => r.responseStatus),
      [0, 200],
    );
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '2']);
    assert.equal(header(request(server, 1), 'posthog-request-id'), header(request(server, 0), 'posthog-request-id'));
    assert.deepEqual(clock.sleeps, [100]);
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 2, retries: 1 });
    assertAccounted(report, events, accepted(server));
  });

  test('connection refused is retried until retry_exhausted', async (t) => {
    const host = await refusedUrl();
    const clock = new InstantClock();
    const client = new CaptureClient({ ...CLIENT_SETTINGS, host, apiKey: 'phc_test_key', sdkInfo: SDK_INFO, clock, random: () => 0 });
    t.after(() => client.close());
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(clock.sleeps, [100, 200, 400]);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: events.map((event) => ({ event, reason: 'retry_exhausted', details: 'request failed (ECONNREFUSED)', attempts: 4 })),
      deferred: [],
      requests: 4,
      retries: 3,
    });
    assertAccounted(report, events, []);
  });

  test('a server that never answers times out after requestTimeoutMillis and is retried', async (t) => {
    const { server, client, clock } = await setup(t, { requestTimeoutMillis: 100 });
    server.script({ hang: true });
    const events = makeEvents(2);
    const started = performance.now();
    const report = await client.send(events, { deadline: far(clock) });
    const elapsed = performance.now() - started;

    assert.ok(elapsed >= 90 && elapsed < 1000, `took ${elapsed} ms`);
    assert.deepEqual(
      server.requests.map((r) => r.responseStatus),
      [0, 200],
    );
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '2']);
    assert.deepEqual(clock.sleeps, [100]);
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 2, retries: 1 });
    assertAccounted(report, events, accepted(server));
  });

  test('timing out on every attempt ends in retry_exhausted "request timed out"', async (t) => {
    const { server, client, clock } = await setup(t, { requestTimeoutMillis: 60, maxAttempts: 2 });
    server.setDefault({ hang: true });
    const events = makeEvents(1);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 2);
    assert.deepEqual(clock.sleeps, [100]);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      // The timeouts are real time; the InstantClock only moves with the 100 ms sleep. Next would be attempt 3: 200 ms.
      rejected: [{ event: events[0], reason: 'retry_exhausted', details: 'request timed out', attempts: 2 }],
      deferred: [],
      requests: 2,
      retries: 1,
    });
    assertAccounted(report, events, []);
  });

  test('a response body that trickles past requestTimeoutMillis is a timeout, retried', async (t) => {
    const { server, client, clock } = await setup(t, { requestTimeoutMillis: 100 });
    server.script({ trickle: { chunkBytes: 1, intervalMs: 30, totalBytes: 10_000 } });
    const events = makeEvents(1);
    const started = performance.now();
    const report = await client.send(events, { deadline: far(clock) });
    const elapsed = performance.now() - started;

    assert.ok(elapsed >= 90 && elapsed < 1000, `took ${elapsed} ms`);
    assert.equal(server.requests.length, 2);
    assert.deepEqual(clock.sleeps, [100]);
    assert.deepEqual(outcome(report), { delivered: 1, rejected: [], deferred: [], requests: 2, retries: 1 });
    assertAccounted(report, events, [events[0]!.uuid]);
  });
});

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

  test('an abort during a hung request resolves promptly; what is left would count as shutdown', async (t) => {
    const { server, client, clock } = await setup(t);
    server.setDefault({ hang: true });
    const controller = new AbortController();
    const events = makeEvents(2);
    const timer = setTimeout(() => controller.abort(), 50);
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
        reason: 'shutdown',
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

  test('abort("deadline") during a hung request resolves promptly, deferred as deadline', async (t) => {
    const { server, client, clock } = await setup(t);
    server.setDefault({ hang: true });
    const controller = new AbortController();
    const events = makeEvents(2);
    const timer = setTimeout(() => controller.abort('deadline'), 50);
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
        reason: 'deadline',
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
});

describe('failFast: a send stops once PostHog is unreachable', () => {
  test('connection refused with failFast: one attempt, the rest deferred without waiting', async (t) => {
    const host = await refusedUrl();
    const clock = new InstantClock();
    const client = new CaptureClient({
      ...CLIENT_SETTINGS,
      host,
      apiKey: 'phc_test_key',
      sdkInfo: SDK_INFO,
      clock,
      random: () => 0,
      maxEventsPerRequest: 2,
      maxConcurrentRequests: 1,
    });
    t.after(() => client.close());
    const events = makeEvents(6);
    const report = await client.send(events, { deadline: far(clock), failFast: true });

    assert.deepEqual(clock.sleeps, []);
    assert.equal(report.requests, 1, 'the first request found the port closed; the other two were not tried');
    assert.deepEqual(
      report.deferred.map((d) => [d.attempt, d.events.length]),
      [
        [1, 2],
        [0, 2],
        [0, 2],
      ],
    );
    assert.deepEqual(report.lastFailure, { kind: 'refused', code: 'ECONNREFUSED' });
    assertAccounted(report, events, []);
  });

  test('without failFast a refused connection is retried in place as before', async (t) => {
    const host = await refusedUrl();
    const clock = new InstantClock();
    const client = new CaptureClient({
      ...CLIENT_SETTINGS,
      host,
      apiKey: 'phc_test_key',
      sdkInfo: SDK_INFO,
      clock,
      random: () => 0,
      maxAttempts: 3,
    });
    t.after(() => client.close());
    const report = await client.send(makeEvents(1), { deadline: far(clock) });
    assert.equal(report.requests, 3);
    assert.deepEqual(clock.sleeps, [100, 200]);
  });

  test('a 503 is not unreachable: failFast leaves its in-place retries alone', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ status: 503, headers: {} });
    const report = await client.send(makeEvents(1), { deadline: far(clock), failFast: true });
    assert.deepEqual(outcome(report), { delivered: 1, rejected: [], deferred: [], requests: 2, retries: 1 });
    assert.deepEqual(clock.sleeps, [100]);
  });
});

describe('extra headers', () => {
  test('are sent on every attempt but cannot replace Authorization, Content-Type, User-Agent or PostHog-* headers', async (t) => {
    const { server, client, clock } = await setup(t, {
      headers: {
        'X-Gateway-Token': 'gw-123',
        Authorization: 'Bearer phx_evil',
        AUTHORIZATION: 'Basic evil',
        'Content-Type': 'text/plain',
        'User-Agent': 'evil/0',
        'PostHog-Sdk-Info': 'evil/0',
        'posthog-attempt': '99',
        'PostHog-Request-Id': 'not-a-uuid',
        'PostHog-Request-Timestamp': 'yesterday',
        'Content-Encoding': 'br',
      },
    });
    server.script({ status: 503 });
    const events = makeEvents(1);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 2);
    for (const [i, req] of server.requests.entries()) {
      assert.deepEqual(req.validation, { ok: true });
      assert.equal(header(req, 'x-gateway-token'), 'gw-123');
      assert.equal(header(req, 'authorization'), 'Bearer phc_test_key');
      assert.equal(header(req, 'content-type'), 'application/json');
      assert.equal(header(req, 'user-agent'), SDK_INFO);
      assert.equal(header(req, 'posthog-sdk-info'), SDK_INFO);
      assert.equal(header(req, 'posthog-attempt'), String(i + 1));
      assert.match(header(req, 'posthog-request-id'), LOWER_UUID);
      assert.equal(header(req, 'posthog-request-timestamp'), iso(T0 + (i === 0 ? 0 : 100)));
      assert.equal(header(req, 'content-encoding'), 'zstd');
    }
    assert.deepEqual(outcome(report), { delivered: 1, rejected: [], deferred: [], requests: 2, retries: 1 });
    assertAccounted(report, events, accepted(server));
  });
});

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

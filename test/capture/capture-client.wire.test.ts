// What the capture client puts on the wire, as the fake capture server receives it over real HTTP:
// the endpoint, the headers, the body, compression, and extra headers.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEvent, makeEvents } from '../support/capture-events.ts';
import { T0 } from '../support/clocks.ts';
import {
  accepted,
  assertAccounted,
  body,
  far,
  header,
  iso,
  LOWER_UUID,
  outcome,
  PATH,
  request,
  SDK_INFO,
  setup,
} from '../support/capture-client.ts';

describe('endpoint, headers, body', () => {
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

describe('compression', () => {
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

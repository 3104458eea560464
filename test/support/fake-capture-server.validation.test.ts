// The fake capture server validates requests as the real capture endpoint does: what it accepts,
// and each way a request is rejected, with the status and error tag PostHog gives.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import zlib from 'node:zlib';
import { FakeCaptureServer, MAX_COMPRESSED_BODY_BYTES } from './fake-capture-server.ts';
import type { RecordedRequest } from './fake-capture-server.ts';
import { makeBody, makeEvent, makeHeaders, PATH, send, type SendOptions } from './fake-server-requests.ts';

function assertRejected(req: RecordedRequest | undefined, status: number, error: string): void {
  assert.ok(req, 'request recorded');
  assert.equal(req.validation.ok, false);
  if (req.validation.ok) return;
  assert.equal(req.validation.status, status);
  assert.equal(req.validation.error, error);
  assert.equal(req.responseStatus, status);
  assert.deepEqual(req.events, []);
}

describe('valid requests', () => {
  let server: FakeCaptureServer;
  before(async () => {
    server = await FakeCaptureServer.start();
  });
  after(() => server.close());
  beforeEach(() => server.reset());

  test('a gzip request is accepted and recorded with decoded events', async () => {
    const events = [makeEvent(), makeEvent({ event: 'log', properties: { level: 'info' } })];
    const requestId = randomUUID();
    const res = await send(server, { body: makeBody(events), headers: { 'posthog-request-id': requestId } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('posthog-request-id'), requestId);
    assert.ok(res.headers.get('date'));
    assert.equal(res.headers.get('retry-after'), null);
    assert.deepEqual(await res.json(), {
      results: { [events[0]!.uuid]: { result: 'ok' }, [events[1]!.uuid]: { result: 'ok' } },
    });
    const [req] = server.requests;
    assert.ok(req);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, PATH);
    assert.equal(req.headers['content-encoding'], 'gzip');
    assert.deepEqual(req.validation, { ok: true });
    assert.equal(req.responseStatus, 200);
    assert.deepEqual(req.events, events);
    assert.deepEqual((req.decodedBody as { batch: unknown }).batch, events);
    assert.deepEqual(JSON.parse(zlib.gunzipSync(req.rawBody).toString()), req.decodedBody);
    assert.ok(Math.abs(req.receivedAt - Date.now()) < 5000);
    assert.equal(server.url, `http://127.0.0.1:${new URL(server.url).port}`);
  });

  test('uncompressed, trailing-slash path and charset content type are accepted', async () => {
    const res = await send(server, {
      encoding: 'none',
      path: `${PATH}/`,
      headers: { 'content-type': 'Application/JSON; charset=utf-8', authorization: 'bearer   phc_test_key ' },
    });
    assert.equal(res.status, 200);
    assert.equal(server.requests[0]?.events.length, 1);
  });

  test('a lone surrogate in a property is accepted: capture keeps properties as raw JSON', async () => {
    const res = await send(server, { body: makeBody([makeEvent({ properties: { cut: 'emoji \ud83d', ['key \udc00']: 1 } })]) });
    assert.equal(res.status, 200);
    assert.equal(server.requests[0]?.events[0]?.properties.cut, 'emoji \ud83d');
  });

  test('zlib deflate is accepted', async () => {
    const res = await send(server, { encoding: 'deflate' });
    assert.equal(res.status, 200);
    assert.equal(server.requests[0]?.events.length, 1);
  });

  test('per-event problems become drop results', async () => {
    const events = [
      makeEvent({ event: '' }),
      makeEvent({ event: 'x'.repeat(201) }),
      makeEvent({ distinct_id: ' ' }),
      makeEvent({ distinct_id: 'd'.repeat(201) }),
      makeEvent({ timestamp: 'yesterday' }),
      makeEvent({ timestamp: '2026-02-31T00:00:00Z' }),
      makeEvent({ options: { process_person_profile: 'maybe' } as never }),
      makeEvent(),
    ];
    const overridden = makeEvent({ event: '' });
    server.script({ results: { [overridden.uuid]: { result: 'ok' } } });
    const res = await send(server, { body: makeBody([...events, overridden]) });
    const { results } = (await res.json()) as { results: Record<string, { result: string; details?: string }> };
    assert.deepEqual(
      events.map((e) => results[e.uuid]?.details ?? results[e.uuid]?.result),
      [
        'missing_event_name',
        'event_name_too_long',
        'missing_distinct_id',
        'distinct_id_too_large',
        'invalid_event_timestamp',
        'invalid_event_timestamp',
        'invalid_options',
        'ok',
      ],
    );
    assert.deepEqual(results[overridden.uuid], { result: 'ok' });
    assert.deepEqual(
      server.acceptedEvents().map((e) => e.uuid),
      [events[7]!.uuid, overridden.uuid],
    );
  });

  test('a $exception error tracking would dead-letter gets a drop result; a sound one is ok', async () => {
    const frame = { platform: 'node:javascript', filename: 'app.js', function: 'f', lineno: 1, colno: 2, in_app: true };
    const sound = makeEvent({
      event: '$exception',
      properties: { $exception_list: [{ type: 'Error', value: 'x', stacktrace: { type: 'raw', frames: [frame] } }] },
    });
    const events = [
      makeEvent({ event: '$exception', properties: {} }),
      makeEvent({
        event: '$exception',
        properties: { $exception_list: [{ type: 'Error', stacktrace: { type: 'raw', frames: [{ ...frame, filename: undefined }] } }] },
      }),
      makeEvent({ event: '$exception', properties: { $exception_list: [{ type: 'Error' }], note: 'cut \ud83d' } }),
      // Not a $exception: error tracking never reads it.
      makeEvent({ event: 'checkout_failed', properties: { $exception_list: 'nonsense' } }),
      sound,
    ];
    const res = await send(server, { body: makeBody(events) });
    const { results } = (await res.json()) as { results: Record<string, { result: string; details?: string }> };
    const outcome = events.map((e) => results[e.uuid]?.details ?? results[e.uuid]?.result);
    assert.match(outcome[0]!, /^exception_dead_lettered: \$exception_list is missing$/);
    assert.match(outcome[1]!, /^exception_dead_lettered: .*filename is required/);
    assert.match(outcome[2]!, /^exception_dead_lettered: .*lone UTF-16 surrogate/);
    assert.deepEqual(outcome.slice(3), ['ok', 'ok']);
    assert.deepEqual(
      server.acceptedEvents().map((e) => e.uuid),
      [events[3]!.uuid, sound.uuid],
    );
  });

  test('a person or group event ingestion would discard gets a drop result', async () => {
    const events = [
      makeEvent({ event: '$identify', distinct_id: 'u-1', options: { process_person_profile: false } }),
      makeEvent({ event: '$groupidentify', distinct_id: ' Anonymous ' }),
      makeEvent({ event: '$create_alias', distinct_id: 'null' }),
      makeEvent({ event: '$identify', distinct_id: 'u-1' }),
      // Not a person event: accepted, with person processing off.
      makeEvent({ event: 'signed_up', distinct_id: 'null', options: { process_person_profile: false } }),
    ];
    const res = await send(server, { body: makeBody(events) });
    const { results } = (await res.json()) as { results: Record<string, { result: string; details?: string }> };
    assert.deepEqual(
      events.map((e) => results[e.uuid]?.details ?? results[e.uuid]?.result),
      [
        'person_event_discarded: person processing is off',
        'person_event_discarded: placeholder distinct id " Anonymous "',
        'person_event_discarded: placeholder distinct id "null"',
        'ok',
        'ok',
      ],
    );
  });

  test('results are keyed by the canonical lower-case uuid', async () => {
    const event = makeEvent({ uuid: randomUUID().toUpperCase() });
    const res = await send(server, { body: makeBody([event]) });
    const { results } = (await res.json()) as { results: Record<string, unknown> };
    assert.deepEqual(Object.keys(results), [event.uuid.toLowerCase()]);
  });
});

describe('validation', () => {
  let server: FakeCaptureServer;
  before(async () => {
    server = await FakeCaptureServer.start({ apiKey: 'phc_custom' });
  });
  after(() => server.close());
  beforeEach(() => server.reset());

  const auth = { authorization: 'Bearer phc_custom' };
  const uuid = randomUUID();
  const cases: { name: string; options: SendOptions; status: number; error: string }[] = [
    { name: 'GET', options: { method: 'GET', headers: auth }, status: 404, error: 'not_found' },
    { name: 'wrong path', options: { path: '/batch/', headers: auth }, status: 404, error: 'not_found' },
    { name: 'no authorization', options: { headers: { authorization: undefined } }, status: 401, error: 'missing_authorization' },
    {
      name: 'missing required header',
      options: { headers: { ...auth, 'posthog-sdk-info': undefined, 'posthog-attempt': undefined } },
      status: 400,
      error: 'missing_required_headers',
    },
    {
      name: 'missing content-type',
      options: { headers: { ...auth, 'content-type': undefined } },
      status: 400,
      error: 'missing_required_headers',
    },
    { name: 'non-Bearer scheme', options: { headers: { authorization: 'Basic phc_custom' } }, status: 400, error: 'invalid_header_value' },
    { name: 'wrong token', options: { headers: { authorization: 'Bearer phc_other' } }, status: 401, error: 'invalid_api_token' },
    { name: 'personal key', options: { headers: { authorization: 'Bearer phx_custom' } }, status: 401, error: 'invalid_api_token' },
    { name: 'text/plain', options: { headers: { ...auth, 'content-type': 'text/plain' } }, status: 415, error: 'unsupported_content_type' },
    { name: 'unknown encoding', options: { headers: { ...auth, 'content-encoding': 'lz4' } }, status: 415, error: 'unsupported_encoding' },
    { name: 'raw deflate', options: { encoding: 'deflate-raw', headers: auth }, status: 400, error: 'request_decoding_error' },
    {
      name: 'gzip header on plain body',
      options: { encoding: 'none', headers: { ...auth, 'content-encoding': 'gzip' } },
      status: 400,
      error: 'request_decoding_error',
    },
    {
      name: 'request id not a uuid',
      options: { headers: { ...auth, 'posthog-request-id': 'abc' } },
      status: 400,
      error: 'invalid_header_value',
    },
    { name: 'attempt 0', options: { headers: { ...auth, 'posthog-attempt': '0' } }, status: 400, error: 'invalid_header_value' },
    { name: 'attempt 1.5', options: { headers: { ...auth, 'posthog-attempt': '1.5' } }, status: 400, error: 'invalid_header_value' },
    {
      name: 'request timestamp not RFC 3339',
      options: { headers: { ...auth, 'posthog-request-timestamp': 'Thu, 28 May 2026 15:00:00 GMT' } },
      status: 400,
      error: 'invalid_header_value',
    },
    { name: 'empty body', options: { raw: '', headers: auth }, status: 400, error: 'empty_body' },
    { name: 'not JSON', options: { raw: '{"batch":', headers: auth }, status: 400, error: 'request_parsing_error' },
    { name: 'JSON array', options: { body: [], headers: auth }, status: 400, error: 'request_parsing_error' },
    { name: 'no created_at', options: { body: { batch: [makeEvent()] }, headers: auth }, status: 400, error: 'request_parsing_error' },
    { name: 'batch not an array', options: { body: makeBody(), headers: auth }, status: 400, error: 'request_parsing_error' },
    {
      name: 'numeric distinct_id',
      options: { body: makeBody([makeEvent({ distinct_id: 42 as never })]), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    {
      name: 'event without uuid',
      options: { body: makeBody([{ ...makeEvent(), uuid: undefined }]), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    {
      name: 'event without name',
      options: { body: makeBody([{ ...makeEvent(), event: undefined }]), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    {
      name: 'event without timestamp',
      options: { body: makeBody([{ ...makeEvent(), timestamp: undefined }]), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    {
      name: 'properties array',
      options: { body: makeBody([makeEvent({ properties: [] as never })]), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    {
      name: 'options null',
      options: { body: makeBody([makeEvent({ options: null as never })]), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    // serde_json refuses an escaped lone surrogate in a String field: the whole request fails.
    ...(['event', 'distinct_id', 'timestamp', 'session_id', 'window_id'] as const).map((field) => ({
      name: `lone surrogate in ${field}`,
      options: { body: makeBody([makeEvent({ [field]: 'cut \ud83d' })]), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    })),
    {
      name: 'lone surrogate in options.product_tour_id',
      options: { body: makeBody([makeEvent({ options: { product_tour_id: '\udc00' } })]), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    {
      name: 'lone surrogate in created_at',
      options: { body: makeBody(undefined, { created_at: '2026-05-28T15:00:00Z\ud83d' }), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    {
      name: 'api_key in body',
      options: { body: makeBody(undefined, { api_key: 'phc_custom' }), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    {
      name: 'token in body',
      options: { body: makeBody(undefined, { token: 'phc_custom' }), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    {
      name: 'sent_at in body',
      options: { body: makeBody(undefined, { sent_at: new Date().toISOString() }), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    {
      name: '$lib in properties',
      options: { body: makeBody([makeEvent({ properties: { $lib: 'x' } })]), headers: auth },
      status: 400,
      error: 'request_parsing_error',
    },
    {
      name: 'bad created_at',
      options: { body: makeBody(undefined, { created_at: '2026-05-28 15:00' }), headers: auth },
      status: 400,
      error: 'invalid_batch',
    },
    { name: 'empty batch', options: { body: makeBody([]), headers: auth }, status: 400, error: 'empty_batch' },
    {
      name: 'event uuid not a uuid',
      options: { body: makeBody([makeEvent({ uuid: 'not-a-uuid' })]), headers: auth },
      status: 400,
      error: 'invalid_event_uuid',
    },
    {
      name: 'duplicate event uuid',
      options: { body: makeBody([makeEvent({ uuid }), makeEvent({ uuid: uuid.toUpperCase() })]), headers: auth },
      status: 400,
      error: 'duplicate_event_uuid',
    },
  ];
  // `batch` set to an object after construction so makeBody's default stays an array.
  (cases.find((c) => c.name === 'batch not an array')!.options.body as Record<string, unknown>).batch = {};

  for (const c of cases) {
    test(`${c.name} → ${c.status} ${c.error}`, async () => {
      server.script({ status: 503 });
      const requestId = randomUUID();
      const res = await send(server, { ...c.options, headers: { 'posthog-request-id': requestId, ...c.options.headers } });
      assert.equal(res.status, c.status);
      assert.equal(res.headers.get('posthog-request-id'), c.name === 'request id not a uuid' ? 'abc' : requestId);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.error, c.error);
      assert.equal(typeof body.error_description, 'string');
      assert.equal(body.error_uri, 'https://posthog.com/docs/api');
      assertRejected(server.requests[0], c.status, c.error);
      assert.equal(server.pendingScript, 1, 'an invalid request does not consume the script');
    });
  }

  test('missing user-agent → 400 listing every missing header', async () => {
    const headers = makeHeaders({ ...auth, 'user-agent': undefined, 'posthog-request-timestamp': undefined });
    const body = JSON.stringify(makeBody());
    // fetch always adds a user-agent, so use node:http.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}${PATH}`, { method: 'POST', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 400);
    assertRejected(server.requests[0], 400, 'missing_required_headers');
    const validation = server.requests[0]!.validation;
    assert.ok(!validation.ok && /posthog-request-timestamp/.test(validation.description) && /user-agent/.test(validation.description));
  });

  test('compressed body over 10 MiB → 413', async () => {
    const res = await send(server, { raw: Buffer.alloc(MAX_COMPRESSED_BODY_BYTES + 1, 0x20), headers: auth });
    assert.equal(res.status, 413);
    assertRejected(server.requests[0], 413, 'payload_too_large');
    assert.equal(server.requests[0]!.rawBody.length, MAX_COMPRESSED_BODY_BYTES + 1);
  });

  test('decompressed body over 50 MiB → 413', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024 + 1, 0x20));
    const res = await send(server, { raw: bomb, headers: { ...auth, 'content-encoding': 'gzip' } });
    assert.equal(res.status, 413);
    assertRejected(server.requests[0], 413, 'payload_too_large');
  });

  test('a rejected body is still decoded for inspection', async () => {
    await send(server, { headers: { authorization: 'Bearer wrong' } });
    assert.ok(Array.isArray((server.requests[0]?.decodedBody as { batch: unknown }).batch));
  });
});

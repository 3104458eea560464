import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { constants, gunzipSync, gzipSync, inflateSync, inflateRawSync, zstdCompress, zstdDecompressSync } from 'node:zlib';
import { encodeBody } from '../../src/transport/compression.ts';
import { batchMembers, serializeEvent, splitIntoRequests } from '../../src/capture/request-batches.ts';
import { errorMessageFromBody, parseSuccessBody } from '../../src/capture/response.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { canonicalUuid, uuidv7 } from '../../src/shared/uuid.ts';
import { attemptHeaders, extraHeadersWithoutProtocolOnes, requestBody } from '../../src/capture/wire-request.ts';

function event(i: number, props: Record<string, unknown> = {}): CaptureEvent {
  return { event: `e${i}`, uuid: uuidv7(), distinct_id: 'd', timestamp: '2026-11-22T12:00:00.000Z', options: {}, properties: props };
}

describe('uuid', () => {
  test('uuidv7 is canonical, version 7, variant 10, time-ordered and unique', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    for (const id of ids) {
      assert.equal(canonicalUuid(id), id);
      assert.equal(id[14], '7');
      assert.ok('89ab'.includes(id[19]!));
    }
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(parseInt(uuidv7(0x0123456789ab).replace(/-/g, '').slice(0, 12), 16), 0x0123456789ab);
  });
  test('canonicalUuid lower-cases and rejects non-uuids', () => {
    assert.equal(canonicalUuid(' 0190F3C4-1111-7222-8333-444455556666 '), '0190f3c4-1111-7222-8333-444455556666');
    for (const bad of ['', 'abc', 42, null, '0190f3c4111172228333444455556666', '0190f3c4-1111-7222-8333-44445555666g']) {
      assert.equal(canonicalUuid(bad), undefined);
    }
  });
});

describe('request body and headers', () => {
  const identity = { requestId: uuidv7(), createdAt: '2026-11-22T12:00:00.000Z' };
  test('body is the envelope around cached event JSON, historical_migration only when true', () => {
    const items = [event(1, { a: [1, { b: 'x' }] }), event(2)].map((e) => serializeEvent(e)!);
    const plain = JSON.parse(requestBody(identity, false, batchMembers(items)).toString('utf8'));
    assert.deepEqual(plain, { created_at: identity.createdAt, batch: items.map((i) => i.event) });
    assert.equal('historical_migration' in plain, false);
    const historical = JSON.parse(requestBody(identity, true, batchMembers(items)).toString('utf8'));
    assert.equal(historical.historical_migration, true);
    // Events serialised as a whole batch (no per-event JSON) give the same array.
    const whole = items.map(({ event: e, bytes, attempts }) => ({ event: e, bytes, attempts }));
    assert.deepEqual(batchMembers(whole), batchMembers(items));
    for (const key of ['api_key', 'sent_at', 'token']) assert.equal(key in plain, false);
  });
  test('body members are written one after another, multi-byte characters included, and exactly sized', () => {
    const members = ['{"a":"€😀"}', '{"b":"ü"}', '{"c":1}'];
    const body = requestBody(identity, false, members);
    assert.deepEqual(JSON.parse(body.toString('utf8')).batch, [{ a: '€😀' }, { b: 'ü' }, { c: 1 }]);
    assert.equal(body.length, Buffer.byteLength(`{"created_at":"${identity.createdAt}","batch":[${members.join(',')}]}`));
    assert.deepEqual(JSON.parse(requestBody(identity, false, []).toString('utf8')).batch, []);
  });
  test('headers carry the protocol values; extra headers cannot override them', () => {
    const extra = extraHeadersWithoutProtocolOnes({
      'X-Proxy': 'p',
      Authorization: 'Basic evil',
      'POSTHOG-ATTEMPT': '99',
      'content-type': 'text/plain',
    });
    assert.deepEqual(extra, { 'X-Proxy': 'p' });
    const h = attemptHeaders({
      apiKey: 'phc_k',
      sdkInfo: 'lib/1.2.3',
      identity,
      attempt: 3,
      nowMillis: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      extraHeaders: extra,
      encoding: 'gzip',
    });
    assert.deepEqual(h, {
      'X-Proxy': 'p',
      'content-type': 'application/json',
      authorization: 'Bearer phc_k',
      'user-agent': 'lib/1.2.3',
      'posthog-sdk-info': 'lib/1.2.3',
      'posthog-attempt': '3',
      'posthog-request-id': identity.requestId,
      'posthog-request-timestamp': '2026-01-02T03:04:05.006Z',
      'content-encoding': 'gzip',
    });
  });
});

describe('splitting into requests', () => {
  test('by event count', () => {
    const items = Array.from({ length: 250 }, (_, i) => serializeEvent(event(i))!);
    const groups = splitIntoRequests(items, { maxEvents: 100, maxBytes: 1e9 });
    assert.deepEqual(
      groups.map((g) => g.length),
      [100, 100, 50],
    );
    assert.deepEqual(groups.flat(), items);
  });
  test('by bytes, counting separators, never exceeding the bound', () => {
    const items = Array.from({ length: 40 }, (_, i) => serializeEvent(event(i, { pad: 'x'.repeat(1000 + i * 37) }))!);
    const maxBytes = 8000;
    const groups = splitIntoRequests(items, { maxEvents: 1000, maxBytes });
    assert.deepEqual(groups.flat(), items);
    for (const g of groups) {
      const size = g.reduce((n, i) => n + i.bytes, 0) + g.length - 1;
      assert.ok(size <= maxBytes, `group of ${size} bytes`);
    }
    assert.ok(groups.length > 5);
  });
  test('serializeEvent refuses values JSON cannot hold', () => {
    assert.equal(serializeEvent(event(1, { big: 10n })), undefined);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(serializeEvent(event(1, cyclic)), undefined);
    assert.equal(serializeEvent(event(1, { s: 'é' }))!.bytes, Buffer.byteLength(serializeEvent(event(1, { s: 'é' }))!.json!));
  });
});

describe('compression', () => {
  const json = JSON.stringify({ batch: Array.from({ length: 50 }, (_, i) => ({ i, s: 'hello world' })) });
  test('zstd round-trips', async () => {
    const e = await encodeBody(Buffer.from(json), 'zstd');
    assert.equal(e.encoding, 'zstd');
    assert.deepEqual([...e.body.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    assert.equal(zstdDecompressSync(e.body).toString(), json);
    assert.ok(e.body.length < json.length);
  });
  test('zstd uses level 1, not the library default of 3', async () => {
    // Varied enough that the levels give different frames. Output is deterministic per level, but
    // the streamed (async) and one-shot (sync) APIs frame differently, so compare like with like.
    const varied = JSON.stringify({
      batch: Array.from({ length: 2000 }, (_, i) => ({ i, s: `event ${(i * 7919) % 1000}`, t: new Date(1.7e12 + i * 1013).toISOString() })),
    });
    const zstdAsync = promisify(zstdCompress);
    const level = (n: number): Promise<Buffer> => zstdAsync(Buffer.from(varied), { params: { [constants.ZSTD_c_compressionLevel]: n } });
    const e = await encodeBody(Buffer.from(varied), 'zstd');
    assert.ok(!(await level(1)).equals(await level(3)));
    assert.ok(e.body.equals(await level(1)), `${e.body.length} bytes`);
    assert.equal(zstdDecompressSync(e.body).toString(), varied);
  });
  test('gzip round-trips', async () => {
    const e = await encodeBody(Buffer.from(json), 'gzip');
    assert.equal(e.encoding, 'gzip');
    assert.equal(gunzipSync(e.body).toString(), json);
  });
  test('deflate is zlib-wrapped (RFC 1950), not raw', async () => {
    const e = await encodeBody(Buffer.from(json), 'deflate');
    assert.equal(e.encoding, 'deflate');
    assert.equal(e.body[0], 0x78);
    assert.equal(inflateSync(e.body).toString(), json);
    assert.throws(() => inflateRawSync(e.body));
  });
  test('none sends plain JSON without an encoding, in memory of its own (the input buffer is reused)', async () => {
    const raw = Buffer.from(json);
    const e = await encodeBody(raw, 'none');
    assert.equal(e.encoding, undefined);
    raw.fill(0);
    assert.equal(e.body.toString(), json);
  });
  test('a compressor that fails: reported, and the body goes out uncompressed, in memory of its own', async () => {
    const raw = Buffer.from(json);
    const errors: unknown[] = [];
    const broken = new Error('compressor broke');
    const e = await encodeBody(raw, 'zstd', (error) => errors.push(error), { zstd: () => Promise.reject(broken) });
    assert.deepEqual(errors, [broken]);
    assert.equal(e.encoding, undefined);
    raw.fill(0);
    assert.equal(e.body.toString(), json);
  });
  test('zstd without a zstd compressor (Node before 22.15) sends gzip', async () => {
    const e = await encodeBody(Buffer.from(json), 'zstd', undefined, { gzip: (raw) => Promise.resolve(gzipSync(raw)) });
    assert.equal(e.encoding, 'gzip');
    assert.equal(gunzipSync(e.body).toString(), json);
  });
});

describe('response parsing', () => {
  test('results are read per uuid, lower-cased, odd entries skipped', () => {
    const parsed = parseSuccessBody(
      JSON.stringify({ results: { 'AA-1': { result: 'ok' }, b: { result: 'drop', details: 'x' }, c: 5, d: { result: 7 } } }),
    );
    assert.ok(parsed.ok);
    assert.deepEqual(
      [...parsed.results],
      [
        ['aa-1', { result: 'ok' }],
        ['b', { result: 'drop', details: 'x' }],
      ],
    );
  });
  test('malformed successes', () => {
    for (const body of ['', 'not json', '[]', 'null', '"ok"', '{}', '{"results":[]}', '{"results":null}', '<html>ok</html>']) {
      assert.equal(parseSuccessBody(body).ok, false, body);
    }
  });
  test('error bodies give a short printable message or nothing', () => {
    assert.equal(errorMessageFromBody('{"error":"rate_limited","error_description":"slow down"}'), 'slow down');
    assert.equal(errorMessageFromBody('{"error":"billing_limit_exceeded"}'), 'billing_limit_exceeded');
    assert.equal(errorMessageFromBody('<html>'), undefined);
    assert.equal(errorMessageFromBody('{"error":5}'), undefined);
    const long = errorMessageFromBody(JSON.stringify({ error: 'a\nb' + 'x'.repeat(5000) }))!;
    assert.ok(long.length <= 301 && !long.includes('\n'));
  });
});

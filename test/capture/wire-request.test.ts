// Unit tests of one capture request on the wire: its body around the events' JSON, and its headers.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { batchMembers, serializeEvent } from '../../src/capture/request-batches.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';
import { attemptHeaders, extraHeadersWithoutProtocolOnes, requestBody } from '../../src/capture/wire-request.ts';

function event(i: number, props: Record<string, unknown> = {}): CaptureEvent {
  return { event: `e${i}`, uuid: uuidv7(), distinct_id: 'd', timestamp: '2026-11-22T12:00:00.000Z', options: {}, properties: props };
}

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

// Unit tests of how serialised events are cut into requests, and which events cannot be serialised.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { serializeEvent, splitIntoRequests } from '../../src/capture/request-batches.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';

function event(i: number, props: Record<string, unknown> = {}): CaptureEvent {
  return { event: `e${i}`, uuid: uuidv7(), distinct_id: 'd', timestamp: '2026-11-22T12:00:00.000Z', options: {}, properties: props };
}

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

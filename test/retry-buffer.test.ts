// Unit tests of RetryBuffer: the count and byte bounds evict the oldest events and hand them back,
// the age bound expires events, takeDue respects notBefore, nextDueAt is the earliest notBefore.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryBuffer } from '../src/delivery/retry-buffer.ts';
import type { BufferedEvent, RetryBufferLimits } from '../src/delivery/retry-buffer.ts';

const T0 = 1_000_000;
const WIDE: RetryBufferLimits = { maxEvents: 1_000, maxBytes: 1_000_000, maxAgeMillis: 60_000 };

let sequence = 0;

/** A buffered event named `name`, with everything else defaulted. */
function item(name: string, fields: Partial<Omit<BufferedEvent, 'event'>> = {}): BufferedEvent {
  const n = sequence++;
  return {
    event: {
      event: name,
      uuid: `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
      distinct_id: 'd',
      timestamp: new Date(T0).toISOString(),
      options: {},
      properties: {},
    },
    attempts: 1,
    bytes: 10,
    bufferedAt: T0,
    notBefore: T0,
    ...fields,
  };
}

function eventNames(items: readonly BufferedEvent[]): string[] {
  return items.map((i) => i.event.event);
}

/** Everything the buffer holds, in order, without changing it for good. */
function contents(buffer: RetryBuffer): string[] {
  const all = buffer.takeDue(0, 'all');
  buffer.add(all);
  return eventNames(all);
}

describe('RetryBuffer bounds', () => {
  test('within the bounds nothing is evicted and size and bytes add up', () => {
    const buffer = new RetryBuffer(WIDE);
    assert.deepEqual(buffer.add([item('a', { bytes: 7 }), item('b', { bytes: 5 })]), []);
    assert.equal(buffer.size, 2);
    assert.equal(buffer.bytes, 12);
    assert.deepEqual(buffer.add([]), []);
    assert.equal(buffer.size, 2);
  });

  test('the count bound evicts the oldest events, oldest first, and returns them', () => {
    const buffer = new RetryBuffer({ ...WIDE, maxEvents: 3 });
    assert.deepEqual(eventNames(buffer.add([item('a'), item('b')])), []);
    assert.deepEqual(eventNames(buffer.add([item('c'), item('d'), item('e')])), ['a', 'b']);
    assert.equal(buffer.size, 3);
    assert.equal(buffer.bytes, 30);
    assert.deepEqual(contents(buffer), ['c', 'd', 'e']);
  });

  test('one add larger than the count bound keeps only the newest', () => {
    const buffer = new RetryBuffer({ ...WIDE, maxEvents: 2 });
    const evicted = buffer.add(['a', 'b', 'c', 'd', 'e'].map((n) => item(n)));
    assert.deepEqual(eventNames(evicted), ['a', 'b', 'c']);
    assert.deepEqual(contents(buffer), ['d', 'e']);
  });

  test('the byte bound evicts the oldest until the rest fits', () => {
    const buffer = new RetryBuffer({ ...WIDE, maxBytes: 100 });
    assert.deepEqual(buffer.add([item('a', { bytes: 40 }), item('b', { bytes: 40 })]), []);
    assert.equal(buffer.bytes, 80);
    assert.deepEqual(eventNames(buffer.add([item('c', { bytes: 30 })])), ['a']);
    assert.equal(buffer.bytes, 70);
    assert.equal(buffer.size, 2);
    // Exactly at the bound is within it.
    assert.deepEqual(buffer.add([item('d', { bytes: 30 })]), []);
    assert.equal(buffer.bytes, 100);
    assert.deepEqual(eventNames(buffer.add([item('e', { bytes: 1 })])), ['b']);
    assert.equal(buffer.bytes, 61);
    assert.deepEqual(contents(buffer), ['c', 'd', 'e']);
  });

  test('an event larger than the byte bound evicts everything, itself included', () => {
    const buffer = new RetryBuffer({ ...WIDE, maxBytes: 100 });
    buffer.add([item('a', { bytes: 50 })]);
    assert.deepEqual(eventNames(buffer.add([item('huge', { bytes: 101 })])), ['a', 'huge']);
    assert.equal(buffer.size, 0);
    assert.equal(buffer.bytes, 0);
    assert.equal(buffer.nextDueAt(), undefined);
  });

  test('both bounds at once: whichever is tighter decides', () => {
    const buffer = new RetryBuffer({ ...WIDE, maxEvents: 3, maxBytes: 50 });
    const evicted = buffer.add([item('a', { bytes: 20 }), item('b', { bytes: 20 }), item('c', { bytes: 20 }), item('d', { bytes: 5 })]);
    // 4 events and 65 bytes: dropping a satisfies both (3 events, 45 bytes).
    assert.deepEqual(eventNames(evicted), ['a']);
    assert.equal(buffer.bytes, 45);
    assert.deepEqual(eventNames(buffer.add([item('e', { bytes: 10 })])), ['b']);
    assert.equal(buffer.bytes, 35);
  });

  test('zero bounds hold nothing: every event added comes straight back', () => {
    for (const limits of [
      { ...WIDE, maxEvents: 0 },
      { ...WIDE, maxBytes: 0 },
    ]) {
      const buffer = new RetryBuffer(limits);
      assert.deepEqual(eventNames(buffer.add([item('a'), item('b')])), ['a', 'b']);
      assert.equal(buffer.size, 0);
      assert.equal(buffer.bytes, 0);
    }
  });

  test('eviction goes by age (bufferedAt), not by insertion: an old event resent and re-added still leaves first', () => {
    const buffer = new RetryBuffer({ ...WIDE, maxEvents: 3 });
    buffer.add([item('young', { bufferedAt: T0 - 1_000 }), item('mid', { bufferedAt: T0 - 2_000 })]);
    // A resent event comes back at the end of the buffer, with the bufferedAt of its first visit.
    assert.deepEqual(buffer.add([item('old', { bufferedAt: T0 - 3_000 })]), []);
    assert.deepEqual(eventNames(buffer.add([item('new', { bufferedAt: T0 })])), ['old']);
    assert.deepEqual(eventNames(buffer.add([item('newer', { bufferedAt: T0 + 1 })])), ['mid']);
    assert.equal(buffer.size, 3);
    assert.deepEqual(contents(buffer).sort(), ['new', 'newer', 'young']);
  });

  test('zero-byte events count against the count bound only', () => {
    const buffer = new RetryBuffer({ ...WIDE, maxEvents: 2, maxBytes: 0 });
    assert.deepEqual(buffer.add([item('a', { bytes: 0 }), item('b', { bytes: 0 })]), []);
    assert.deepEqual(eventNames(buffer.add([item('c', { bytes: 0 })])), ['a']);
  });
});

describe('RetryBuffer age expiry', () => {
  test('expire removes events buffered at or before now - maxAge, and returns them', () => {
    const buffer = new RetryBuffer({ ...WIDE, maxAgeMillis: 1_000 });
    buffer.add([
      item('old', { bufferedAt: T0 - 2_000, bytes: 3 }),
      item('edge', { bufferedAt: T0 - 1_000, bytes: 4 }),
      item('young', { bufferedAt: T0 - 999, bytes: 5 }),
      item('new', { bufferedAt: T0, bytes: 6 }),
    ]);
    assert.deepEqual(eventNames(buffer.expire(T0)), ['old', 'edge']);
    assert.equal(buffer.size, 2);
    assert.equal(buffer.bytes, 11);
    assert.deepEqual(buffer.expire(T0), []);
    assert.deepEqual(eventNames(buffer.expire(T0 + 1)), ['young']);
    assert.deepEqual(contents(buffer), ['new']);
  });

  test('age is counted from bufferedAt, not notBefore', () => {
    const buffer = new RetryBuffer({ ...WIDE, maxAgeMillis: 100 });
    buffer.add([item('a', { bufferedAt: T0, notBefore: T0 + 10_000 })]);
    assert.deepEqual(eventNames(buffer.expire(T0 + 100)), ['a']);
  });

  test('maxAge 0 expires everything buffered at or before now', () => {
    const buffer = new RetryBuffer({ ...WIDE, maxAgeMillis: 0 });
    buffer.add([item('a', { bufferedAt: T0 }), item('b', { bufferedAt: T0 + 1 })]);
    assert.deepEqual(eventNames(buffer.expire(T0)), ['a']);
    assert.equal(buffer.size, 1);
  });
});

describe('RetryBuffer takeDue and nextDueAt', () => {
  test('takeDue returns only events whose notBefore has come, in insertion order', () => {
    const buffer = new RetryBuffer(WIDE);
    buffer.add([
      item('later', { notBefore: T0 + 500, bytes: 1 }),
      item('due', { notBefore: T0 - 1, bytes: 2 }),
      item('now', { notBefore: T0, bytes: 4 }),
      item('much-later', { notBefore: T0 + 5_000, bytes: 8 }),
    ]);
    assert.deepEqual(eventNames(buffer.takeDue(T0)), ['due', 'now']);
    assert.equal(buffer.size, 2);
    assert.equal(buffer.bytes, 9);
    assert.deepEqual(buffer.takeDue(T0 + 499), []);
    assert.deepEqual(eventNames(buffer.takeDue(T0 + 500)), ['later']);
    assert.equal(buffer.bytes, 8);
  });

  test("takeDue(now, 'all') takes everything whatever notBefore and Retry-After say", () => {
    const buffer = new RetryBuffer(WIDE);
    buffer.add([item('a', { notBefore: T0 + 1_000_000 }), item('b', { notBefore: T0, retryAfterUntil: T0 + 1_000_000 })]);
    assert.deepEqual(eventNames(buffer.takeDue(0, 'all')), ['a', 'b']);
    assert.equal(buffer.size, 0);
    assert.equal(buffer.bytes, 0);
    assert.deepEqual(buffer.takeDue(0, 'all'), []);
  });

  test("'scheduled' is the default mode and follows notBefore only", () => {
    const buffer = new RetryBuffer(WIDE);
    buffer.add([item('backoff', { notBefore: T0 + 100 }), item('retry-after', { notBefore: T0 + 50, retryAfterUntil: T0 + 50 })]);
    assert.deepEqual(buffer.takeDue(T0), []);
    assert.deepEqual(buffer.takeDue(T0, 'scheduled'), []);
    assert.deepEqual(eventNames(buffer.takeDue(T0 + 50)), ['retry-after']);
    assert.deepEqual(eventNames(buffer.takeDue(T0 + 100, 'scheduled')), ['backoff']);
  });

  test("'flush' ignores our own backoff but respects the server's Retry-After", () => {
    const buffer = new RetryBuffer(WIDE);
    buffer.add([
      item('backoff-only', { notBefore: T0 + 10_000 }),
      item('retry-after', { notBefore: T0 + 10_000, retryAfterUntil: T0 + 500 }),
      item('retry-after-passed', { notBefore: T0 + 10_000, retryAfterUntil: T0 - 1 }),
    ]);
    assert.equal(buffer.nextDueAt('flush'), -Infinity, 'an event without Retry-After is due for a flush at once');
    assert.equal(buffer.nextDueAt('scheduled'), T0 + 10_000);
    assert.deepEqual(eventNames(buffer.takeDue(T0, 'flush')), ['backoff-only', 'retry-after-passed']);
    assert.equal(buffer.nextDueAt('flush'), T0 + 500);
    assert.deepEqual(buffer.takeDue(T0 + 499, 'flush'), []);
    assert.deepEqual(eventNames(buffer.takeDue(T0 + 500, 'flush')), ['retry-after']);
    assert.equal(buffer.nextDueAt('flush'), undefined);
  });

  test('nextDueAt is the earliest notBefore, and follows takes, expiry and eviction', () => {
    const buffer = new RetryBuffer({ ...WIDE, maxEvents: 3, maxAgeMillis: 1_000 });
    assert.equal(buffer.nextDueAt(), undefined);
    buffer.add([item('a', { notBefore: T0 + 300, bufferedAt: T0 - 5_000 }), item('b', { notBefore: T0 + 100, bufferedAt: T0 }), item('c', { notBefore: T0 + 200, bufferedAt: T0 })]);
    assert.equal(buffer.nextDueAt(), T0 + 100);
    assert.deepEqual(eventNames(buffer.takeDue(T0 + 150)), ['b']);
    assert.equal(buffer.nextDueAt(), T0 + 200);
    buffer.add([item('d', { notBefore: T0 + 50, bufferedAt: T0 })]);
    assert.equal(buffer.nextDueAt(), T0 + 50);
    // Over the count bound: a (notBefore T0+300, the oldest) goes.
    assert.deepEqual(eventNames(buffer.add([item('e', { notBefore: T0 + 400, bufferedAt: T0 })])), ['a']);
    assert.equal(buffer.nextDueAt(), T0 + 50);
    assert.deepEqual(eventNames(buffer.expire(T0 + 1_000)), ['c', 'd', 'e']);
    assert.equal(buffer.nextDueAt(), undefined);
  });

  test('limits are exposed as given', () => {
    const limits = { maxEvents: 1, maxBytes: 2, maxAgeMillis: 3 };
    assert.deepEqual(new RetryBuffer(limits).limits, limits);
  });
});

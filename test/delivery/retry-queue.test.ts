// Unit tests of RetryQueue, the retry buffer of pending requests: the count and byte bounds evict
// the oldest events (from the oldest request, which keeps the rest) and hand them back, the age
// bound expires whole requests, takeDue respects the backoff and Retry-After, nextDueAt is the
// earliest due time, takeNext takes the one request due first, and a recovery makes everything not
// held by Retry-After due at once.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SerializedEvent } from '../../src/capture/request-batches.ts';
import type { PendingRequest } from '../../src/delivery/pending-request.ts';
import { RetryQueue, type Eviction, type RetryQueueLimits } from '../../src/delivery/retry-queue.ts';

const T0 = 1_000_000;
const WIDE: RetryQueueLimits = { maxEvents: 1_000, maxBytes: 1_000_000, maxAgeMillis: 60_000 };

let sequence = 0;

function item(name: string, bytes = 10): SerializedEvent {
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
    bytes,
    attempts: 1,
  };
}

/** A request named `id` holding events named by `names` (`name:bytes` sets a size). */
function request(id: string, names: string[], fields: Partial<Omit<PendingRequest, 'events' | 'identity'>> = {}): PendingRequest {
  const events = names.map((spec) => {
    const [name, bytes] = spec.split(':');
    return item(name!, bytes === undefined ? 10 : Number(bytes));
  });
  return {
    identity: { requestId: id, createdAt: new Date(T0).toISOString() },
    attempt: 1,
    events,
    bytes: events.reduce((sum, e) => sum + e.bytes, 0),
    waitingSince: T0,
    notBefore: T0,
    ...fields,
  };
}

const ids = (requests: readonly PendingRequest[]): string[] => requests.map((r) => r.identity.requestId);
const evicted = (evictions: readonly Eviction[]): string[] => evictions.flatMap((e) => e.events.map((i) => i.event.event));
/** What the queue holds, as `id:event,event`, in order. */
const contents = (queue: RetryQueue): string[] =>
  queue.requests.map((r) => `${r.identity.requestId}:${r.events.map((i) => i.event.event).join(',')}`);

describe('RetryQueue bounds', () => {
  test('within the bounds nothing is evicted; events and bytes add up over requests', () => {
    const queue = new RetryQueue(WIDE);
    assert.deepEqual(queue.add(request('r1', ['a:7', 'b:5'])), []);
    assert.deepEqual(queue.add(request('r2', ['c:3'])), []);
    assert.equal(queue.size, 3);
    assert.equal(queue.bytes, 15);
    assert.deepEqual(contents(queue), ['r1:a,b', 'r2:c']);
  });

  test('the count bound evicts the oldest events from the front of the oldest request; the rest of it stays', () => {
    const queue = new RetryQueue({ ...WIDE, maxEvents: 3 });
    queue.add(request('r1', ['a', 'b'], { waitingSince: T0 }));
    const evictions = queue.add(request('r2', ['c', 'd'], { waitingSince: T0 + 1 }));
    assert.deepEqual(evicted(evictions), ['a']);
    assert.equal(evictions[0]!.request.identity.requestId, 'r1');
    assert.equal(evictions[0]!.request.bytes, 10, 'the shrunk request counts only what it holds');
    assert.deepEqual(contents(queue), ['r1:b', 'r2:c,d']);
    assert.equal(queue.size, 3);
    assert.equal(queue.bytes, 30);
  });

  test('a request larger than the count bound keeps only its newest events', () => {
    const queue = new RetryQueue({ ...WIDE, maxEvents: 2 });
    assert.deepEqual(evicted(queue.add(request('r1', ['a', 'b', 'c', 'd', 'e']))), ['a', 'b', 'c']);
    assert.deepEqual(contents(queue), ['r1:d,e']);
  });

  test('an emptied request leaves the queue; eviction goes on in the next oldest', () => {
    const queue = new RetryQueue({ ...WIDE, maxEvents: 3 });
    queue.add(request('old', ['a'], { waitingSince: T0 - 2 }));
    queue.add(request('mid', ['b', 'c'], { waitingSince: T0 - 1 }));
    const evictions = queue.add(request('new', ['d', 'e'], { waitingSince: T0 }));
    assert.deepEqual(
      evictions.map((e) => [e.request.identity.requestId, e.request.events.length]),
      [
        ['old', 0],
        ['mid', 1],
      ],
    );
    assert.deepEqual(evicted(evictions), ['a', 'b']);
    assert.deepEqual(contents(queue), ['mid:c', 'new:d,e']);
  });

  test('the byte bound evicts the oldest until the rest fits; exactly at the bound is within it', () => {
    const queue = new RetryQueue({ ...WIDE, maxBytes: 100 });
    assert.deepEqual(queue.add(request('r1', ['a:40', 'b:40'])), []);
    assert.deepEqual(evicted(queue.add(request('r2', ['c:30'], { waitingSince: T0 + 1 }))), ['a']);
    assert.equal(queue.bytes, 70);
    assert.deepEqual(queue.add(request('r3', ['d:30'], { waitingSince: T0 + 2 })), []);
    assert.equal(queue.bytes, 100);
  });

  test('zero bounds hold nothing: every event added comes straight back', () => {
    for (const limits of [
      { ...WIDE, maxEvents: 0 },
      { ...WIDE, maxBytes: 0 },
    ]) {
      const queue = new RetryQueue(limits);
      assert.deepEqual(evicted(queue.add(request('r', ['a', 'b']))), ['a', 'b']);
      assert.equal(queue.size, 0);
      assert.equal(queue.bytes, 0);
      assert.deepEqual(queue.requests, []);
    }
  });

  test('eviction goes by age (waitingSince), not by insertion: a resent request re-added still leaves first', () => {
    const queue = new RetryQueue({ ...WIDE, maxEvents: 3 });
    queue.add(request('young', ['y'], { waitingSince: T0 - 1_000 }));
    queue.add(request('mid', ['m'], { waitingSince: T0 - 2_000 }));
    // A resent request comes back at the end, with the waitingSince of its first visit.
    assert.deepEqual(queue.add(request('old', ['o'], { waitingSince: T0 - 3_000 })), []);
    assert.deepEqual(evicted(queue.add(request('new', ['n'], { waitingSince: T0 }))), ['o']);
    assert.deepEqual(evicted(queue.add(request('newer', ['w'], { waitingSince: T0 + 1 }))), ['m']);
    assert.deepEqual(ids(queue.requests).sort(), ['new', 'newer', 'young']);
  });
});

describe('RetryQueue age expiry', () => {
  test('expire removes whole requests waiting since now - maxAge or earlier, and returns them', () => {
    const queue = new RetryQueue({ ...WIDE, maxAgeMillis: 1_000 });
    queue.add(request('old', ['a', 'b'], { waitingSince: T0 - 2_000 }));
    queue.add(request('edge', ['c'], { waitingSince: T0 - 1_000 }));
    queue.add(request('young', ['d'], { waitingSince: T0 - 999 }));
    assert.deepEqual(ids(queue.expire(T0)), ['old', 'edge']);
    assert.equal(queue.size, 1);
    assert.equal(queue.bytes, 10);
    assert.deepEqual(queue.expire(T0), []);
    assert.deepEqual(ids(queue.expire(T0 + 1)), ['young']);
  });

  test('age is counted from waitingSince, not notBefore', () => {
    const queue = new RetryQueue({ ...WIDE, maxAgeMillis: 100 });
    queue.add(request('r', ['a'], { waitingSince: T0, notBefore: T0 + 10_000 }));
    assert.deepEqual(ids(queue.expire(T0 + 100)), ['r']);
  });
});

describe('RetryQueue takeDue, nextDueAt and recovery', () => {
  test("'scheduled' takes requests whose backoff has passed, in order", () => {
    const queue = new RetryQueue(WIDE);
    queue.add(request('later', ['a'], { notBefore: T0 + 500 }));
    queue.add(request('due', ['b'], { notBefore: T0 - 1 }));
    queue.add(request('now', ['c'], { notBefore: T0 }));
    assert.deepEqual(ids(queue.takeDue(T0, 'scheduled')), ['due', 'now']);
    assert.equal(queue.size, 1);
    assert.deepEqual(queue.takeDue(T0 + 499, 'scheduled'), []);
    assert.deepEqual(ids(queue.takeDue(T0 + 500, 'scheduled')), ['later']);
  });

  test("'flush' ignores our own backoff but respects the server's Retry-After", () => {
    const queue = new RetryQueue(WIDE);
    queue.add(request('backoff-only', ['a'], { notBefore: T0 + 10_000 }));
    queue.add(request('retry-after', ['b'], { notBefore: T0 + 10_000, retryAfterUntil: T0 + 500 }));
    queue.add(request('retry-after-passed', ['c'], { notBefore: T0 + 10_000, retryAfterUntil: T0 - 1 }));
    assert.equal(queue.nextDueAt('flush'), -Infinity, 'a request without Retry-After is due for a flush at once');
    assert.equal(queue.nextDueAt('scheduled'), T0 + 10_000);
    assert.deepEqual(ids(queue.takeDue(T0, 'flush')), ['backoff-only', 'retry-after-passed']);
    assert.equal(queue.nextDueAt('flush'), T0 + 500);
    assert.deepEqual(ids(queue.takeDue(T0 + 500, 'flush')), ['retry-after']);
    assert.equal(queue.nextDueAt('flush'), undefined);
  });

  test("'all' takes everything, except the requests named to skip", () => {
    const queue = new RetryQueue(WIDE);
    queue.add(request('a', ['a'], { notBefore: T0 + 1_000_000 }));
    queue.add(request('b', ['b'], { retryAfterUntil: T0 + 1_000_000 }));
    queue.add(request('c', ['c']));
    assert.deepEqual(ids(queue.takeDue(0, 'all', new Set(['b']))), ['a', 'c']);
    assert.deepEqual(ids(queue.takeDue(0, 'all')), ['b']);
    assert.equal(queue.size, 0);
    assert.equal(queue.bytes, 0);
  });

  test('after a recovery every request is due at once, except one held back by its own Retry-After', () => {
    const queue = new RetryQueue(WIDE);
    queue.add(request('backoff', ['a'], { notBefore: T0 + 30_000 }));
    queue.add(request('held', ['b'], { notBefore: T0 + 30_000, retryAfterUntil: T0 + 20_000 }));
    queue.recovered(T0);
    assert.deepEqual(ids(queue.takeDue(T0, 'scheduled')), ['backoff']);
    assert.equal(queue.nextDueAt('scheduled'), T0 + 30_000);
  });

  test('nextDueAt follows takes, expiry and eviction', () => {
    const queue = new RetryQueue({ ...WIDE, maxEvents: 3, maxAgeMillis: 1_000 });
    assert.equal(queue.nextDueAt(), undefined);
    queue.add(request('a', ['a'], { notBefore: T0 + 300, waitingSince: T0 - 5_000 }));
    queue.add(request('b', ['b'], { notBefore: T0 + 100 }));
    queue.add(request('c', ['c'], { notBefore: T0 + 200 }));
    assert.equal(queue.nextDueAt(), T0 + 100);
    queue.takeDue(T0 + 150, 'scheduled');
    assert.equal(queue.nextDueAt(), T0 + 200);
    queue.add(request('d', ['d'], { notBefore: T0 + 50 }));
    assert.deepEqual(evicted(queue.add(request('e', ['e'], { notBefore: T0 + 400 }))), ['a']);
    assert.equal(queue.nextDueAt(), T0 + 50);
    assert.deepEqual(ids(queue.expire(T0 + 1_000)), ['c', 'd', 'e']);
    assert.equal(queue.nextDueAt(), undefined);
  });

  test('takeNext takes one request only: the one due first by the mode, or for all the one waiting longest', () => {
    const queue = new RetryQueue(WIDE);
    queue.add(request('old', ['o'], { notBefore: T0 + 300, waitingSince: T0 - 5_000, retryAfterUntil: T0 + 200 }));
    queue.add(request('soon', ['s'], { notBefore: T0 + 100, waitingSince: T0 }));
    queue.add(request('later', ['l'], { notBefore: T0 + 200, waitingSince: T0 - 1_000 }));
    assert.equal(queue.takeNext(T0 + 50, 'scheduled'), undefined, 'nothing due yet');
    assert.equal(queue.takeNext(T0 + 250, 'scheduled')?.identity.requestId, 'soon');
    assert.equal(queue.size, 2);
    assert.equal(queue.takeNext(T0, 'flush')?.identity.requestId, 'later', "'flush' ignores the backoff, not a Retry-After");
    assert.equal(queue.takeNext(T0, 'flush'), undefined, 'the last one is held by its Retry-After');
    queue.add(request('new', ['n'], { notBefore: T0 + 100, waitingSince: T0 + 10 }));
    assert.equal(queue.takeNext(T0, 'all')?.identity.requestId, 'old');
    assert.deepEqual(ids(queue.takeDue(T0, 'all')), ['new']);
  });
});

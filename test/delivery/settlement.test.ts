// Unit tests of settle(): what a send's report means for its events.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeferredRequest, SendReport } from '../../src/capture/send-report.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { dropCounts, settle } from '../../src/delivery/settlement.ts';

function event(name: string): CaptureEvent {
  return {
    event: name,
    uuid: `00000000-0000-7000-8000-${name.padStart(12, '0')}`,
    distinct_id: 'd',
    timestamp: '2026-11-22T12:00:00.000Z',
    options: {},
    properties: {},
  };
}

function deferred(names: string[], reasonIfDropped: 'deadline' | 'shutdown', details?: string): DeferredRequest {
  return {
    identity: { requestId: `req-${names.join('')}`, createdAt: '2026-11-22T12:00:00.000Z' },
    attempt: 2,
    events: names.map((name) => ({ event: event(name), bytes: 10, attempts: 2 })),
    reasonIfDropped,
    notBefore: 0,
    ...(details ? { details } : {}),
  };
}

const report: SendReport = {
  delivered: 4,
  rejected: [
    { event: event('1'), reason: 'server_drop', details: 'event_too_big', attempts: 1 },
    { event: event('2'), reason: 'retry_exhausted', details: 'HTTP 503', attempts: 4 },
    { event: event('3'), reason: 'server_drop', details: 'other', attempts: 1 },
  ],
  deferred: [deferred(['4', '5'], 'deadline', 'HTTP 500'), deferred(['6'], 'shutdown')],
  requests: 3,
  retries: 1,
};

describe('settle', () => {
  test('with a buffer: rejected events are drops grouped by reason (details of the first), deferred requests are kept whole', () => {
    const settlement = settle(report, true);
    assert.equal(settlement.delivered, 4);
    assert.deepEqual(
      settlement.drops.map((g) => [g.reason, g.details, g.events.map((e) => e.event)]),
      [
        ['server_drop', 'event_too_big', ['1', '3']],
        ['retry_exhausted', 'HTTP 503', ['2']],
      ],
    );
    assert.deepEqual(settlement.kept, report.deferred);
    assert.deepEqual(
      [...dropCounts(settlement)],
      [
        ['server_drop', 2],
        ['retry_exhausted', 1],
      ],
    );
  });

  test('without one: a deferred request is dropped as what stopped it, deadline or shutdown', () => {
    const settlement = settle(report, false);
    assert.deepEqual(settlement.kept, []);
    assert.deepEqual(
      settlement.drops.map((g) => [g.reason, g.details, g.events.length]),
      [
        ['server_drop', 'event_too_big', 2],
        ['retry_exhausted', 'HTTP 503', 1],
        ['deadline', 'HTTP 500', 2],
        ['shutdown', undefined, 1],
      ],
    );
  });

  test('every event lands in exactly one place', () => {
    for (const canKeep of [true, false]) {
      const s = settle(report, canKeep);
      const placed = s.delivered + s.drops.reduce((n, g) => n + g.events.length, 0) + s.kept.reduce((n, d) => n + d.events.length, 0);
      assert.equal(placed, 4 + 3 + 3);
    }
  });
});

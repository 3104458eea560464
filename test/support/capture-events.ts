// Capture events made up for tests of the capture client and the delivery stage, each with a
// fresh UUIDv7.

import type { CaptureEvent } from '../../src/capture/types.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';
import { T0 } from './clocks.ts';

let sequence = 0;

/** A `span_ended` event with nested properties; `overrides` replace its fields. */
export function makeEvent(overrides: Partial<CaptureEvent> = {}): CaptureEvent {
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

export function makeEvents(count: number, overrides: Partial<CaptureEvent> = {}): CaptureEvent[] {
  return Array.from({ length: count }, () => makeEvent(overrides));
}

/** `count` small events named `${prefix}-${n}`, `n` counting across the whole test file. */
export function namedEvents(count: number, prefix = 'e'): CaptureEvent[] {
  return Array.from({ length: count }, () => {
    const n = sequence++;
    return {
      event: `${prefix}-${n}`,
      uuid: uuidv7(),
      distinct_id: 'u',
      timestamp: '2026-11-22T12:00:00.000Z',
      options: {},
      properties: { n },
    };
  });
}

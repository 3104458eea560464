import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoTimestamp } from '../src/mapping/record-to-event.ts';

test('isoTimestamp matches Date#toISOString, fractional milliseconds and second boundaries included', () => {
  const cases = [1, 999, 1000, 1000.999, 86_399_999.5, Date.UTC(2026, 10, 22, 23, 59, 59, 999), Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
  // Consecutive values in one second exercise the reused prefix; random ones the recomputation.
  for (let i = 0; i < 2000; i++) cases.push(Date.UTC(2026, 0, 1) + i * 7.3);
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 48271) % 2147483647;
    cases.push((seed / 2147483647) * 2.5e12);
  }
  for (const ms of cases) assert.equal(isoTimestamp(ms), new Date(ms).toISOString(), String(ms));
});

// Unit tests of ProbeSchedule, the pace of an outage: each failure pushes the next probe out by one
// more step of the backoff (initial delay doubling, capped), a Retry-After is a floor, and the end of
// an outage starts the next one from the first delay again.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeSchedule } from '../../src/delivery/probe-schedule.ts';

const T0 = 1_000_000;
const BACKOFF = { initialDelayMillis: 500, maxDelayMillis: 30_000 };

describe('ProbeSchedule', () => {
  test('before any failure a probe may go at once', () => {
    const probes = new ProbeSchedule(BACKOFF, () => 0);
    assert.equal(probes.failures, 0);
    assert.ok(probes.nextAt <= T0);
  });

  test('each failure doubles the wait before the next probe, up to the cap', () => {
    const probes = new ProbeSchedule(BACKOFF, () => 0);
    const waits: number[] = [];
    let now = T0;
    for (let i = 0; i < 10; i++) {
      probes.failed(now, undefined);
      waits.push(probes.nextAt - now);
      now = probes.nextAt;
    }
    assert.deepEqual(waits, [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
    assert.equal(probes.failures, 10);
  });

  test('jitter only lengthens a wait, by up to a quarter, and never past the cap', () => {
    const probes = new ProbeSchedule(BACKOFF, () => 1);
    probes.failed(T0, undefined);
    assert.equal(probes.nextAt - T0, 625);
    for (let i = 0; i < 8; i++) probes.failed(T0, undefined);
    assert.equal(probes.nextAt - T0, 30_000);
  });

  test('a Retry-After is a floor: a later one holds the probe back, an earlier one changes nothing', () => {
    const probes = new ProbeSchedule(BACKOFF, () => 0);
    probes.failed(T0, T0 + 20_000);
    assert.equal(probes.nextAt, T0 + 20_000);
    probes.failed(T0, T0 + 100);
    assert.equal(probes.nextAt, T0 + 1_000);
  });

  test('after a reset the next outage starts from the first delay', () => {
    const probes = new ProbeSchedule(BACKOFF, () => 0);
    for (let i = 0; i < 5; i++) probes.failed(T0, undefined);
    probes.reset();
    assert.equal(probes.failures, 0);
    assert.ok(probes.nextAt <= T0);
    probes.failed(T0, undefined);
    assert.equal(probes.nextAt, T0 + 500);
  });
});

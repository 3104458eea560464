// OutageWarnings: one warning when an outage begins, naming the host and the cause; then at most one
// a minute while failures go on, with what is held and dropped; one on recovery, with what was held
// and for how long. Time comes from the health changes themselves.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthChange } from '../../src/delivery/health.ts';
import { OutageWarnings } from '../../src/diagnostics/outage-warnings.ts';

const T0 = 1_000_000;

function setup(holds = true): { warnings: string[]; outage: OutageWarnings; counts: { held: number; dropped: number } } {
  const warnings: string[] = [];
  const counts = { held: 0, dropped: 7 };
  const outage = new OutageWarnings({
    origin: 'https://eu.i.posthog.com',
    holds,
    held: () => counts.held,
    dropped: () => counts.dropped,
    warn: (message) => warnings.push(message),
  });
  return { warnings, outage, counts };
}

const refused = { kind: 'refused', code: 'ECONNREFUSED' } as const;

test('the first failure warns at once, naming the host and the cause', () => {
  const { warnings, outage } = setup();
  outage.observe({ kind: 'outage', cause: refused, at: T0 });
  assert.deepEqual(warnings, [
    "cannot deliver to PostHog at https://eu.i.posthog.com: connection refused (ECONNREFUSED). Events wait for retry and go out once it answers; getStats().status is 'outage'. Reported again at most once a minute while this lasts.",
  ]);
});

test('without a retry buffer, the warning says the events are dropped once their attempts run out', () => {
  const { warnings, outage } = setup(false);
  outage.observe({ kind: 'outage', cause: { kind: 'dns', code: 'ENOTFOUND' }, at: T0 });
  assert.match(
    warnings[0]!,
    /^cannot deliver to PostHog at https:\/\/eu\.i\.posthog\.com: host name not found \(DNS ENOTFOUND\)\. Events are dropped once their attempts run out \(the retry buffer is off\)/,
  );
});

test('further failures warn at most once a minute, with what is held and what was dropped since the outage began', () => {
  const { warnings, outage, counts } = setup();
  outage.observe({ kind: 'outage', cause: { kind: 'status', status: 503 }, at: T0 });
  const failing = (at: number): HealthChange => ({ kind: 'still-failing', cause: { kind: 'status', status: 503 }, at, since: T0 });
  for (const at of [500, 1_500, 30_000, 59_999]) outage.observe(failing(T0 + at));
  assert.equal(warnings.length, 1, 'nothing within a minute of the first warning');
  counts.held = 1_200;
  counts.dropped = 7 + 30;
  outage.observe(failing(T0 + 60_000));
  assert.equal(
    warnings[1],
    'PostHog at https://eu.i.posthog.com still fails after 1 min 0 s: HTTP 503; 1200 event(s) held for retry; 30 event(s) dropped since it began (getStats().dropped says why).',
  );
  outage.observe(failing(T0 + 90_000));
  outage.observe(failing(T0 + 119_000));
  assert.equal(warnings.length, 2);
  outage.observe(failing(T0 + 120_000));
  assert.equal(warnings.length, 3);
  assert.match(warnings[2]!, /still fails after 2 min 0 s/);
});

test('recovery warns once, with how much was held, what still waits, and for how long', () => {
  const { warnings, outage, counts } = setup();
  outage.observe({ kind: 'outage', cause: refused, at: T0 });
  counts.held = 5_000;
  outage.observe({ kind: 'still-failing', cause: refused, at: T0 + 30_000, since: T0 });
  counts.held = 4_990;
  outage.observe({ kind: 'recovered', at: T0 + 200_000, since: T0 });
  assert.equal(
    warnings[1],
    'PostHog at https://eu.i.posthog.com takes events again, after 3 min 20 s of failures; up to 5000 event(s) were held, the 4990 still waiting are being sent now.',
  );
});

test('a recovery after drops says how many; the next outage is reported at once again', () => {
  const { warnings, outage, counts } = setup();
  outage.observe({ kind: 'outage', cause: refused, at: T0 });
  counts.dropped += 12;
  outage.observe({ kind: 'recovered', at: T0 + 5_000, since: T0 });
  assert.equal(
    warnings[1],
    'PostHog at https://eu.i.posthog.com takes events again, after 5 s of failures; 12 event(s) dropped since it began (getStats().dropped says why).',
  );
  outage.observe({ kind: 'outage', cause: { kind: 'timeout' }, at: T0 + 6_000 });
  assert.equal(warnings.length, 3);
  assert.match(warnings[2]!, /no answer in time \(timeout\)/);
});

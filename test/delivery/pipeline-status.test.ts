// pipelineStatus: the state getStats() reports, from the configuration and the delivery's health.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryHealth } from '../../src/delivery/health.ts';
import { pipelineStatus } from '../../src/delivery/pipeline-status.ts';

const T0 = 1_000_000;

test('sending and healthy: ok, with no reason or outage', () => {
  assert.deepEqual(pipelineStatus({ enabled: true, dryRun: false, health: new DeliveryHealth() }), { status: 'ok' });
});

test('disabled, with its reason; a dry run is a dry run, with a key or without', () => {
  assert.deepEqual(pipelineStatus({ enabled: false, dryRun: false, disabledReason: 'no PostHog API key' }), {
    status: 'disabled',
    disabledReason: 'no PostHog API key',
  });
  assert.deepEqual(pipelineStatus({ enabled: true, dryRun: true }), { status: 'dry-run' });
  assert.deepEqual(pipelineStatus({ enabled: false, dryRun: true, disabledReason: 'no PostHog API key' }), { status: 'dry-run' });
});

test('an outage, with since when and the last failure; over once PostHog takes events again', () => {
  const health = new DeliveryHealth();
  health.failed({ kind: 'refused', code: 'ECONNREFUSED' }, T0);
  assert.deepEqual(pipelineStatus({ enabled: true, dryRun: false, health }), {
    status: 'outage',
    outage: { since: T0, cause: { kind: 'refused', code: 'ECONNREFUSED' } },
  });
  health.failed({ kind: 'status', status: 503 }, T0 + 5_000);
  assert.deepEqual(pipelineStatus({ enabled: true, dryRun: false, health }), {
    status: 'outage',
    outage: { since: T0, cause: { kind: 'status', status: 503 } },
  });
  health.delivered(T0 + 9_000);
  assert.deepEqual(pipelineStatus({ enabled: true, dryRun: false, health }), { status: 'ok' });
});

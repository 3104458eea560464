// getStats().status of a processor as configured: disabled (with the reason, no key in it), dry run,
// and ok; an outage's status is checked where outages are (log-record-exporter.outage, e2e/outage).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostHogLogRecordProcessor } from '../src/log-record-processor.ts';

const quiet = { print: (): void => undefined };

test('no API key: disabled, and the reason says what to set', async () => {
  const processor = new PostHogLogRecordProcessor({ flushOnExit: false }, { env: {}, ...quiet });
  const stats = processor.getStats();
  assert.equal(stats.status, 'disabled');
  assert.match(stats.disabledReason ?? '', /no PostHog API key: set POSTHOG_API_KEY/);
  assert.equal(stats.outage, undefined);
  await processor.shutdown();
});

test('a personal API key: disabled, and the reason never shows the key', async () => {
  const key = 'phx_Zr8sQq3personalKeyValue';
  const processor = new PostHogLogRecordProcessor({ flushOnExit: false }, { env: { POSTHOG_API_KEY: key }, ...quiet });
  const stats = processor.getStats();
  assert.equal(stats.status, 'disabled');
  assert.match(stats.disabledReason ?? '', /personal API key/);
  assert.ok(!JSON.stringify(stats).includes('Zr8sQq3'));
  await processor.shutdown();
});

test('a dry run, with or without a key: dry-run', async () => {
  for (const env of [{ POSTHOG_OTEL_DRY_RUN: 'yes' }, { POSTHOG_OTEL_DRY_RUN: '1', POSTHOG_API_KEY: 'phc_dry_run_key' }]) {
    const processor = new PostHogLogRecordProcessor({ flushOnExit: false }, { env, ...quiet });
    assert.deepEqual(
      { status: processor.getStats().status, reason: processor.getStats().disabledReason },
      { status: 'dry-run', reason: undefined },
    );
    await processor.shutdown();
  }
});

test('configured to send, nothing sent yet: ok', async () => {
  const processor = new PostHogLogRecordProcessor(
    { flushOnExit: false },
    { env: { POSTHOG_API_KEY: 'phc_status_key', POSTHOG_HOST: 'http://127.0.0.1:9' }, ...quiet },
  );
  const stats = processor.getStats();
  assert.equal(stats.status, 'ok');
  assert.equal('disabledReason' in stats || 'outage' in stats, false, 'no empty fields');
  assert.equal(processor.exporter.getStats().status, 'ok');
  await processor.shutdown();
});

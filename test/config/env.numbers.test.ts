// Numbers from the environment: the spellings taken, the values refused with one warning each and
// the default kept, and timer values past what a timer can hold.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { optionsFromEnvironment } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { resolvedOption } from '../support/resolved-option.ts';
import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';
import { resolveWithKey } from '../support/config-env.ts';

/** A project key, so only the option under test can disable. */
const key = { POSTHOG_API_KEY: 'phc_x' };

describe('numbers from the environment', () => {
  const positive: [string, keyof PostHogLogRecordProcessorOptions, number][] = [
    ['POSTHOG_OTEL_TIMEOUT', 'timeoutMillis', 10_000],
    ['POSTHOG_OTEL_MAX_ATTEMPTS', 'maxAttempts', 25],
    ['OTEL_BLRP_SCHEDULE_DELAY', 'scheduledDelayMillis', 1_000],
    ['OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 'maxExportBatchSize', 512],
    ['OTEL_BLRP_MAX_QUEUE_SIZE', 'maxQueueSize', 2_048],
    ['OTEL_BLRP_EXPORT_TIMEOUT', 'exportTimeoutMillis', 30_000],
  ];
  const delays: [string, keyof PostHogLogRecordProcessorOptions, number][] = [
    ['POSTHOG_OTEL_RETRY_INITIAL_DELAY', 'retryInitialDelayMillis', 500],
    ['POSTHOG_OTEL_RETRY_MAX_DELAY', 'retryMaxDelayMillis', 30_000],
  ];

  const expectAccepted = (name: string, key: keyof PostHogLogRecordProcessorOptions, raw: string, expected: number): void => {
    const parsed = optionsFromEnvironment({ [name]: raw });
    assert.deepEqual(parsed, { options: { [key]: expected }, warnings: [] });
    const r = resolveWithKey({ [name]: raw });
    assert.equal(resolvedOption(r.config, key), expected);
    assert.deepEqual(r.warnings, []);
  };
  const expectRejected = (name: string, key: keyof PostHogLogRecordProcessorOptions, raw: string, fallback: number): void => {
    const parsed = optionsFromEnvironment({ [name]: raw });
    assert.deepEqual(parsed.options, {});
    assert.equal(parsed.warnings.length, 1, parsed.warnings.join('\n'));
    const r = resolveWithKey({ [name]: raw });
    assert.equal(resolvedOption(r.config, key), fallback);
    assert.equal(r.config.enabled, true);
    assert.deepEqual(r.errors, []);
    assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
    assert.ok(r.warnings[0]?.includes(name), r.warnings[0]);
  };

  for (const [name, key, fallback] of positive) {
    for (const [raw, expected] of [
      ['1', 1],
      ['250', 250],
      [' 7000 ', 7000],
    ] as const) {
      test(`${name}=${JSON.stringify(raw)} → ${key} ${expected}`, () => expectAccepted(name, key, raw, expected));
    }
    for (const raw of ['0', '-1', '-250', '1.5', 'abc', 'Infinity', '-Infinity', 'NaN', '10ms', '1,000']) {
      test(`${name}=${JSON.stringify(raw)} warns once and keeps ${fallback}`, () => expectRejected(name, key, raw, fallback));
    }
  }
  for (const [name, key, fallback] of delays) {
    for (const [raw, expected] of [
      ['0', 0],
      ['1', 1],
      [' 2500 ', 2500],
    ] as const) {
      test(`${name}=${JSON.stringify(raw)} → ${key} ${expected}`, () => expectAccepted(name, key, raw, expected));
    }
    for (const raw of ['-1', '1.5', 'abc', 'Infinity', 'NaN', '5s']) {
      test(`${name}=${JSON.stringify(raw)} warns once and keeps ${fallback}`, () => expectRejected(name, key, raw, fallback));
    }
  }

  test('timer values beyond 2^31-1 ms are refused from env and code', () => {
    const env = optionsFromEnvironment({ OTEL_BLRP_EXPORT_TIMEOUT: '3000000000', POSTHOG_OTEL_RETRY_MAX_DELAY: '9999999999999' });
    assert.equal(env.options.exportTimeoutMillis, undefined);
    assert.equal(env.options.retryMaxDelayMillis, undefined);
    assert.equal(env.warnings.length, 2);
    const r = resolveConfig({ timeoutMillis: 3e9 }, key);
    assert.equal(r.config.delivery.sendTimeoutMillis, 10_000);
    assert.equal(r.warnings.length, 1);
  });
});

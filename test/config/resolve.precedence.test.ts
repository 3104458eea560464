// How each option is resolved: the documented defaults, numbers from code, and code over environment
// over defaults, option by option.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { optionsFromEnvironment } from '../../src/config/env.ts';
import { resolveConfig, type Resolution } from '../../src/config/resolve.ts';
import { resolvedOption } from '../support/resolved-option.ts';
import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';
import { resolveWithKey } from '../support/config-env.ts';

/** A project key, so only the option under test can disable. */
const key = { POSTHOG_API_KEY: 'phc_x' };

describe('defaults', () => {
  test('a project key alone gives the documented defaults', () => {
    const r = resolveConfig({}, { POSTHOG_API_KEY: 'phc_x' });
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config, {
      enabled: true,
      apiKeySource: 'POSTHOG_API_KEY',
      client: {
        host: 'https://us.i.posthog.com',
        apiKey: 'phc_x',
        compression: 'zstd',
        headers: {},
        historicalMigration: false,
        maxAttempts: 25,
        retryInitialDelayMillis: 500,
        retryMaxDelayMillis: 30_000,
        requestTimeoutMillis: 10_000,
        connectTimeoutMillis: 5_000,
        maxEventsPerRequest: 1000,
        maxRequestBytes: 5 * 1024 * 1024,
        maxEventBytes: 900 * 1024,
        maxConcurrentRequests: 4,
        maxResponseBytes: 1024 * 1024,
        dispatcher: undefined,
      },
      delivery: {
        sendTimeoutMillis: 10_000,
        flushTimeoutMillis: 10_000,
        retryBuffer: { maxEvents: 10_000, maxBytes: 32 * 1024 * 1024, maxAgeMillis: 600_000 },
      },
      spool: undefined,
      batch: { maxExportBatchSize: 512, scheduledDelayMillis: 1_000, maxQueueSize: 2_048, exportTimeoutMillis: 30_000, flushOnExit: true },
      selection: { logRecords: 'events', minSeverity: 0 },
      mapping: { disableGeoip: true, resourceAttributes: 'default', logEventName: 'log', deterministicUuids: false },
      hooks: { beforeSend: undefined, onDrop: undefined },
      diagnostics: { debug: false, dryRun: false },
    });
  });

  test('delivery options come from the environment', () => {
    const r = resolveConfig(
      {},
      {
        POSTHOG_API_KEY: 'phc_x',
        POSTHOG_OTEL_FLUSH_TIMEOUT: '2500',
        POSTHOG_OTEL_RETRY_BUFFER_MAX_EVENTS: '50',
        POSTHOG_OTEL_RETRY_BUFFER_MAX_BYTES: '4096',
        POSTHOG_OTEL_RETRY_BUFFER_MAX_AGE: '1000',
        POSTHOG_OTEL_SPOOL_DIR: ' /var/spool/ph ',
        POSTHOG_OTEL_SPOOL_MAX_BYTES: '1048576',
        POSTHOG_OTEL_DETERMINISTIC_UUIDS: 'true',
        POSTHOG_OTEL_DRY_RUN: 'TRUE',
      },
    );
    assert.deepEqual(r.warnings, []);
    const { delivery, spool, mapping, diagnostics } = r.config;
    assert.deepEqual(
      { delivery, spool, deterministicUuids: mapping.deterministicUuids, dryRun: diagnostics.dryRun },
      {
        delivery: {
          sendTimeoutMillis: 10_000,
          flushTimeoutMillis: 2500,
          retryBuffer: { maxEvents: 50, maxBytes: 4096, maxAgeMillis: 1000 },
        },
        spool: { dir: '/var/spool/ph', maxBytes: 1048576 },
        deterministicUuids: true,
        dryRun: true,
      },
    );
  });

  test('an empty environment reads no options and warns nothing', () => {
    assert.deepEqual(optionsFromEnvironment({}), { options: {}, warnings: [] });
  });
});

describe('numbers from code', () => {
  const keys: [keyof PostHogLogRecordProcessorOptions, number][] = [
    ['timeoutMillis', 10_000],
    ['maxAttempts', 25],
    ['retryInitialDelayMillis', 500],
    ['retryMaxDelayMillis', 30_000],
    ['maxExportBatchSize', 512],
    ['scheduledDelayMillis', 1_000],
    ['maxQueueSize', 2_048],
    ['exportTimeoutMillis', 30_000],
    ['minSeverity', 0],
  ];
  const bad: [string, unknown][] = [
    ['NaN', Number.NaN],
    ['-1', -1],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['the string "100"', '100'],
    ['the string "abc"', 'abc'],
    ['null', null],
    ['true', true],
    ['an object', { n: 1 }],
  ];
  for (const [key, fallback] of keys) {
    for (const [label, value] of bad) {
      test(`${key}: ${label} warns once, does not throw, and keeps ${fallback}`, () => {
        const code = { [key]: value } as PostHogLogRecordProcessorOptions;
        const r = resolveWithKey({}, code);
        assert.equal(resolvedOption(r.config, key), fallback);
        assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
        assert.ok(r.warnings[0]?.includes(key), r.warnings[0]);
        assert.deepEqual(r.errors, []);
        assert.equal(r.config.enabled, true);
      });
    }
  }

  test('zero is rejected where a positive number is required', () => {
    for (const key of ['timeoutMillis', 'maxAttempts', 'maxExportBatchSize', 'maxQueueSize', 'exportTimeoutMillis'] as const) {
      const r = resolveWithKey({}, { [key]: 0 });
      assert.equal(r.warnings.length, 1, `${key}: ${r.warnings.join('\n')}`);
      assert.ok(r.warnings[0]?.includes(key));
    }
  });

  test('zero retry delays are accepted', () => {
    const r = resolveWithKey({}, { retryInitialDelayMillis: 0, retryMaxDelayMillis: 0 });
    assert.equal(r.config.client.retryInitialDelayMillis, 0);
    assert.equal(r.config.client.retryMaxDelayMillis, 0);
    assert.deepEqual(r.warnings, []);
  });
});

describe('precedence: code > environment > defaults, per option', () => {
  type Case = [keyof PostHogLogRecordProcessorOptions, string, string, unknown, unknown, unknown];
  // option, env name, env value, value from env, code value, default
  const cases: Case[] = [
    ['timeoutMillis', 'POSTHOG_OTEL_TIMEOUT', '2000', 2000, 3000, 10_000],
    ['maxAttempts', 'POSTHOG_OTEL_MAX_ATTEMPTS', '2', 2, 7, 25],
    ['retryInitialDelayMillis', 'POSTHOG_OTEL_RETRY_INITIAL_DELAY', '700', 700, 0, 500],
    ['retryMaxDelayMillis', 'POSTHOG_OTEL_RETRY_MAX_DELAY', '0', 0, 9000, 30_000],
    ['compression', 'POSTHOG_CAPTURE_COMPRESSION', 'deflate', 'deflate', 'none', 'zstd'],
    ['compression', 'POSTHOG_CAPTURE_COMPRESSION', 'gzip', 'gzip', 'zstd', 'zstd'],
    ['disableGeoip', 'POSTHOG_DISABLE_GEOIP', 'true', true, false, true],
    ['historicalMigration', 'POSTHOG_HISTORICAL_MIGRATION', 'true', true, false, false],
    ['debug', 'POSTHOG_OTEL_DEBUG', 'false', false, true, false],
    ['logRecords', 'POSTHOG_OTEL_LOG_RECORDS', 'all', 'all', 'events', 'events'],
    ['minSeverity', 'POSTHOG_OTEL_MIN_SEVERITY', 'WARN', 13, 9, 0],
    ['resourceAttributes', 'POSTHOG_OTEL_RESOURCE_ATTRIBUTES', 'all', 'all', ['a'], 'default'],
    ['host', 'POSTHOG_HOST', 'eu.posthog.com', 'https://eu.i.posthog.com', 'https://example.com/ingest', 'https://us.i.posthog.com'],
    ['scheduledDelayMillis', 'OTEL_BLRP_SCHEDULE_DELAY', '200', 200, 50, 1_000],
    ['maxExportBatchSize', 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', '100', 100, 64, 512],
    ['maxQueueSize', 'OTEL_BLRP_MAX_QUEUE_SIZE', '4096', 4096, 128, 2_048],
    ['exportTimeoutMillis', 'OTEL_BLRP_EXPORT_TIMEOUT', '5000', 5000, 1000, 30_000],
  ];
  for (const [key, name, raw, fromEnv, fromCode, fallback] of cases) {
    test(`${key}: code ${JSON.stringify(fromCode)} > ${name}=${raw} > default ${JSON.stringify(fallback)}`, () => {
      const read = (r: Resolution): unknown => resolvedOption(r.config, key);
      const both = resolveWithKey({ [name]: raw }, { [key]: fromCode });
      assert.deepEqual(read(both), fromCode);
      assert.deepEqual(both.warnings, []);
      assert.deepEqual(read(resolveWithKey({ [name]: raw })), fromEnv);
      assert.deepEqual(read(resolveWithKey({})), fallback);
    });
  }

  test('each option is resolved on its own: code for some, env for others, defaults for the rest', () => {
    const r = resolveWithKey(
      { POSTHOG_OTEL_TIMEOUT: '2000', POSTHOG_OTEL_MAX_ATTEMPTS: '2', POSTHOG_DISABLE_GEOIP: 'false', OTEL_BLRP_MAX_QUEUE_SIZE: '4096' },
      { timeoutMillis: 3000, historicalMigration: true, maxExportBatchSize: 100 },
    );
    assert.equal(r.config.delivery.sendTimeoutMillis, 3000);
    assert.equal(r.config.client.maxAttempts, 2);
    assert.equal(r.config.mapping.disableGeoip, false);
    assert.equal(r.config.client.historicalMigration, true);
    assert.equal(r.config.batch.maxExportBatchSize, 100);
    assert.equal(r.config.batch.maxQueueSize, 4096);
    assert.equal(r.config.batch.scheduledDelayMillis, 1_000);
    assert.equal(r.config.client.compression, 'zstd');
    assert.deepEqual(r.warnings, []);
  });

  test('code-only options: logEventName, beforeSend, onDrop', () => {
    const beforeSend = (e: Parameters<NonNullable<PostHogLogRecordProcessorOptions['beforeSend']>>[0]) => e;
    const onDrop = (): void => {};
    const r = resolveWithKey({}, { logEventName: 'app_log', beforeSend, onDrop });
    assert.equal(r.config.mapping.logEventName, 'app_log');
    assert.equal(r.config.hooks.beforeSend, beforeSend);
    assert.equal(r.config.hooks.onDrop, onDrop);
    assert.equal(resolveWithKey({}, { logEventName: '  ' }).config.mapping.logEventName, 'log');
  });

  test('an empty string in code does not hide the environment', () => {
    const r = resolveConfig({ host: '', apiKey: '' }, { ...key, POSTHOG_HOST: 'eu.i.posthog.com' });
    assert.equal(r.config.enabled, true);
    assert.equal(r.config.client.host, 'https://eu.i.posthog.com');
    assert.equal(r.config.client.apiKey, 'phc_x');
  });
});

// Yes/no flags and enumerated options, from the environment and from code: the spellings taken,
// a warning and the default for anything else, and dry run kept on when its value is unreadable.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { optionsFromEnvironment } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { resolvedOption } from '../support/resolved-option.ts';
import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';
import { resolveWithKey } from '../support/config-env.ts';

/** A project key, so only the option under test can disable. */
const key = { POSTHOG_API_KEY: 'phc_x' };

describe('booleans', () => {
  const flags: [string, 'disableGeoip' | 'historicalMigration' | 'debug' | 'deterministicUuids' | 'flushOnExit', boolean][] = [
    ['POSTHOG_DISABLE_GEOIP', 'disableGeoip', true],
    ['POSTHOG_HISTORICAL_MIGRATION', 'historicalMigration', false],
    ['POSTHOG_OTEL_DEBUG', 'debug', false],
    ['POSTHOG_OTEL_DETERMINISTIC_UUIDS', 'deterministicUuids', false],
    ['POSTHOG_OTEL_FLUSH_ON_EXIT', 'flushOnExit', true],
  ];
  const spellings = [
    ['true', true],
    ['TRUE', true],
    [' True ', true],
    ['1', true],
    ['yes', true],
    ['Yes', true],
    ['on', true],
    ['ON', true],
    ['false', false],
    ['fAlSe', false],
    ['0', false],
    ['no', false],
    ['NO', false],
    ['off', false],
    ['Off', false],
  ] as const;
  for (const [name, key, fallback] of flags) {
    test(`${name} takes true/false, 1/0, yes/no, on/off in any case`, () => {
      for (const [raw, expected] of spellings) {
        assert.deepEqual(optionsFromEnvironment({ [name]: raw }), { options: { [key]: expected }, warnings: [] }, raw);
        const r = resolveWithKey({ [name]: raw });
        assert.equal(resolvedOption(r.config, key), expected, raw);
        assert.deepEqual(r.warnings, [], raw);
      }
    });
    for (const raw of ['t', 'y', 'truee', 'enabled', '2']) {
      test(`${name}=${JSON.stringify(raw)} warns once, naming the variable and the spellings, and keeps ${fallback}`, () => {
        const parsed = optionsFromEnvironment({ [name]: raw });
        assert.deepEqual(parsed.options, {});
        assert.deepEqual(parsed.warnings, [`${name} is ignored: expected true/false, 1/0, yes/no or on/off, got "${raw}".`]);
        const r = resolveWithKey({ [name]: raw });
        assert.equal(resolvedOption(r.config, key), fallback);
        assert.equal(r.warnings.length, 1);
      });
    }
  }

  test('POSTHOG_OTEL_DRY_RUN takes the same spellings', () => {
    for (const [raw, expected] of spellings) {
      const r = resolveWithKey({ POSTHOG_OTEL_DRY_RUN: raw });
      assert.equal(r.config.diagnostics.dryRun, expected, raw);
      assert.deepEqual(r.warnings, [], raw);
    }
  });

  test('an unreadable POSTHOG_OTEL_DRY_RUN is still a dry run, with one warning saying so: a misspelling never sends real events', () => {
    for (const raw of ['y', 'enable', 'dry', 'truee']) {
      const parsed = optionsFromEnvironment({ POSTHOG_OTEL_DRY_RUN: raw });
      assert.deepEqual(parsed.options, { dryRun: true });
      assert.deepEqual(parsed.warnings, [
        `POSTHOG_OTEL_DRY_RUN is not a boolean (expected true/false, 1/0, yes/no or on/off), got "${raw}": taken as true, so nothing is sent.`,
      ]);
      assert.equal(resolveWithKey({ POSTHOG_OTEL_DRY_RUN: raw }).config.diagnostics.dryRun, true);
    }
  });

  test('flags set in code take the same spellings as strings (an environment value passed straight through)', () => {
    const r = resolveWithKey({}, {
      debug: 'yes',
      dryRun: '1',
      disableGeoip: 'off',
      flushOnExit: 'NO',
    } as unknown as PostHogLogRecordProcessorOptions);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(
      [r.config.diagnostics.debug, r.config.diagnostics.dryRun, r.config.mapping.disableGeoip, r.config.batch.flushOnExit],
      [true, true, false, false],
    );
  });

  test('an unreadable flag in code warns and keeps the default; an unreadable dryRun is a dry run', () => {
    const r = resolveWithKey({}, { debug: 'loud', dryRun: 'please' } as unknown as PostHogLogRecordProcessorOptions);
    assert.equal(r.config.diagnostics.debug, false);
    assert.equal(r.config.diagnostics.dryRun, true);
    assert.equal(r.warnings.length, 2, r.warnings.join('\n'));
    assert.match(
      r.warnings.find((w) => w.startsWith('dryRun'))!,
      /taken as true, so nothing is sent/,
    );
  });

  test('POSTHOG_DISABLE_GEOIP=yes keeps geoip disabled (the default)', () => {
    assert.equal(resolveWithKey({ POSTHOG_DISABLE_GEOIP: 'yes' }).config.mapping.disableGeoip, true);
  });
});

describe('enums', () => {
  const compression: [string, 'zstd' | 'gzip' | 'deflate' | 'none'][] = [
    ['zstd', 'zstd'],
    ['ZSTD', 'zstd'],
    [' Zstd ', 'zstd'],
    ['gzip', 'gzip'],
    ['GZIP', 'gzip'],
    [' Gzip ', 'gzip'],
    ['deflate', 'deflate'],
    ['DEFLATE', 'deflate'],
    ['none', 'none'],
    ['None', 'none'],
    ['identity', 'none'],
    ['IDENTITY', 'none'],
  ];
  for (const [raw, expected] of compression) {
    test(`POSTHOG_CAPTURE_COMPRESSION=${JSON.stringify(raw)} → ${expected}`, () => {
      assert.deepEqual(optionsFromEnvironment({ POSTHOG_CAPTURE_COMPRESSION: raw }), { options: { compression: expected }, warnings: [] });
      assert.equal(resolveWithKey({ POSTHOG_CAPTURE_COMPRESSION: raw }).config.client.compression, expected);
    });
  }
  for (const raw of ['br', 'zst', 'zstd,gzip', 'gzip,deflate', 'gz', 'true']) {
    test(`POSTHOG_CAPTURE_COMPRESSION=${JSON.stringify(raw)} warns once and keeps zstd`, () => {
      const r = resolveWithKey({ POSTHOG_CAPTURE_COMPRESSION: raw });
      assert.equal(r.config.client.compression, 'zstd');
      assert.equal(r.warnings.length, 1);
      assert.ok(r.warnings[0]?.includes('POSTHOG_CAPTURE_COMPRESSION'), r.warnings[0]);
      assert.ok(r.warnings[0]?.includes('zstd, gzip, deflate or none'), r.warnings[0]);
    });
  }
  test('an unknown compression from code warns and keeps zstd', () => {
    const r = resolveWithKey({}, { compression: 'br' as 'gzip' });
    assert.equal(r.config.client.compression, 'zstd');
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0] ?? '', /^compression is ignored: expected zstd, gzip, deflate or none/);
  });
  for (const value of ['zstd', 'gzip', 'deflate', 'none'] as const) {
    test(`compression: '${value}' from code is taken without a warning`, () => {
      const r = resolveWithKey({}, { compression: value });
      assert.equal(r.config.client.compression, value);
      assert.deepEqual(r.warnings, []);
    });
  }

  for (const [raw, expected] of [
    ['events', 'events'],
    ['EVENTS', 'events'],
    ['all', 'all'],
    [' All ', 'all'],
  ] as const) {
    test(`POSTHOG_OTEL_LOG_RECORDS=${JSON.stringify(raw)} → ${expected}`, () => {
      assert.deepEqual(optionsFromEnvironment({ POSTHOG_OTEL_LOG_RECORDS: raw }), { options: { logRecords: expected }, warnings: [] });
      assert.equal(resolveWithKey({ POSTHOG_OTEL_LOG_RECORDS: raw }).config.selection.logRecords, expected);
    });
  }
  for (const raw of ['none', 'logs', 'event', 'events,all']) {
    test(`POSTHOG_OTEL_LOG_RECORDS=${JSON.stringify(raw)} warns once and keeps events`, () => {
      const r = resolveWithKey({ POSTHOG_OTEL_LOG_RECORDS: raw });
      assert.equal(r.config.selection.logRecords, 'events');
      assert.equal(r.warnings.length, 1);
      assert.ok(r.warnings[0]?.includes('POSTHOG_OTEL_LOG_RECORDS'), r.warnings[0]);
    });
  }
  test('an unknown logRecords from code warns and keeps events', () => {
    const r = resolveWithKey({}, { logRecords: 'some' as 'all' });
    assert.equal(r.config.selection.logRecords, 'events');
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0] ?? '', /logRecords/);
  });

  const severities: [string, number][] = [
    ['0', 0],
    ['1', 1],
    ['9', 9],
    [' 17 ', 17],
    ['24', 24],
    ['TRACE', 1],
    ['trace', 1],
    ['DEBUG', 5],
    ['Info', 9],
    ['INFO', 9],
    ['WARN', 13],
    ['warn', 13],
    ['ERROR', 17],
    ['FATAL', 21],
    ['fatal', 21],
  ];
  for (const [raw, expected] of severities) {
    test(`POSTHOG_OTEL_MIN_SEVERITY=${JSON.stringify(raw)} → ${expected}`, () => {
      assert.deepEqual(optionsFromEnvironment({ POSTHOG_OTEL_MIN_SEVERITY: raw }), { options: { minSeverity: expected }, warnings: [] });
      assert.equal(resolveWithKey({ POSTHOG_OTEL_MIN_SEVERITY: raw }).config.selection.minSeverity, expected);
    });
  }
  for (const raw of ['25', '-1', '1.5', '100', 'VERBOSE', 'INFO2', 'Infinity', 'abc']) {
    test(`POSTHOG_OTEL_MIN_SEVERITY=${JSON.stringify(raw)} warns once and keeps 0`, () => {
      const r = resolveWithKey({ POSTHOG_OTEL_MIN_SEVERITY: raw });
      assert.equal(r.config.selection.minSeverity, 0);
      assert.equal(r.warnings.length, 1);
      assert.ok(r.warnings[0]?.includes('POSTHOG_OTEL_MIN_SEVERITY'), r.warnings[0]);
    });
  }

  const resourceRules: [string, unknown][] = [
    ['all', 'all'],
    ['ALL', 'all'],
    ['none', 'none'],
    ['Default', 'default'],
    ['deployment.environment', ['deployment.environment']],
    ['service.version, host.name,,', ['service.version', 'host.name']],
  ];
  for (const [raw, expected] of resourceRules) {
    test(`POSTHOG_OTEL_RESOURCE_ATTRIBUTES=${JSON.stringify(raw)}`, () => {
      assert.deepEqual(optionsFromEnvironment({ POSTHOG_OTEL_RESOURCE_ATTRIBUTES: raw }), {
        options: { resourceAttributes: expected },
        warnings: [],
      });
      assert.deepEqual(resolveWithKey({ POSTHOG_OTEL_RESOURCE_ATTRIBUTES: raw }).config.mapping.resourceAttributes, expected);
    });
  }

  test('non-boolean flags and out-of-range severities from code warn', () => {
    const r = resolveConfig({ disableGeoip: 'maybe' as unknown as boolean, minSeverity: 99 }, key);
    assert.equal(r.config.mapping.disableGeoip, true);
    assert.equal(r.config.selection.minSeverity, 0);
    assert.equal(r.warnings.length, 2);
  });
});

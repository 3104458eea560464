// What configuration says when it is wrong: one warning per bad variable, never a key or header
// value, and never a throw, whatever the environment map or code options hold.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { optionsFromEnvironment, type Environment } from '../../src/config/env.ts';
import { normalizeHost, resolveConfig, type Resolution } from '../../src/config/resolve.ts';
import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';
import { allText, ENV_NAMES, resolveWithKey } from '../support/config-env.ts';

/** A project key, so only the option under test can disable. */
const key = { POSTHOG_API_KEY: 'phc_x' };

describe('warnings', () => {
  test('several bad variables give exactly one warning each, each naming its variable', () => {
    const bad: Environment = {
      POSTHOG_CAPTURE_COMPRESSION: 'br',
      POSTHOG_DISABLE_GEOIP: 'sure',
      POSTHOG_HISTORICAL_MIGRATION: '2',
      POSTHOG_OTEL_HEADERS: 'nope',
      POSTHOG_OTEL_TIMEOUT: '0',
      POSTHOG_OTEL_MAX_ATTEMPTS: '1.5',
      POSTHOG_OTEL_RETRY_INITIAL_DELAY: '-1',
      POSTHOG_OTEL_RETRY_MAX_DELAY: 'abc',
      POSTHOG_OTEL_LOG_RECORDS: 'some',
      POSTHOG_OTEL_DEBUG: 'loud',
      POSTHOG_OTEL_MIN_SEVERITY: '99',
      OTEL_BLRP_SCHEDULE_DELAY: '-5',
      OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: 'Infinity',
      OTEL_BLRP_MAX_QUEUE_SIZE: '0',
      OTEL_BLRP_EXPORT_TIMEOUT: '2.5',
    };
    const r = resolveWithKey(bad);
    assert.equal(r.warnings.length, Object.keys(bad).length, r.warnings.join('\n'));
    for (const name of Object.keys(bad)) {
      assert.equal(r.warnings.filter((w) => w.includes(name)).length, 1, name);
    }
    assert.deepEqual(r.errors, []);
    assert.equal(r.config.enabled, true);
    const defaults = resolveWithKey({}).config;
    assert.deepEqual(r.config, defaults);
  });

  test('warnings and errors never contain the API key or header values', () => {
    const key = 'phc_keyThatMustNotLeak42';
    const env: Environment = {
      POSTHOG_API_KEY: key,
      POSTHOG_OTEL_HEADERS: 'x-secret=headerValueMustNotLeak,broken',
      POSTHOG_OTEL_TIMEOUT: 'abc',
      POSTHOG_CAPTURE_COMPRESSION: 'br',
      POSTHOG_DISABLE_GEOIP: 'maybe',
      POSTHOG_HOST: 'https://eu.i.posthog.com/?q=1',
    };
    const r = resolveConfig({ headers: { authorization: 'codeHeaderMustNotLeak' }, timeoutMillis: -1 }, env);
    assert.ok(r.warnings.length >= 4 && r.errors.length === 1);
    for (const secret of [key, 'keyThatMustNotLeak', 'headerValueMustNotLeak', 'codeHeaderMustNotLeak']) {
      assert.ok(!allText(r).includes(secret), `${secret} leaked: ${allText(r)}`);
    }
  });

  test('an unusable header list warns without echoing it', () => {
    const r = resolveWithKey({ POSTHOG_OTEL_HEADERS: 'Authorization: Bearer headerValueMustNotLeak' });
    assert.equal(r.warnings.length, 1);
    assert.ok(!r.warnings[0]?.includes('headerValueMustNotLeak'), r.warnings[0]);
  });

  test('values whose conversion to text throws give a warning, not a throw', () => {
    const r = resolveConfig({ timeoutMillis: Object.create(null) as number, compression: Object.create(null) as 'gzip' }, key);
    assert.equal(r.config.delivery.sendTimeoutMillis, 10_000);
    assert.equal(r.config.client.compression, 'zstd');
    assert.equal(r.warnings.length, 2);
  });
});

describe('never throws (fuzz)', () => {
  /** mulberry32: a small seeded generator, so a failure reproduces. */
  const rng = (seed: number): (() => number) => {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  };
  const SPECIAL = [
    '',
    ' ',
    '\t\n',
    'true',
    'FALSE',
    'yes',
    '0',
    '-1',
    '1.5',
    '1e3',
    '0x10',
    'Infinity',
    'NaN',
    '9'.repeat(400),
    'gzip',
    'zstd',
    'identity',
    'all',
    'INFO',
    'https://eu.posthog.com/',
    'http//x',
    'https://',
    'ftp://x',
    'https://[::1]:8000/a/',
    'https://a.com/?q',
    '%',
    '%E0%A4%A',
    'a=%ZZ,b=%',
    '==,,==',
    '__proto__=1,constructor=2',
    '\u0000\u0001\u001f\u007f',
    '\uD800',
    '\uDC00x',
    '😀=😀',
    'ключ=значение',
    '\u202Eevil',
    'a\u0000=b',
  ];
  const ALPHABET = [...'abcXYZ019 =,%:/.?#@-_\t\n\r\u0000\u0007\u001b\u007f\u00a0\u2028\u3000é日本😀\uD800\uDFFF\u0301'];

  const randomString = (next: () => number): string => {
    const roll = next();
    if (roll < 0.35) return SPECIAL[Math.floor(next() * SPECIAL.length)] ?? '';
    const length = roll < 0.9 ? Math.floor(next() * 40) : Math.floor(next() * 100_000);
    let s = '';
    for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)] ?? '';
    return s;
  };

  const RUNS = 400;
  test(`${RUNS} random environment maps: no throw, sane config, at most one warning per variable, no leaked secrets`, () => {
    const next = rng(0x5eed);
    const names = new Set<string>(ENV_NAMES);
    for (let run = 0; run < RUNS; run++) {
      const env: Environment = {};
      for (const name of ENV_NAMES) {
        const roll = next();
        if (roll < 0.4) continue;
        env[name] = roll < 0.45 ? undefined : randomString(next);
      }
      // Markers that must never appear in diagnostics.
      const keySecret = `KEYSECRET${run}`;
      const headerSecret = `HDRSECRET${run}`;
      if (next() < 0.3) env.POSTHOG_API_KEY = `${next() < 0.5 ? 'phx_' : 'phc_'}${keySecret}`;
      if (next() < 0.3) env.POSTHOG_OTEL_HEADERS = `${randomString(next).replace(/[=,]/g, '')}=${headerSecret},${randomString(next)}`;
      const context = `run ${run}: ${JSON.stringify(env).slice(0, 500)}`;

      let parsed: ReturnType<typeof optionsFromEnvironment> | undefined;
      let r: Resolution | undefined;
      assert.doesNotThrow(() => {
        parsed = optionsFromEnvironment(env);
        r = resolveConfig({}, env);
      }, context);
      assert.ok(parsed !== undefined && r !== undefined);

      const perVariable = new Map<string, number>();
      for (const w of r.warnings) {
        assert.equal(typeof w, 'string');
        const name = w.split(' ')[0] ?? '';
        assert.ok(names.has(name), `${context}\nwarning does not start with a variable name: ${w}`);
        perVariable.set(name, (perVariable.get(name) ?? 0) + 1);
      }
      for (const [name, count] of perVariable) assert.equal(count, 1, `${context}\n${name} warned ${count} times`);
      // Resolution adds only the note about a host written without a scheme.
      assert.deepEqual(
        r.warnings.filter((w) => !w.startsWith('POSTHOG_HOST has no scheme: ')),
        parsed.warnings,
        context,
      );

      const text = allText(r);
      assert.ok(!text.includes(keySecret), `${context}\nkey leaked: ${text}`);
      assert.ok(!text.includes(headerSecret), `${context}\nheader leaked: ${text}`);

      const c = r.config;
      // A dry run needs no key.
      assert.equal(c.enabled, r.errors.length === 0 && (c.client.apiKey !== '' || c.diagnostics.dryRun), context);
      assert.equal(c.enabled, c.disabledReason === undefined, context);
      assert.ok(!c.client.apiKey.startsWith('phx_'), context);
      assert.equal(c.client.apiKey, c.client.apiKey.trim(), context);
      assert.match(c.client.host, /^https?:\/\/[^/?#\s]+(\/[^?#]*[^/?#])?$/, context);
      assert.ok(['zstd', 'gzip', 'deflate', 'none'].includes(c.client.compression), context);
      assert.ok(c.selection.logRecords === 'events' || c.selection.logRecords === 'all', context);
      for (const n of [
        c.delivery.sendTimeoutMillis,
        c.client.maxAttempts,
        c.batch.maxExportBatchSize,
        c.batch.maxQueueSize,
        c.batch.exportTimeoutMillis,
        c.batch.scheduledDelayMillis,
      ]) {
        assert.ok(Number.isSafeInteger(n) || Number.isInteger(n), context);
        assert.ok(n >= 1, context);
      }
      for (const n of [c.client.retryInitialDelayMillis, c.client.retryMaxDelayMillis]) assert.ok(Number.isInteger(n) && n >= 0, context);
      assert.ok(Number.isInteger(c.selection.minSeverity) && c.selection.minSeverity >= 0 && c.selection.minSeverity <= 24, context);
      for (const b of [c.mapping.disableGeoip, c.client.historicalMigration, c.diagnostics.debug])
        assert.equal(typeof b, 'boolean', context);
      for (const [k, v] of Object.entries(c.client.headers)) {
        assert.equal(typeof v, 'string', context);
        assert.match(k, /^[!#$%&'*+.^_`|~0-9a-z-]+$/i, context);
      }
    }
  });

  test('normalizeHost never throws and returns a usable host or an error', () => {
    const next = rng(0xbad5eed);
    for (let i = 0; i < 500; i++) {
      const raw = randomString(next);
      let result: ReturnType<typeof normalizeHost> | undefined;
      assert.doesNotThrow(
        () => {
          result = normalizeHost(raw);
        },
        JSON.stringify(raw).slice(0, 200),
      );
      assert.ok(result !== undefined);
      if ('error' in result) assert.match(result.error, /^the PostHog host .* is not usable: /s);
      else assert.ok(/^https?:\/\//.test(result.host) && !result.host.endsWith('/'), result.host);
    }
  });

  test('odd code values do not throw', () => {
    const odd: unknown[] = [null, 'x', 10n, Symbol('s'), [], {}, () => 1, Number.NaN, -0];
    for (const value of odd) {
      for (const key of [
        'timeoutMillis',
        'compression',
        'logRecords',
        'host',
        'apiKey',
        'disableGeoip',
        'headers',
        'logEventName',
        'resourceAttributes',
      ] as const) {
        assert.doesNotThrow(() => resolveWithKey({}, { [key]: value } as PostHogLogRecordProcessorOptions), `${key}: ${String(value)}`);
      }
    }
  });
});

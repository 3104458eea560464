import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { optionsFromEnvironment, type Environment } from '../../src/config/env.ts';
import { normalizeHost, resolveConfig, type Resolution } from '../../src/config/resolve.ts';
import { resolvedOption } from '../support/resolved-option.ts';
import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';

/** Every environment variable the package reads. */
const ENV_NAMES = [
  'POSTHOG_API_KEY',
  'POSTHOG_PROJECT_TOKEN',
  'POSTHOG_PROJECT_API_KEY',
  'POSTHOG_HOST',
  'POSTHOG_CAPTURE_COMPRESSION',
  'POSTHOG_DISABLE_GEOIP',
  'POSTHOG_HISTORICAL_MIGRATION',
  'POSTHOG_OTEL_HEADERS',
  'POSTHOG_OTEL_TIMEOUT',
  'POSTHOG_OTEL_MAX_ATTEMPTS',
  'POSTHOG_OTEL_RETRY_INITIAL_DELAY',
  'POSTHOG_OTEL_RETRY_MAX_DELAY',
  'POSTHOG_OTEL_LOG_RECORDS',
  'POSTHOG_OTEL_DEBUG',
  'POSTHOG_OTEL_MIN_SEVERITY',
  'POSTHOG_OTEL_RESOURCE_ATTRIBUTES',
  'POSTHOG_OTEL_DRY_RUN',
  'POSTHOG_OTEL_DETERMINISTIC_UUIDS',
  'POSTHOG_OTEL_FLUSH_ON_EXIT',
  'OTEL_BLRP_SCHEDULE_DELAY',
  'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BLRP_MAX_QUEUE_SIZE',
  'OTEL_BLRP_EXPORT_TIMEOUT',
] as const;

const KEY = 'phc_testProjectKey123';

/** resolveConfig with a valid key, so only the option under test can disable or warn. */
const resolveWithKey = (env: Environment, code: PostHogLogRecordProcessorOptions = {}): Resolution =>
  resolveConfig(code, { POSTHOG_API_KEY: KEY, ...env });

/** All human-readable text a resolution produces. */
const allText = (r: Resolution): string => [...r.warnings, ...r.errors, r.config.disabledReason ?? ''].join('\n');

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

describe('empty or whitespace-only values are unset (OTel)', () => {
  for (const name of ENV_NAMES) {
    for (const blank of ['', '   ', '\t\n ']) {
      test(`${name}=${JSON.stringify(blank)}`, () => {
        assert.deepEqual(optionsFromEnvironment({ [name]: blank }), { options: {}, warnings: [] });
      });
    }
  }

  test('all of them blank at once resolves to the defaults, disabled for lack of a key, without warnings', () => {
    const env = Object.fromEntries(ENV_NAMES.map((name) => [name, ' ']));
    const r = resolveConfig({}, env);
    const defaults = resolveConfig({}, { POSTHOG_API_KEY: 'phc_x' }).config;
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.errors, []);
    assert.equal(r.config.enabled, false);
    assert.deepEqual(
      {
        ...r.config,
        enabled: true,
        client: { ...r.config.client, apiKey: 'phc_x' },
        apiKeySource: 'POSTHOG_API_KEY',
        disabledReason: undefined,
      },
      { ...defaults, disabledReason: undefined },
    );
  });
});

describe('API key', () => {
  test('without a key: disabled with a reason, and no error or warning', () => {
    const r = resolveConfig({}, {});
    assert.equal(r.config.enabled, false);
    assert.equal(r.config.client.apiKey, '');
    assert.ok(r.config.disabledReason !== undefined && /API key/.test(r.config.disabledReason), r.config.disabledReason);
    assert.match(r.config.disabledReason, /POSTHOG_API_KEY/);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, []);
  });

  const precedence: [string, Environment, string][] = [
    [
      'POSTHOG_API_KEY wins over both others',
      { POSTHOG_API_KEY: 'phc_a', POSTHOG_PROJECT_TOKEN: 'phc_b', POSTHOG_PROJECT_API_KEY: 'phc_c' },
      'phc_a',
    ],
    [
      'POSTHOG_PROJECT_TOKEN wins over POSTHOG_PROJECT_API_KEY',
      { POSTHOG_PROJECT_TOKEN: 'phc_b', POSTHOG_PROJECT_API_KEY: 'phc_c' },
      'phc_b',
    ],
    ['POSTHOG_PROJECT_API_KEY alone', { POSTHOG_PROJECT_API_KEY: 'phc_c' }, 'phc_c'],
    ['POSTHOG_PROJECT_TOKEN alone', { POSTHOG_PROJECT_TOKEN: 'phc_b' }, 'phc_b'],
    [
      'an empty POSTHOG_API_KEY is skipped',
      { POSTHOG_API_KEY: '', POSTHOG_PROJECT_TOKEN: 'phc_b', POSTHOG_PROJECT_API_KEY: 'phc_c' },
      'phc_b',
    ],
    [
      'whitespace-only keys are skipped',
      { POSTHOG_API_KEY: '  ', POSTHOG_PROJECT_TOKEN: '\t\n', POSTHOG_PROJECT_API_KEY: 'phc_c' },
      'phc_c',
    ],
    ['the chosen key is trimmed', { POSTHOG_API_KEY: '  phc_a \n', POSTHOG_PROJECT_TOKEN: 'phc_b' }, 'phc_a'],
  ];
  for (const [name, env, expected] of precedence) {
    test(`env precedence: ${name}`, () => {
      assert.equal(optionsFromEnvironment(env).options.apiKey, expected);
      const r = resolveConfig({}, env);
      assert.equal(r.config.client.apiKey, expected);
      assert.equal(r.config.enabled, true);
      assert.deepEqual(r.errors, []);
    });
  }

  test('the code key wins over the environment, and is trimmed', () => {
    const r = resolveConfig({ apiKey: ' phc_code ' }, { POSTHOG_API_KEY: 'phc_env' });
    assert.equal(r.config.client.apiKey, 'phc_code');
    assert.equal(r.config.enabled, true);
  });

  test('the configuration says where the key came from (a variable name or the option), never the key', () => {
    const source = (code: PostHogLogRecordProcessorOptions, env: Environment): string | undefined =>
      resolveConfig(code, env).config.apiKeySource;
    assert.equal(source({}, { POSTHOG_API_KEY: 'phc_a', POSTHOG_PROJECT_TOKEN: 'phc_b' }), 'POSTHOG_API_KEY');
    assert.equal(source({}, { POSTHOG_API_KEY: ' ', POSTHOG_PROJECT_TOKEN: 'phc_b' }), 'POSTHOG_PROJECT_TOKEN');
    assert.equal(source({}, { POSTHOG_PROJECT_API_KEY: 'phc_c' }), 'POSTHOG_PROJECT_API_KEY');
    assert.equal(source({ apiKey: 'phc_code' }, { POSTHOG_API_KEY: 'phc_env' }), 'the apiKey option');
    assert.equal(source({ apiKey: '' }, { POSTHOG_API_KEY: 'phc_env' }), 'POSTHOG_API_KEY');
    assert.equal(source({}, {}), undefined);
    assert.equal(source({ apiKey: '   ' }, {}), undefined);
  });

  const PERSONAL = 'phx_personalSecret987';
  const personal: [string, PostHogLogRecordProcessorOptions, Environment][] = [
    ['POSTHOG_API_KEY', {}, { POSTHOG_API_KEY: PERSONAL }],
    ['POSTHOG_PROJECT_TOKEN', {}, { POSTHOG_PROJECT_TOKEN: PERSONAL }],
    ['POSTHOG_PROJECT_API_KEY', {}, { POSTHOG_PROJECT_API_KEY: ` ${PERSONAL} ` }],
    ['the apiKey option', { apiKey: PERSONAL }, {}],
    ['the apiKey option, padded, over a project key in env', { apiKey: `  ${PERSONAL}` }, { POSTHOG_API_KEY: 'phc_env' }],
    [
      'POSTHOG_API_KEY, also with other bad variables',
      {},
      { POSTHOG_API_KEY: PERSONAL, POSTHOG_OTEL_TIMEOUT: 'abc', POSTHOG_HOST: 'ftp://x' },
    ],
  ];
  for (const [where, code, env] of personal) {
    test(`a personal key (phx_) from ${where} is an error that disables, and is never echoed`, () => {
      const r = resolveConfig(code, env);
      assert.equal(r.config.enabled, false);
      assert.equal(r.config.client.apiKey, '');
      assert.ok(r.errors.length > 0);
      const keyError = r.errors.find((e) => /personal/i.test(e));
      assert.ok(keyError !== undefined, r.errors.join('\n'));
      assert.match(keyError, /phc_/);
      assert.match(keyError, /project/i);
      assert.ok(r.config.disabledReason?.includes(keyError), r.config.disabledReason);
      assert.ok(!allText(r).includes(PERSONAL), allText(r));
      assert.ok(!allText(r).includes('personalSecret987'), allText(r));
    });
  }

  for (const [what, key] of [
    ['a line break (a key read from a file)', 'phc_keySecret42\nnext'],
    ['a space inside', 'phc_keySecret42 next'],
    ['a zero-width space', 'phc_keySecret42\u200bnext'],
    ['a control character', 'phc_keySecret42\u0007next'],
  ] as const) {
    test(`an API key with ${what} is an error that disables (no request could carry it), never echoed`, () => {
      const r = resolveConfig({}, { POSTHOG_API_KEY: key });
      assert.equal(r.config.enabled, false);
      assert.equal(r.config.client.apiKey, '');
      const keyError = r.errors.find((e) => /HTTP header/.test(e));
      assert.ok(keyError !== undefined, r.errors.join('\n'));
      assert.ok(!allText(r).includes('keySecret42'), allText(r));
    });
  }

  test('a project key in code overrides a personal key in the environment', () => {
    const r = resolveConfig({ apiKey: 'phc_code' }, { POSTHOG_API_KEY: PERSONAL });
    assert.equal(r.config.enabled, true);
    assert.equal(r.config.client.apiKey, 'phc_code');
    assert.deepEqual(r.errors, []);
  });
});

describe('host', () => {
  const valid: [string, string][] = [
    ['https://eu.i.posthog.com', 'https://eu.i.posthog.com'],
    ['https://eu.i.posthog.com/', 'https://eu.i.posthog.com'],
    ['https://eu.i.posthog.com///', 'https://eu.i.posthog.com'],
    ['  https://eu.i.posthog.com/  ', 'https://eu.i.posthog.com'],
    ['eu.i.posthog.com', 'https://eu.i.posthog.com'],
    ['eu.i.posthog.com/', 'https://eu.i.posthog.com'],
    ['posthog.internal:8000', 'https://posthog.internal:8000'],
    ['http://localhost:8000', 'http://localhost:8000'],
    ['http://127.0.0.1:8010/', 'http://127.0.0.1:8010'],
    ['https://example.com/ingest', 'https://example.com/ingest'],
    ['https://example.com/ingest/', 'https://example.com/ingest'],
    ['https://example.com/a/b//', 'https://example.com/a/b'],
    ['example.com/ingest/', 'https://example.com/ingest'],
    ['us.posthog.com', 'https://us.i.posthog.com'],
    ['https://us.posthog.com', 'https://us.i.posthog.com'],
    ['https://us.posthog.com/', 'https://us.i.posthog.com'],
    ['eu.posthog.com', 'https://eu.i.posthog.com'],
    ['https://eu.posthog.com/', 'https://eu.i.posthog.com'],
    ['HTTPS://EU.POSTHOG.COM', 'https://eu.i.posthog.com'],
    ['app.posthog.com', 'https://us.i.posthog.com'],
    ['https://app.posthog.com', 'https://us.i.posthog.com'],
    ['https://us.i.posthog.com', 'https://us.i.posthog.com'],
    // With a path, an app host is someone's route, not a mistake: left alone.
    ['https://eu.posthog.com/ingest', 'https://eu.posthog.com/ingest'],
    ['https://app.posthog.com/proxy/', 'https://app.posthog.com/proxy'],
  ];
  for (const [input, expected] of valid) {
    const withoutScheme = !/^\s*https?:\/\//i.test(input);
    test(`${JSON.stringify(input)} → ${expected}${withoutScheme ? ', with one note that https was assumed' : ''}`, () => {
      assert.deepEqual(normalizeHost(input), withoutScheme ? { host: expected, schemeAdded: true } : { host: expected });
      const fromEnv = resolveWithKey({ POSTHOG_HOST: input });
      assert.equal(fromEnv.config.client.host, expected);
      assert.equal(fromEnv.config.enabled, true);
      assert.deepEqual(fromEnv.errors, []);
      const fromCode = resolveWithKey({}, { host: input });
      assert.equal(fromCode.config.client.host, expected);
      if (withoutScheme) {
        const note = (name: string): string =>
          `${name} has no scheme: using ${expected}. Write the https:// (or http:// for a server without TLS) to silence this note.`;
        assert.deepEqual(fromEnv.warnings, [note('POSTHOG_HOST')]);
        assert.deepEqual(fromCode.warnings, [note('host')]);
      } else {
        assert.deepEqual(fromEnv.warnings, []);
        assert.deepEqual(fromCode.warnings, []);
      }
    });
  }

  const invalid: [string, RegExp][] = [
    ['ftp://x', /scheme must be https or http, not ftp/],
    ['ws://eu.i.posthog.com', /scheme must be https or http, not ws/],
    ['https://', /not a valid URL/],
    ['not a url with spaces', /not a valid URL/],
    ['https://eu.i.posthog.com/?token=1', /query/],
    ['https://eu.i.posthog.com?a=b', /query/],
    ['https://eu.i.posthog.com/#frag', /fragment/],
  ];
  for (const [input, why] of invalid) {
    test(`${JSON.stringify(input)} is an error that says why and disables`, () => {
      const result = normalizeHost(input);
      assert.ok('error' in result, JSON.stringify(result));
      assert.match(result.error, why);
      for (const r of [resolveWithKey({ POSTHOG_HOST: input }), resolveWithKey({}, { host: input })]) {
        assert.equal(r.config.enabled, false);
        assert.deepEqual(r.errors, [result.error]);
        assert.equal(r.config.disabledReason, result.error);
        assert.deepEqual(r.warnings, []);
      }
    });
  }

  test('non-string or blank hosts passed to normalizeHost are errors, not throws', () => {
    for (const raw of [undefined, null, 42, {}, '', '   ']) {
      const result = normalizeHost(raw);
      assert.ok('error' in result, `${String(raw)}: ${JSON.stringify(result)}`);
      assert.match(result.error, /expected a URL/);
    }
  });

  test('the code host wins over POSTHOG_HOST', () => {
    assert.equal(
      resolveWithKey({ POSTHOG_HOST: 'eu.posthog.com' }, { host: 'https://example.com/ingest/' }).config.client.host,
      'https://example.com/ingest',
    );
  });

  test('a bad POSTHOG_HOST does not matter when code sets a good host', () => {
    const r = resolveWithKey({ POSTHOG_HOST: 'ftp://x' }, { host: 'eu.i.posthog.com' });
    assert.equal(r.config.enabled, true);
    assert.equal(r.config.client.host, 'https://eu.i.posthog.com');
    assert.deepEqual(r.errors, []);
  });
});

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
});

describe('headers', () => {
  const lists: [string, Record<string, string>][] = [
    ['a=1', { a: '1' }],
    ['a=1,b=2', { a: '1', b: '2' }],
    [' x-api-key = abc , X-Tenant=t1 ', { 'x-api-key': 'abc', 'X-Tenant': 't1' }],
    ['authorization=Bearer%20tok', { authorization: 'Bearer tok' }],
    ['x=%3D%2C%25', { x: '=,%' }],
    ['x=a=b', { x: 'a=b' }],
    ['x=', { x: '' }],
    ['a=1,,b=2,', { a: '1', b: '2' }],
    ['a=1,a=2', { a: '2' }],
  ];
  for (const [raw, expected] of lists) {
    test(`POSTHOG_OTEL_HEADERS=${JSON.stringify(raw)}`, () => {
      assert.deepEqual(optionsFromEnvironment({ POSTHOG_OTEL_HEADERS: raw }), { options: { headers: expected }, warnings: [] });
      assert.deepEqual(resolveWithKey({ POSTHOG_OTEL_HEADERS: raw }).config.client.headers, expected);
    });
  }

  for (const raw of ['Authorization Bearer s3cr3tHeaderValue', '=s3cr3tHeaderValue', 'bad name=s3cr3tHeaderValue', ',,,']) {
    test(`unusable POSTHOG_OTEL_HEADERS=${JSON.stringify(raw)} warns once without echoing the value`, () => {
      const parsed = optionsFromEnvironment({ POSTHOG_OTEL_HEADERS: raw });
      assert.deepEqual(parsed.options, {});
      assert.equal(parsed.warnings.length, 1);
      assert.ok(parsed.warnings[0]?.includes('POSTHOG_OTEL_HEADERS'), parsed.warnings[0]);
      assert.ok(!parsed.warnings[0]?.includes('s3cr3t'), parsed.warnings[0]);
      const r = resolveWithKey({ POSTHOG_OTEL_HEADERS: raw });
      assert.deepEqual(r.config.client.headers, {});
      assert.equal(r.warnings.length, 1);
    });
  }

  for (const [what, headers] of [
    ['a line break in a value', { 'x-proxy-auth': 's3cr3tHeaderValue\r\nx-injected: 1' }],
    ['a character beyond Latin-1 in a value', { 'x-proxy-auth': 's3cr3tHeaderValue\u2028' }],
    ['a name that is not a token', { 'x proxy': 's3cr3tHeaderValue' }],
  ] as const) {
    test(`a code header with ${what} is left out with a warning naming it, never its value; the others stay`, () => {
      const r = resolveWithKey({}, { headers: { ...headers, 'x-fine': 'ok' } });
      assert.deepEqual(r.config.client.headers, { 'x-fine': 'ok' });
      assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
      assert.match(r.warnings[0]!, /^headers: .* is ignored/);
      assert.ok(!allText(r).includes('s3cr3t'), allText(r));
      assert.equal(r.config.enabled, true);
    });
  }

  test('POSTHOG_OTEL_HEADERS pairs HTTP cannot carry are left out with one warning that names sound names only, never a value', () => {
    const r = resolveWithKey({ POSTHOG_OTEL_HEADERS: 'x-bad=s3cr3t%0D%0Ainjected,x-good=1,Authorization Bearer s3cr3t' });
    assert.deepEqual(r.config.client.headers, { 'x-good': '1' });
    assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
    assert.match(r.warnings[0]!, /^POSTHOG_OTEL_HEADERS is partly ignored: 2 pair\(s\) \("x-bad"\) left out/);
    assert.ok(!allText(r).includes('s3cr3t'), allText(r));
  });

  test('headers the HTTP client refuses (expect, upgrade, keep-alive, connection, transfer-encoding, host, content-length) are left out with one warning naming them, never a value', () => {
    const r = resolveWithKey(
      { POSTHOG_OTEL_HEADERS: 'Expect=100-continue-s3cr3t,x-env=1,Keep-Alive=timeout%3D5-s3cr3t' },
      {
        headers: {
          upgrade: 'websocket-s3cr3t',
          Connection: 'close-s3cr3t',
          'transfer-encoding': 'chunked-s3cr3t',
          HOST: 'proxy-s3cr3t',
          'content-length': '10',
          'x-code': '2',
        },
      },
    );
    assert.deepEqual(r.config.client.headers, { 'x-env': '1', 'x-code': '2' });
    assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
    assert.equal(
      r.warnings[0],
      'headers: "Expect", "Keep-Alive", "upgrade", "Connection", "transfer-encoding", "HOST", "content-length" are ignored: the HTTP client sets them itself and refuses requests that carry them.',
    );
    assert.ok(!allText(r).includes('s3cr3t'), allText(r));
    assert.equal(r.config.enabled, true);
  });

  test('one refused header: one warning in the singular', () => {
    const r = resolveWithKey({}, { headers: { expect: '100-continue' } });
    assert.deepEqual(r.config.client.headers, {});
    assert.deepEqual(r.warnings, ['headers: "expect" is ignored: the HTTP client sets it itself and refuses requests that carry it.']);
  });

  test('env headers are merged with code headers, code winning per key', () => {
    const r = resolveWithKey({ POSTHOG_OTEL_HEADERS: 'x-env=1,x-both=env' }, { headers: { 'x-both': 'code', 'x-code': '2' } });
    assert.deepEqual(r.config.client.headers, { 'x-env': '1', 'x-both': 'code', 'x-code': '2' });
  });

  test('code headers alone, and an empty code map, keep env headers', () => {
    assert.deepEqual(resolveWithKey({}, { headers: { a: 'b' } }).config.client.headers, { a: 'b' });
    assert.deepEqual(resolveWithKey({ POSTHOG_OTEL_HEADERS: 'a=1' }, { headers: {} }).config.client.headers, { a: '1' });
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
});

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
});

describe('optionsFromEnvironment is pure', () => {
  const conflicting: Environment = {
    POSTHOG_API_KEY: 'phc_fromProcessEnv',
    POSTHOG_HOST: 'https://process-env.example.com',
    POSTHOG_CAPTURE_COMPRESSION: 'deflate',
    POSTHOG_OTEL_TIMEOUT: '1234',
    POSTHOG_OTEL_HEADERS: 'x-process=1',
    POSTHOG_DISABLE_GEOIP: 'false',
    POSTHOG_OTEL_MIN_SEVERITY: 'bogus',
    OTEL_BLRP_MAX_QUEUE_SIZE: '99',
  };
  const saved = new Map<string, string | undefined>();
  before(() => {
    for (const [name, value] of Object.entries(conflicting)) {
      saved.set(name, process.env[name]);
      process.env[name] = value;
    }
  });
  after(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  test('it reads only the map it is given', () => {
    assert.equal(process.env.POSTHOG_API_KEY, 'phc_fromProcessEnv');
    assert.deepEqual(optionsFromEnvironment({}), { options: {}, warnings: [] });
    assert.deepEqual(optionsFromEnvironment({ POSTHOG_API_KEY: 'phc_map', POSTHOG_OTEL_TIMEOUT: '50' }), {
      options: { apiKey: 'phc_map', timeoutMillis: 50 },
      warnings: [],
      apiKeyVariable: 'POSTHOG_API_KEY',
    });
  });

  test('resolveConfig with an explicit map ignores process.env too', () => {
    const r = resolveConfig({}, { POSTHOG_API_KEY: 'phc_map' });
    assert.equal(r.config.client.apiKey, 'phc_map');
    assert.equal(r.config.client.host, 'https://us.i.posthog.com');
    assert.equal(r.config.client.compression, 'zstd');
    assert.equal(r.config.delivery.sendTimeoutMillis, 10_000);
    assert.deepEqual(r.config.client.headers, {});
    assert.equal(r.config.mapping.disableGeoip, true);
    assert.equal(r.config.batch.maxQueueSize, 2_048);
    assert.deepEqual(r.warnings, []);
  });

  test('it does not modify the map it is given', () => {
    const env: Environment = { POSTHOG_API_KEY: ' phc_x ', POSTHOG_OTEL_TIMEOUT: 'abc' };
    const copy = { ...env };
    optionsFromEnvironment(env);
    resolveConfig({}, env);
    assert.deepEqual(env, copy);
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

describe('edge cases found in review', () => {
  const key = { POSTHOG_API_KEY: 'phc_x' };
  test('scheme typos are errors, not hosts', () => {
    for (const host of ['http//x', 'https//eu.i.posthog.com', 'https:/x', 'https:x']) {
      const r = resolveConfig({ host }, key);
      assert.equal(r.config.enabled, false, host);
      assert.match(r.errors[0] ?? '', /not a valid URL/, host);
    }
  });
  test('credentials in the host are refused, and no part of them is echoed', () => {
    const r = resolveConfig({ host: 'https://user:pw@x.example' }, key);
    assert.equal(r.config.enabled, false);
    assert.match(r.errors[0] ?? '', /credentials/);
    assert.ok(!r.errors[0]!.includes('pw@'));
    // A password with an @ or a / in it: everything up to the last @ is hidden.
    for (const host of ['https://user:pa@ss99@x.example', 'https://user:pa/ss99@x.example']) {
      const bad = resolveConfig({ host }, key);
      assert.equal(bad.config.enabled, false, host);
      assert.ok(!allText(bad).includes('ss99') && !allText(bad).includes('user'), allText(bad));
    }
  });
  test('a host carrying a key (in its query, or a key pasted as the host) is refused without echoing the key', () => {
    for (const host of [
      'https://eu.i.posthog.com/?api_key=phc_hostSecret77',
      'https://eu.i.posthog.com/#phc_hostSecret77',
      'phc_hostSecret77',
      'phx_hostSecret77',
    ]) {
      const r = resolveConfig({}, { POSTHOG_API_KEY: 'phc_project', POSTHOG_HOST: host });
      assert.equal(r.config.enabled, false, host);
      assert.ok(r.errors.length > 0, host);
      assert.ok(!allText(r).includes('hostSecret77'), allText(r));
    }
  });
  test('app hosts with a port or plain http are kept as given', () => {
    assert.deepEqual(normalizeHost('https://eu.posthog.com:8443'), { host: 'https://eu.posthog.com:8443' });
    assert.deepEqual(normalizeHost('https://eu.posthog.com/'), { host: 'https://eu.i.posthog.com' });
  });
  test('header merge is case-insensitive, code wins', () => {
    const r = resolveConfig({ headers: { 'x-tenant': 'code' } }, { ...key, POSTHOG_OTEL_HEADERS: 'X-Tenant=env,X-Other=o' });
    assert.deepEqual(r.config.client.headers, { 'x-tenant': 'code', 'X-Other': 'o' });
  });
  test('timer values beyond 2^31-1 ms are refused from env and code', () => {
    const env = optionsFromEnvironment({ OTEL_BLRP_EXPORT_TIMEOUT: '3000000000', POSTHOG_OTEL_RETRY_MAX_DELAY: '9999999999999' });
    assert.equal(env.options.exportTimeoutMillis, undefined);
    assert.equal(env.options.retryMaxDelayMillis, undefined);
    assert.equal(env.warnings.length, 2);
    const r = resolveConfig({ timeoutMillis: 3e9 }, key);
    assert.equal(r.config.delivery.sendTimeoutMillis, 10_000);
    assert.equal(r.warnings.length, 1);
  });
  test('values whose conversion to text throws give a warning, not a throw', () => {
    const r = resolveConfig({ timeoutMillis: Object.create(null) as number, compression: Object.create(null) as 'gzip' }, key);
    assert.equal(r.config.delivery.sendTimeoutMillis, 10_000);
    assert.equal(r.config.client.compression, 'zstd');
    assert.equal(r.warnings.length, 2);
  });
  test('an empty string in code does not hide the environment', () => {
    const r = resolveConfig({ host: '', apiKey: '' }, { ...key, POSTHOG_HOST: 'eu.i.posthog.com' });
    assert.equal(r.config.enabled, true);
    assert.equal(r.config.client.host, 'https://eu.i.posthog.com');
    assert.equal(r.config.client.apiKey, 'phc_x');
  });
  test('non-boolean flags and out-of-range severities from code warn', () => {
    const r = resolveConfig({ disableGeoip: 'maybe' as unknown as boolean, minSeverity: 99 }, key);
    assert.equal(r.config.mapping.disableGeoip, true);
    assert.equal(r.config.selection.minSeverity, 0);
    assert.equal(r.warnings.length, 2);
  });
});

// Reading the environment: blank values count as unset, as OpenTelemetry says, and only the map
// given is read, never process.env, and never changed.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { optionsFromEnvironment, type Environment } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { ENV_NAMES } from '../support/config-env.ts';

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

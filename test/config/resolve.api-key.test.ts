// The API key: where it is read from and in which order, keys that disable the exporter (none, a
// personal key, one no request could carry), and that no message ever echoes it.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { optionsFromEnvironment, type Environment } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';
import { allText } from '../support/config-env.ts';

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

// The host: how it is normalised (scheme, path, port), which hosts are errors and why, and that
// credentials or keys in it are refused without being echoed.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeHost, resolveConfig } from '../../src/config/resolve.ts';
import { allText, resolveWithKey } from '../support/config-env.ts';

/** A project key, so only the option under test can disable. */
const key = { POSTHOG_API_KEY: 'phc_x' };

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
});

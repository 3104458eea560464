import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeHost, resolveConfig, type Resolution } from '../../src/config/resolve.ts';

const KEY = { POSTHOG_API_KEY: 'phc_project' };

/** Everything a resolution could print. */
function allText(r: Resolution): string {
  return [...r.warnings, ...r.errors, r.config.disabledReason ?? ''].join('\n');
}

describe('hosts written without a scheme', () => {
  test('credentials are refused as credentials, and no part of them is echoed', () => {
    for (const host of ['user:s3cretPw@eu.i.posthog.com', 'admin:4711@proxy.example', 'user:pa/ss99x@proxy.example', 'token@proxy.example']) {
      for (const r of [resolveConfig({ host }, KEY), resolveConfig({}, { ...KEY, POSTHOG_HOST: host })]) {
        assert.equal(r.config.enabled, false, host);
        assert.match(r.errors[0] ?? '', /must not contain credentials/, host);
        for (const secret of ['s3cretPw', '4711', 'ss99x', 'token', 'user', 'admin']) assert.ok(!allText(r).includes(secret), allText(r));
      }
    }
  });

  test('a bracketed IPv6 address, with or without a port, is taken as https with the note', () => {
    assert.deepEqual(normalizeHost('[::1]:8000'), { host: 'https://[::1]:8000', schemeAdded: true });
    assert.deepEqual(normalizeHost('[2001:db8::7]/ingest/'), { host: 'https://[2001:db8::7]/ingest', schemeAdded: true });
    assert.ok('error' in normalizeHost('[not-an-address]:8000'));
  });
});

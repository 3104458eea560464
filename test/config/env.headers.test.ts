// Extra headers from POSTHOG_OTEL_HEADERS and from code: parsing, the pairs HTTP cannot carry or the
// client refuses, merging (code wins, names case-insensitive), and warnings that never echo a value.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { optionsFromEnvironment } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { allText, resolveWithKey } from '../support/config-env.ts';

/** A project key, so only the option under test can disable. */
const key = { POSTHOG_API_KEY: 'phc_x' };

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

  test('header merge is case-insensitive, code wins', () => {
    const r = resolveConfig({ headers: { 'x-tenant': 'code' } }, { ...key, POSTHOG_OTEL_HEADERS: 'X-Tenant=env,X-Other=o' });
    assert.deepEqual(r.config.client.headers, { 'x-tenant': 'code', 'X-Other': 'o' });
  });
});

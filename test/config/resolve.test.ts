import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { exportDeadlineMillis, normalizeHost, resolveConfig, type Resolution } from '../../src/config/resolve.ts';

const KEY = { POSTHOG_API_KEY: 'phc_project' };

/** Everything a resolution could print. */
function allText(r: Resolution): string {
  return [...r.warnings, ...r.errors, r.config.disabledReason ?? ''].join('\n');
}

describe('hosts written without a scheme', () => {
  test('credentials are refused as credentials, and no part of them is echoed', () => {
    for (const host of [
      'user:s3cretPw@eu.i.posthog.com',
      'admin:4711@proxy.example',
      'user:pa/ss99x@proxy.example',
      'token@proxy.example',
    ]) {
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

describe('yes/no options in code', () => {
  test('the numbers 1 and 0 are taken as the spellings 1 and 0 are', () => {
    const on = resolveConfig({ debug: 1, dryRun: 1, flushOnExit: 1, disableGeoip: 1 } as never, KEY);
    assert.deepEqual(
      [on.config.diagnostics.debug, on.config.diagnostics.dryRun, on.config.batch.flushOnExit, on.config.mapping.disableGeoip],
      [true, true, true, true],
    );
    assert.deepEqual(on.warnings, []);
    const off = resolveConfig({ debug: 0, dryRun: 0, flushOnExit: 0, disableGeoip: 0 } as never, KEY);
    assert.deepEqual(
      [off.config.diagnostics.debug, off.config.diagnostics.dryRun, off.config.batch.flushOnExit, off.config.mapping.disableGeoip],
      [false, false, false, false],
    );
    assert.deepEqual(off.warnings, []);
  });

  test('any other number warns; an unreadable dryRun is still a dry run', () => {
    const r = resolveConfig({ flushOnExit: 2, dryRun: -1 } as never, KEY);
    assert.equal(r.config.batch.flushOnExit, true);
    assert.equal(r.config.diagnostics.dryRun, true);
    assert.deepEqual(r.warnings, [
      'flushOnExit is ignored: expected true or false (or 1/0, or the strings true/false, 1/0, yes/no or on/off), got 2.',
      'dryRun is not a boolean (expected true or false, or 1/0, or the strings true/false, 1/0, yes/no or on/off), got -1: taken as true, so nothing is sent.',
    ]);
  });
});

describe('hosts written with an endpoint path', () => {
  const cases: [string, string, string][] = [
    ['https://eu.i.posthog.com/i/v1/analytics/events', 'https://eu.i.posthog.com', '/i/v1/analytics/events'],
    ['https://us.i.posthog.com/i/v1/logs', 'https://us.i.posthog.com', '/i/v1/logs'],
    ['https://eu.i.posthog.com/batch/', 'https://eu.i.posthog.com', '/batch'],
    ['https://proxy.example/ingest/i/v1/analytics/events/', 'https://proxy.example/ingest', '/i/v1/analytics/events'],
  ];
  for (const [input, expected, path] of cases) {
    test(`${input} → ${expected}, with one note naming the path left out`, () => {
      for (const [r, name] of [
        [resolveConfig({}, { ...KEY, POSTHOG_HOST: input }), 'POSTHOG_HOST'],
        [resolveConfig({ host: input }, KEY), 'host'],
      ] as const) {
        assert.equal(r.config.client.host, expected);
        assert.equal(r.config.enabled, true);
        assert.deepEqual(r.warnings, [
          `${name} ends with the endpoint path ${path}: using ${expected}, to which the capture path is added. Write the host alone to silence this note.`,
        ]);
      }
    });
  }

  test('a reverse proxy keeps any other path', () => {
    assert.equal(resolveConfig({ host: 'https://proxy.example/batch' }, KEY).config.client.host, 'https://proxy.example/batch');
    assert.deepEqual(resolveConfig({ host: 'https://proxy.example/ingest' }, KEY).warnings, []);
  });
});

describe('headers set in code', () => {
  const HEADER_KEY = 'phc_resolveTestKey123';
  test('a header whose name is not valid is left out with a warning that never echoes the name', () => {
    // A whole `Name: value` line pasted as the name, with the project key or a proxy secret in it.
    for (const name of [`Authorization: Bearer ${HEADER_KEY}`, 'x proxy s3cr3tInTheName', `${HEADER_KEY}\n`]) {
      const r = resolveConfig({ headers: { [name]: 'v', 'x-fine': 'ok' } }, { POSTHOG_API_KEY: HEADER_KEY });
      assert.deepEqual(r.config.client.headers, { 'x-fine': 'ok' });
      assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
      assert.match(r.warnings[0]!, /^headers: a header whose name is not a valid HTTP header name \(\d+ characters\) is ignored\.$/);
      for (const secret of [HEADER_KEY, 's3cr3t', 'Bearer']) assert.ok(!r.warnings[0]!.includes(secret), r.warnings[0]);
    }
  });
});

describe('sections built from several options', () => {
  test("one export's budget is timeoutMillis, kept below 90% of the batch processor's export timeout", () => {
    assert.equal(exportDeadlineMillis(10_000, 30_000), 10_000);
    assert.equal(exportDeadlineMillis(10_000, 300), 270);
    assert.equal(exportDeadlineMillis(5_000, 1), 1);
    assert.equal(resolveConfig({ timeoutMillis: 10_000, exportTimeoutMillis: 300 }, KEY).config.delivery.sendTimeoutMillis, 270);
    assert.equal(
      resolveConfig({}, { ...KEY, POSTHOG_OTEL_TIMEOUT: '2000', OTEL_BLRP_EXPORT_TIMEOUT: '60000' }).config.delivery.sendTimeoutMillis,
      2_000,
    );
  });

  test('the spool section exists only with a directory; a bad spoolMaxBytes warns without one', () => {
    assert.equal(resolveConfig({ spoolMaxBytes: 1024 }, KEY).config.spool, undefined);
    assert.deepEqual(resolveConfig({ spoolDir: ' spool/ph ', spoolMaxBytes: 1024 }, KEY).config.spool, { dir: 'spool/ph', maxBytes: 1024 });
    const bad = resolveConfig({ spoolMaxBytes: 0 }, KEY);
    assert.equal(bad.config.spool, undefined);
    assert.deepEqual(bad.warnings, ['spoolMaxBytes is ignored: expected a number from 1 to 9007199254740991, got 0.']);
  });
});

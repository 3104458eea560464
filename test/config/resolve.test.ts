import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../src/config/resolve.ts';

const KEY = 'phc_resolveTestKey123';

test('a header whose name is not valid is left out with a warning that never echoes the name', () => {
  // A whole `Name: value` line pasted as the name, with the project key or a proxy secret in it.
  for (const name of [`Authorization: Bearer ${KEY}`, 'x proxy s3cr3tInTheName', `${KEY}\n`]) {
    const r = resolveConfig({ headers: { [name]: 'v', 'x-fine': 'ok' } }, { POSTHOG_API_KEY: KEY });
    assert.deepEqual(r.config.headers, { 'x-fine': 'ok' });
    assert.equal(r.warnings.length, 1, r.warnings.join('\n'));
    assert.match(r.warnings[0]!, /^headers: a header whose name is not a valid HTTP header name \(\d+ characters\) is ignored\.$/);
    for (const secret of [KEY, 's3cr3t', 'Bearer']) assert.ok(!r.warnings[0]!.includes(secret), r.warnings[0]);
  }
});

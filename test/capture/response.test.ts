// Unit tests of reading the server's answers: per-event results of a 2xx, and messages of errors.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorMessageFromBody, parseSuccessBody } from '../../src/capture/response.ts';

describe('response parsing', () => {
  test('results are read per uuid, lower-cased, odd entries skipped', () => {
    const parsed = parseSuccessBody(
      JSON.stringify({ results: { 'AA-1': { result: 'ok' }, b: { result: 'drop', details: 'x' }, c: 5, d: { result: 7 } } }),
    );
    assert.ok(parsed.ok);
    assert.deepEqual(
      [...parsed.results],
      [
        ['aa-1', { result: 'ok' }],
        ['b', { result: 'drop', details: 'x' }],
      ],
    );
  });
  test('malformed successes, each with the reason it gives', () => {
    const cases: Array<[string, string]> = [
      ['', 'response body is not JSON'],
      ['not json', 'response body is not JSON'],
      ['<html>ok</html>', 'response body is not JSON'],
      ['[]', 'response body is not a JSON object'],
      ['null', 'response body is not a JSON object'],
      ['"ok"', 'response body is not a JSON object'],
      ['{}', 'response has no results object'],
      ['{"results":[]}', 'response has no results object'],
      ['{"results":"ok"}', 'response has no results object'],
      ['{"results":null}', 'response has no results object'],
    ];
    for (const [body, reason] of cases) assert.deepEqual(parseSuccessBody(body), { ok: false, reason }, body);
  });
  test('error bodies give a short printable message or nothing', () => {
    assert.equal(errorMessageFromBody('{"error":"rate_limited","error_description":"slow down"}'), 'slow down');
    assert.equal(errorMessageFromBody('{"error":"billing_limit_exceeded"}'), 'billing_limit_exceeded');
    assert.equal(errorMessageFromBody('<html>'), undefined);
    assert.equal(errorMessageFromBody('{"error":5}'), undefined);
    const long = errorMessageFromBody(JSON.stringify({ error: 'a\nb' + 'x'.repeat(5000) }))!;
    assert.ok(long.length <= 301 && !long.includes('\n'));
  });
});

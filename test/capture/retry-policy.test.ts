import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isRetryableStatus, parseRetryAfter, retryDelay } from '../../src/capture/retry-policy.ts';

const settings = { initialDelayMillis: 100, maxDelayMillis: 30_000 };
const noJitter = (): number => 0;
const fullJitter = (): number => 0.999999;

describe('status classification', () => {
  for (const status of [408, 500, 502, 503, 504]) {
    test(`${status} is retried`, () => assert.equal(isRetryableStatus(status), true));
  }
  for (const status of [400, 401, 402, 403, 404, 413, 415, 429, 501, 505, 302]) {
    test(`${status} is terminal`, () => assert.equal(isRetryableStatus(status), false));
  }
});

describe('retryDelay', () => {
  test('doubles from the initial delay', () => {
    assert.deepEqual(
      [2, 3, 4, 5].map((n) => retryDelay(n, settings, undefined, noJitter)),
      [100, 200, 400, 800],
    );
  });
  test('adds at most 25 % jitter', () => {
    const d = retryDelay(3, settings, undefined, fullJitter);
    assert.ok(d > 200 && d < 250, String(d));
  });
  test('is capped at the maximum, jitter included', () => {
    assert.equal(retryDelay(40, settings, undefined, fullJitter), 30_000);
    assert.equal(retryDelay(1000, settings, undefined, noJitter), 30_000);
  });
  test('Retry-After is a floor, not a replacement', () => {
    assert.equal(retryDelay(2, settings, 3_000, noJitter), 3_000);
    assert.equal(retryDelay(5, settings, 10, noJitter), 800);
  });
  test('Retry-After is clamped to the maximum', () => {
    assert.equal(retryDelay(2, settings, 3_600_000, noJitter), 30_000);
    assert.equal(retryDelay(2, { initialDelayMillis: 100, maxDelayMillis: 2_000 }, 3_600_000, noJitter), 2_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);
  test('delta seconds, whole and fractional', () => {
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter(' 1.5 ', now), 1500);
    assert.equal(parseRetryAfter(['2', '9'], now), 2000);
  });
  test('HTTP-date in the future', () => {
    assert.equal(parseRetryAfter(new Date(now + 7000).toUTCString(), now), 7000);
  });
  test('hostile and meaningless values give no floor', () => {
    for (const value of [
      undefined,
      '',
      '  ',
      '0',
      '-1',
      '-5',
      'abc',
      'soon',
      'NaN',
      'Infinity',
      '1e9',
      '0x10',
      new Date(now - 5000).toUTCString(),
      'x'.repeat(10_000),
      '\u0000',
    ]) {
      assert.equal(parseRetryAfter(value, now), undefined, String(value).slice(0, 40));
    }
  });
  test('a huge delta parses and is left to the cap', () => {
    assert.equal(parseRetryAfter('999999999', now), 999_999_999_000);
    assert.equal(retryDelay(2, settings, parseRetryAfter('999999999', now), noJitter), 30_000);
  });
});

describe('parseRetryAfter date forms', () => {
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);
  test('the three RFC 9110 forms, all read as UTC whatever the local time zone', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    try {
      assert.equal(parseRetryAfter('Sun, 22 Nov 2026 12:00:07 GMT', now), 7000);
      assert.equal(parseRetryAfter('Sunday, 22-Nov-26 12:00:07 GMT', now), 7000);
      assert.equal(parseRetryAfter('Sun Nov 22 12:00:07 2026', now), 7000);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
  test('other text that Date.parse would accept is not a date here', () => {
    for (const value of ['later 2099', 'a 9999', 'May 3000', '2026-11-22T12:00:07Z', 'Sun, 22 Nov 2026 12:00:07']) {
      assert.equal(parseRetryAfter(value, now), undefined, value);
    }
  });
});

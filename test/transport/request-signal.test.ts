// Unit tests of a request's abort signal: it fires on the caller's abort or on its own timeout,
// says which, and once released holds nothing on the caller's long-lived signal.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestSignal } from '../../src/transport/request-signal.ts';

describe('requestSignal', () => {
  test("the caller's abort aborts the request, with the caller's reason, and is not a timeout", () => {
    const outer = new AbortController();
    const request = requestSignal(60_000, outer.signal);
    assert.equal(request.signal.aborted, false);
    outer.abort('deadline');
    assert.equal(request.signal.aborted, true);
    assert.equal(request.signal.reason, 'deadline');
    assert.equal(request.timedOut, false);
    request.release();
  });

  test('an already aborted caller signal aborts the request at once', () => {
    const outer = new AbortController();
    outer.abort('shutdown');
    const request = requestSignal(60_000, outer.signal);
    assert.equal(request.signal.aborted, true);
    assert.equal(request.signal.reason, 'shutdown');
    request.release();
  });

  test('the timeout aborts the request with a TimeoutError and says so', async () => {
    const request = requestSignal(1);
    await sleep(30);
    assert.equal(request.timedOut, true);
    assert.equal(request.signal.aborted, true);
    assert.equal((request.signal.reason as DOMException).name, 'TimeoutError');
    request.release();
  });

  test('release stops the timer and removes the listener from the caller signal', async () => {
    const outer = new AbortController();
    const requests = Array.from({ length: 100 }, () => requestSignal(5, outer.signal));
    assert.equal(getEventListeners(outer.signal, 'abort').length, 100);
    for (const request of requests) request.release();
    assert.equal(getEventListeners(outer.signal, 'abort').length, 0);
    await sleep(30);
    assert.ok(requests.every((request) => !request.signal.aborted && !request.timedOut));
    // The caller's signal aborting later reaches none of them.
    outer.abort('deadline');
    assert.ok(requests.every((request) => !request.signal.aborted));
  });
});

// describeFailure and describeDuration: a failure in a few words with its code, a duration for people.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeDuration, describeFailure } from '../../src/diagnostics/failure-text.ts';

test('each kind of failure in words, with the code that says which', () => {
  assert.equal(describeFailure({ kind: 'refused', code: 'ECONNREFUSED' }), 'connection refused (ECONNREFUSED)');
  assert.equal(describeFailure({ kind: 'refused', code: 'EHOSTUNREACH' }), 'host unreachable (EHOSTUNREACH)');
  assert.equal(describeFailure({ kind: 'dns', code: 'ENOTFOUND' }), 'host name not found (DNS ENOTFOUND)');
  assert.equal(describeFailure({ kind: 'dns', code: 'EAI_FAIL' }), 'host name not found (DNS EAI_FAIL)');
  assert.equal(describeFailure({ kind: 'tls', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'TLS failed (DEPTH_ZERO_SELF_SIGNED_CERT)');
  assert.equal(describeFailure({ kind: 'timeout' }), 'no answer in time (timeout)');
  assert.equal(describeFailure({ kind: 'timeout', code: 'UND_ERR_CONNECT_TIMEOUT' }), 'no connection in time (timeout)');
  assert.equal(describeFailure({ kind: 'network', code: 'ECONNRESET' }), 'connection reset (ECONNRESET)');
  assert.equal(describeFailure({ kind: 'network', code: 'EWHATEVER' }), 'network error (EWHATEVER)');
  assert.equal(describeFailure({ kind: 'network' }), 'network error');
  assert.equal(describeFailure({ kind: 'status', status: 503 }), 'HTTP 503');
  assert.equal(describeFailure({ kind: 'status', status: 200 }), 'PostHog answered HTTP 200 and asked for the events again');
});

test('durations: milliseconds, seconds, minutes, hours', () => {
  assert.equal(describeDuration(850), '850 ms');
  assert.equal(describeDuration(42_400), '42 s');
  assert.equal(describeDuration(200_000), '3 min 20 s');
  assert.equal(describeDuration(7_500_000), '2 h 5 min');
  assert.equal(describeDuration(-5), '0 ms');
});

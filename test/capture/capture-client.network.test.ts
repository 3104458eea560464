// The capture client when the network fails: resets, refused connections, servers that never
// answer or answer too slowly, and failFast once PostHog is unreachable.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureClient } from '../../src/capture/capture-client.ts';
import { makeEvents } from '../support/capture-events.ts';
import { InstantClock } from '../support/clocks.ts';
import {
  accepted,
  assertAccounted,
  CLIENT_SETTINGS,
  far,
  header,
  headersOf,
  outcome,
  refusedUrl,
  request,
  SDK_INFO,
  setup,
} from '../support/capture-client.ts';

describe('network faults', () => {
  test('a connection reset is retried, then succeeds', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ reset: true });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(
      server.requests.map((r) => r.responseStatus),
      [0, 200],
    );
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '2']);
    assert.equal(header(request(server, 1), 'posthog-request-id'), header(request(server, 0), 'posthog-request-id'));
    assert.deepEqual(clock.sleeps, [100]);
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 2, retries: 1 });
    assertAccounted(report, events, accepted(server));
  });

  test('connection refused is retried until retry_exhausted', async (t) => {
    const host = await refusedUrl();
    const clock = new InstantClock();
    const client = new CaptureClient({ ...CLIENT_SETTINGS, host, apiKey: 'phc_test_key', sdkInfo: SDK_INFO, clock, random: () => 0 });
    t.after(() => client.close());
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(clock.sleeps, [100, 200, 400]);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: events.map((event) => ({ event, reason: 'retry_exhausted', details: 'request failed (ECONNREFUSED)', attempts: 4 })),
      deferred: [],
      requests: 4,
      retries: 3,
    });
    assertAccounted(report, events, []);
  });

  test('a server that never answers times out after requestTimeoutMillis and is retried', async (t) => {
    const { server, client, clock } = await setup(t, { requestTimeoutMillis: 100 });
    server.script({ hang: true });
    const events = makeEvents(2);
    const started = performance.now();
    const report = await client.send(events, { deadline: far(clock) });
    const elapsed = performance.now() - started;

    assert.ok(elapsed >= 90 && elapsed < 1000, `took ${elapsed} ms`);
    assert.deepEqual(
      server.requests.map((r) => r.responseStatus),
      [0, 200],
    );
    assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '2']);
    assert.deepEqual(clock.sleeps, [100]);
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 2, retries: 1 });
    assertAccounted(report, events, accepted(server));
  });

  test('timing out on every attempt ends in retry_exhausted "request timed out"', async (t) => {
    const { server, client, clock } = await setup(t, { requestTimeoutMillis: 60, maxAttempts: 2 });
    server.setDefault({ hang: true });
    const events = makeEvents(1);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 2);
    assert.deepEqual(clock.sleeps, [100]);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      // The timeouts are real time; the InstantClock only moves with the 100 ms sleep. Next would be attempt 3: 200 ms.
      rejected: [{ event: events[0], reason: 'retry_exhausted', details: 'request timed out', attempts: 2 }],
      deferred: [],
      requests: 2,
      retries: 1,
    });
    assertAccounted(report, events, []);
  });

  test('a response body that trickles past requestTimeoutMillis is a timeout, retried', async (t) => {
    const { server, client, clock } = await setup(t, { requestTimeoutMillis: 100 });
    server.script({ trickle: { chunkBytes: 1, intervalMs: 30, totalBytes: 10_000 } });
    const events = makeEvents(1);
    const started = performance.now();
    const report = await client.send(events, { deadline: far(clock) });
    const elapsed = performance.now() - started;

    assert.ok(elapsed >= 90 && elapsed < 1000, `took ${elapsed} ms`);
    assert.equal(server.requests.length, 2);
    assert.deepEqual(clock.sleeps, [100]);
    assert.deepEqual(outcome(report), { delivered: 1, rejected: [], deferred: [], requests: 2, retries: 1 });
    assertAccounted(report, events, [events[0]!.uuid]);
  });
});

describe('failFast: a send stops once PostHog is unreachable', () => {
  test('connection refused with failFast: one attempt, the rest deferred without waiting', async (t) => {
    const host = await refusedUrl();
    const clock = new InstantClock();
    const client = new CaptureClient({
      ...CLIENT_SETTINGS,
      host,
      apiKey: 'phc_test_key',
      sdkInfo: SDK_INFO,
      clock,
      random: () => 0,
      maxEventsPerRequest: 2,
      maxConcurrentRequests: 1,
    });
    t.after(() => client.close());
    const events = makeEvents(6);
    const report = await client.send(events, { deadline: far(clock), failFast: true });

    assert.deepEqual(clock.sleeps, []);
    assert.equal(report.requests, 1, 'the first request found the port closed; the other two were not tried');
    assert.deepEqual(
      report.deferred.map((d) => [d.attempt, d.events.length]),
      [
        [1, 2],
        [0, 2],
        [0, 2],
      ],
    );
    assert.deepEqual(report.lastFailure, { kind: 'refused', code: 'ECONNREFUSED' });
    assertAccounted(report, events, []);
  });

  test('without failFast a refused connection is retried in place as before', async (t) => {
    const host = await refusedUrl();
    const clock = new InstantClock();
    const client = new CaptureClient({
      ...CLIENT_SETTINGS,
      host,
      apiKey: 'phc_test_key',
      sdkInfo: SDK_INFO,
      clock,
      random: () => 0,
      maxAttempts: 3,
    });
    t.after(() => client.close());
    const report = await client.send(makeEvents(1), { deadline: far(clock) });
    assert.equal(report.requests, 3);
    assert.deepEqual(clock.sleeps, [100, 200]);
  });

  test('a 503 is not unreachable: failFast leaves its in-place retries alone', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ status: 503, headers: {} });
    const report = await client.send(makeEvents(1), { deadline: far(clock), failFast: true });
    assert.deepEqual(outcome(report), { delivered: 1, rejected: [], deferred: [], requests: 2, retries: 1 });
    assert.deepEqual(clock.sleeps, [100]);
  });
});

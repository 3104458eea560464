// How the capture client treats each answer of the server: which statuses are retried, which are
// terminal and with what reason, and 2xx answers whose body cannot be read.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEvents } from '../support/capture-events.ts';
import { accepted, assertAccounted, far, header, headersOf, outcome, request, setup } from '../support/capture-client.ts';

describe('status codes', () => {
  for (const status of [408, 500, 502, 503, 504]) {
    test(`${status} is retried until success`, async (t) => {
      const { server, client, clock } = await setup(t);
      server.script({ status });
      const events = makeEvents(3);
      const report = await client.send(events, { deadline: far(clock) });

      assert.deepEqual(
        server.requests.map((r) => r.responseStatus),
        [status, 200],
      );
      assert.deepEqual(headersOf(server, 'posthog-attempt'), ['1', '2']);
      assert.equal(header(request(server, 1), 'posthog-request-id'), header(request(server, 0), 'posthog-request-id'));
      assert.deepEqual(request(server, 1).events, events);
      assert.deepEqual(clock.sleeps, [100]);
      assert.deepEqual(outcome(report), { delivered: 3, rejected: [], deferred: [], requests: 2, retries: 1 });
      assertAccounted(report, events, accepted(server));
    });
  }

  for (const status of [400, 401, 402, 403, 404, 415, 429, 501, 505]) {
    test(`${status} is terminal after one request: status_${status}`, async (t) => {
      // A 415 on a zstd body is the one exception (a gzip resend, tested below), so this one sends gzip.
      const { server, client, clock } = await setup(t, status === 415 ? { compression: 'gzip' } : {});
      // 429 carries Retry-After on the real server; it is still terminal in v1.
      server.script(status === 429 ? { status, headers: { 'retry-after': '1' } } : { status });
      const events = makeEvents(2);
      const report = await client.send(events, { deadline: far(clock) });

      assert.equal(server.requests.length, 1);
      assert.equal(request(server, 0).responseStatus, status);
      assert.deepEqual(clock.sleeps, []);
      const details = `HTTP ${status}: scripted ${status} response`;
      assert.deepEqual(outcome(report), {
        delivered: 0,
        rejected: events.map((event) => ({ event, reason: `status_${status}`, details, attempts: 1 })),
        deferred: [],
        requests: 1,
        retries: 0,
      });
      assertAccounted(report, events, []);
    });
  }

  test('413 on a single event is terminal: too_large', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ status: 413 });
    const events = makeEvents(1);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 1);
    assert.deepEqual(clock.sleeps, []);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: [{ event: events[0], reason: 'too_large', details: 'HTTP 413: scripted 413 response', attempts: 1 }],
      deferred: [],
      requests: 1,
      retries: 0,
    });
    assertAccounted(report, events, []);
  });

  test('a long server message is cut at a word: a key it echoes near the cut is left out whole, not half', async (t) => {
    const { server, client, clock } = await setup(t);
    // The key starts just before the 300-character cut: a plain cut would keep its first half.
    const message = `${'word '.repeat(58)}token phc_echoedSecretKey123456 and more text after it`;
    server.script({ status: 400, body: JSON.stringify({ error_description: message }) });
    const report = await client.send(makeEvents(1), { deadline: far(clock) });
    const details = report.rejected[0]!.details!;
    assert.ok(details.endsWith(' token…'), details);
    assert.ok(!details.includes('phc_'), details);
    assert.ok(details.length < 320, `${details.length}`);
  });

  test('a real 401 from the server (wrong key) carries its error_description', async (t) => {
    const { server, client, clock } = await setup(t, { apiKey: 'phc_wrong_key' });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 1);
    assert.deepEqual(request(server, 0).validation, {
      ok: false,
      status: 401,
      error: 'invalid_api_token',
      description: 'invalid project API token',
    });
    assert.deepEqual(
      report.rejected.map((d) => [d.reason, d.details, d.attempts]),
      events.map(() => ['status_401', 'HTTP 401: invalid project API token', 1]),
    );
    assertAccounted(report, events, []);
  });

  test('an error body that is not JSON gives details without a message', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ status: 400, body: '<html>bad gateway</html>' });
    const events = makeEvents(1);
    const report = await client.send(events, { deadline: far(clock) });

    assert.deepEqual(report.rejected, [{ event: events[0], reason: 'status_400', details: 'HTTP 400', attempts: 1 }]);
    assert.equal(report.requests, 1);
    assertAccounted(report, events, []);
  });

  test('a 202 is a success like 200', async (t) => {
    const { server, client, clock } = await setup(t);
    server.script({ status: 202 });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });
    assert.deepEqual(outcome(report), { delivered: 2, rejected: [], deferred: [], requests: 1, retries: 0 });
    assertAccounted(report, events, accepted(server));
  });
});

describe('malformed 2xx: terminal, never looped', () => {
  // Which bodies are malformed, and why, is unit-tested in response.test.ts; these show the client's handling.
  const cases: { name: string; status?: number; body: string; reason: string }[] = [
    { name: 'not JSON', body: 'this is not json', reason: 'response body is not JSON' },
    { name: '{} (no results)', body: '{}', reason: 'response has no results object' },
    { name: 'an empty 204', status: 204, body: '', reason: 'response body is not JSON' },
  ];
  for (const c of cases) {
    test(`a 2xx whose body is ${c.name} → malformed_response after one request`, async (t) => {
      const { server, client, clock } = await setup(t);
      const status = c.status ?? 200;
      server.script({ status, body: c.body });
      const events = makeEvents(2);
      const report = await client.send(events, { deadline: far(clock) });

      assert.equal(server.requests.length, 1);
      assert.deepEqual(clock.sleeps, []);
      assert.deepEqual(outcome(report), {
        delivered: 0,
        rejected: events.map((event) => ({ event, reason: 'malformed_response', details: `HTTP ${status}: ${c.reason}`, attempts: 1 })),
        deferred: [],
        requests: 1,
        retries: 0,
      });
      assertAccounted(report, events, []);
    });
  }

  test('a 2xx body larger than maxResponseBytes → malformed_response; the client keeps working', async (t) => {
    const { server, client, clock } = await setup(t, { maxResponseBytes: 4096 });
    server.script({ oversizedBodyBytes: 512 * 1024 });
    const events = makeEvents(2);
    const report = await client.send(events, { deadline: far(clock) });

    assert.equal(server.requests.length, 1);
    assert.deepEqual(clock.sleeps, []);
    assert.deepEqual(outcome(report), {
      delivered: 0,
      rejected: events.map((event) => ({ event, reason: 'malformed_response', details: 'HTTP 200: response body too large', attempts: 1 })),
      deferred: [],
      requests: 1,
      retries: 0,
    });
    assertAccounted(report, events, []);

    const next = makeEvents(1);
    const nextReport = await client.send(next, { deadline: far(clock) });
    assert.deepEqual(outcome(nextReport), { delivered: 1, rejected: [], deferred: [], requests: 1, retries: 0 });
    assert.equal(server.requests.length, 2);
    assertAccounted(nextReport, next, [next[0]!.uuid]);
  });
});

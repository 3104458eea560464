// The fake capture server's scripted answers (statuses, results, Retry-After, malformed bodies,
// delays, resets, trickles) and its lifecycle.

import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { FakeCaptureServer, isRfc3339 } from './fake-capture-server.ts';
import { makeBody, makeEvent, send } from './fake-server-requests.ts';

describe('scripted responses', () => {
  let server: FakeCaptureServer;
  before(async () => {
    server = await FakeCaptureServer.start();
  });
  after(() => server.close());
  beforeEach(() => server.reset());

  test('are consumed in order, then the default answers', async () => {
    server.script({ status: 503, headers: { 'retry-after': '2' } }, { status: 500 });
    server.setDefault({ status: 202 });
    const first = await send(server);
    assert.equal(first.status, 503);
    assert.equal(first.headers.get('retry-after'), '2');
    assert.equal(((await first.json()) as { error: string }).error, 'service_unavailable');
    const invalid = await send(server, { headers: { authorization: undefined } });
    assert.equal(invalid.status, 401);
    assert.equal((await send(server)).status, 500);
    assert.equal((await send(server)).status, 202);
    assert.equal((await send(server)).status, 202);
    assert.deepEqual(
      server.requests.map((r) => r.responseStatus),
      [503, 401, 500, 202, 202],
    );
    assert.equal(server.acceptedEvents().length, 2);
  });

  test('results overrides, defaultResult, omitUuids and Retry-After', async () => {
    const events = [makeEvent(), makeEvent(), makeEvent(), makeEvent()];
    const [a, b, c, d] = events.map((e) => e.uuid) as [string, string, string, string];
    server.script({
      results: { [a]: { result: 'retry', details: 'not_persisted' }, [b]: { result: 'drop', details: 'rejected' } },
      defaultResult: 'warning',
      omitUuids: [d],
    });
    const res = await send(server, { body: makeBody(events) });
    assert.equal(res.headers.get('retry-after'), '1');
    assert.deepEqual(await res.json(), {
      results: {
        [a]: { result: 'retry', details: 'not_persisted' },
        [b]: { result: 'drop', details: 'rejected' },
        [c]: { result: 'warning' },
      },
    });
    assert.deepEqual(
      server.acceptedEvents().map((e) => e.uuid),
      [c, d],
    );
  });

  test('function results get the events; own headers suppress Retry-After', async () => {
    const events = [makeEvent(), makeEvent()];
    let seen: CaptureEvent[] = [];
    server.script({
      headers: {},
      results: (batch) => {
        seen = batch;
        return { [batch[0]!.uuid]: { result: 'retry' } };
      },
    });
    const res = await send(server, { body: makeBody(events) });
    assert.deepEqual(seen, events);
    assert.equal(res.headers.get('retry-after'), null);
    assert.deepEqual(((await res.json()) as { results: Record<string, unknown> }).results[events[0]!.uuid], { result: 'retry' });
  });

  test('malformed body replaces the generated one', async () => {
    server.script({ body: 'not json{' });
    const res = await send(server);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'not json{');
  });

  test('delayMs waits before answering', async () => {
    server.script({ delayMs: 150 });
    const started = Date.now();
    const res = await send(server);
    assert.equal(res.status, 200);
    assert.ok(Date.now() - started >= 140);
  });

  test('reset destroys the socket and fetch rejects', async () => {
    server.script({ reset: true });
    await assert.rejects(send(server), TypeError);
    assert.equal(server.requests[0]?.responseStatus, 0);
    assert.equal(server.requests[0]?.events.length, 1);
    assert.deepEqual(server.acceptedEvents(), []);
    assert.equal((await send(server)).status, 200);
  });

  test('trickle sends headers first, then the body slowly', async () => {
    server.script({ trickle: { chunkBytes: 20, intervalMs: 20, totalBytes: 200 } });
    const started = Date.now();
    const res = await send(server);
    const headersAfter = Date.now() - started;
    assert.equal(res.status, 200);
    const text = await res.text();
    const total = Date.now() - started;
    assert.equal(Buffer.byteLength(text), 200);
    assert.ok(JSON.parse(text).results);
    assert.ok(headersAfter < 150, `headers after ${headersAfter} ms`);
    assert.ok(total >= 150, `body after ${total} ms`);
  });

  test('oversizedBodyBytes streams a body of that size', async () => {
    const size = 12 * 1024 * 1024 + 3;
    server.script({ oversizedBodyBytes: size });
    const res = await send(server);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(size));
    let received = 0;
    let head = '';
    for await (const chunk of res.body!) {
      if (head.length < 10) head += Buffer.from(chunk).toString('utf8', 0, 10);
      received += chunk.byteLength;
    }
    assert.equal(received, size);
    assert.ok(head.startsWith('{"results"'));
  });

  test('acceptedEvents dedupes by uuid across retries', async () => {
    const events = [makeEvent(), makeEvent()];
    server.script({ results: { [events[1]!.uuid]: { result: 'retry' } } });
    await send(server, { body: makeBody(events) });
    await send(server, { body: makeBody([events[1]]) });
    await send(server, { body: makeBody(events) });
    assert.deepEqual(server.acceptedEvents(), events);
  });
});

describe('lifecycle', () => {
  test('hang keeps the request open until close(), which does not hang', async () => {
    const server = await FakeCaptureServer.start();
    server.script({ hang: true });
    const pending = send(server);
    pending.catch(() => {});
    const [req] = await server.waitForRequests(1, 1000);
    assert.equal(req?.responseStatus, 0);
    const started = Date.now();
    await server.close();
    assert.ok(Date.now() - started < 500);
    await assert.rejects(pending);
  });

  test('close() cancels a pending delay and waiters', async () => {
    const server = await FakeCaptureServer.start();
    server.script({ delayMs: 10_000 });
    const pending = send(server);
    pending.catch(() => {});
    await server.waitForRequests(1);
    const waiting = server.waitForRequests(5);
    await server.close();
    await assert.rejects(waiting, /closed/);
    await assert.rejects(pending);
    await server.close();
  });

  test('waitForRequests resolves once n requests arrived, or times out', async () => {
    const server = await FakeCaptureServer.start();
    try {
      const waiting = server.waitForRequests(2, 2000);
      await send(server);
      await send(server);
      const requests = await waiting;
      assert.equal(requests.length, 2);
      assert.equal((await server.waitForRequests(1)).length, 2);
      await assert.rejects(server.waitForRequests(3, 50), /expected 3 request\(s\) within 50 ms, got 2/);
    } finally {
      await server.close();
    }
  });

  test('reset() clears requests, script and default', async () => {
    const server = await FakeCaptureServer.start();
    try {
      const requests = server.requests;
      server.setDefault({ status: 500 });
      server.script({ status: 503 });
      await send(server);
      server.reset();
      assert.equal(requests.length, 0);
      assert.equal(server.pendingScript, 0);
      assert.equal((await send(server)).status, 200);
      assert.equal(server.requests, requests);
    } finally {
      await server.close();
    }
  });
});

test('isRfc3339', () => {
  for (const ok of ['2026-05-28T15:00:00Z', '2026-05-28T15:00:00.123456+00:00', '2026-05-28t15:00:00.1z', '2024-02-29T23:59:59-05:30']) {
    assert.ok(isRfc3339(ok), ok);
  }
  for (const bad of [
    '2026-05-28 15:00:00Z',
    '2026-05-28T15:00:00',
    '2026-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-05-28T24:00:00Z',
    '2026-05-28T15:00:00+25:00',
    '',
  ]) {
    assert.ok(!isRfc3339(bad), bad);
  }
});

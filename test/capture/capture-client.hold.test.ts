// CaptureClient.hold: the requests `send` would make, made and not sent. Each comes back deferred as
// a request never sent (attempt 0, no event has used an attempt), events no request may carry come
// back rejected as `send` rejects them, and a held request sent later goes out as attempt 1 under
// the id and created_at it was given when held. Real HTTP against the fake capture server.

import { CLIENT_DEFAULTS } from '../../src/config/defaults.ts';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureClient } from '../../src/capture/capture-client.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';
import { FakeCaptureServer } from '../support/fake-capture-server.ts';
import { InstantClock } from '../support/clocks.ts';

function events(count: number, properties: Record<string, unknown> = {}): CaptureEvent[] {
  return Array.from({ length: count }, (_, n) => ({
    event: `held-${n}`,
    uuid: uuidv7(),
    distinct_id: 'd',
    timestamp: '2026-11-22T11:59:00.000Z',
    options: {},
    properties: { n, ...properties },
  }));
}

async function setup(
  t: TestContext,
  maxEventsPerRequest = 1_000,
): Promise<{ server: FakeCaptureServer; client: CaptureClient; clock: InstantClock }> {
  const server = await FakeCaptureServer.start();
  const clock = new InstantClock();
  const client = new CaptureClient({
    ...CLIENT_DEFAULTS,
    maxAttempts: 4,
    retryInitialDelayMillis: 100,
    host: server.url,
    apiKey: server.apiKey,
    sdkInfo: 'test/1.0.0',
    compression: 'none',
    clock,
    random: () => 0,
    maxEventsPerRequest,
  });
  t.after(async () => {
    await client.close();
    await server.close();
  });
  return { server, client, clock };
}

test('hold sends nothing: one request per batch, never sent, every event with no attempt used', async (t) => {
  const { server, client, clock } = await setup(t, 3);
  const batch = events(7);
  const report = await client.hold(batch, {});
  assert.equal(server.requests.length, 0);
  assert.deepEqual(
    { delivered: report.delivered, requests: report.requests, retries: report.retries, rejected: report.rejected.length },
    { delivered: 0, requests: 0, retries: 0, rejected: 0 },
  );
  assert.deepEqual(
    report.deferred.map((request) => request.events.length),
    [3, 3, 1],
  );
  for (const request of report.deferred) {
    assert.equal(request.attempt, 0);
    assert.equal(request.notBefore, clock.now());
    assert.equal(request.reasonIfDropped, 'deadline');
    assert.ok(request.events.every((item) => item.attempts === 0));
  }
  assert.equal(new Set(report.deferred.map((request) => request.identity.requestId)).size, 3, 'a request id each');
  assert.deepEqual(
    report.deferred.flatMap((request) => request.events.map((item) => item.event.uuid)),
    batch.map((event) => event.uuid),
  );
});

test('hold rejects what send would reject, before any request: a duplicate uuid, a too large event', async (t) => {
  const { server, client } = await setup(t);
  const [first, second] = events(2);
  const huge = events(1, { blob: 'x'.repeat(1024 * 1024) })[0]!;
  const report = await client.hold([first!, { ...second!, uuid: first!.uuid }, huge], {});
  assert.equal(server.requests.length, 0);
  assert.deepEqual(report.rejected.map((rejected) => [rejected.event.event, rejected.reason, rejected.attempts]).sort(), [
    ['held-0', 'too_large', 0],
    ['held-1', 'invalid', 0],
  ]);
  assert.deepEqual(
    report.deferred.map((request) => request.events.map((item) => item.event.event)),
    [['held-0']],
  );
});

test('a held request sent later goes as attempt 1, under the request id and created_at it was held with', async (t) => {
  const { server, client, clock } = await setup(t);
  const report = await client.hold(events(2), {});
  const held = report.deferred[0]!;
  clock.advance(60_000);
  const sent = await client.resend(held, { deadline: clock.now() + 10_000 });
  assert.equal(sent.delivered, 2);
  const [request] = server.requests;
  assert.equal(request!.headers['posthog-attempt'], '1');
  assert.equal(request!.headers['posthog-request-id'], held.identity.requestId);
  assert.equal((request!.decodedBody as { created_at: string }).created_at, held.identity.createdAt);
  assert.equal(sent.retries, 0, 'its first attempt is no retry');
});

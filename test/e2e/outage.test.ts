// An outage end to end: a real LoggerProvider and PostHogLogRecordProcessor against the fake capture
// server (real HTTP on 127.0.0.1), with delays scaled down so the backoff reaches its cap within the
// test. While the server answers 503 (or the port refuses connections), records keep arriving in
// many batches; the requests that reach the server follow the outage's backoff, not the number of
// batches, and once PostHog is back everything held is delivered exactly once.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { assertIdentity, assertStoredOnce } from '../support/accounting.ts';
import { guardProcess, waitFor } from '../support/host-process.ts';
import { startFastPipeline, type Pipeline } from '../support/pipeline.ts';

/** Initial delay 50 ms, cap 200 ms: the outage's probes are at least 50 ms apart, then 200 ms. */
const OPTIONS = {
  maxAttempts: 1_000,
  retryInitialDelayMillis: 50,
  retryMaxDelayMillis: 200,
  timeoutMillis: 1_000,
  flushTimeoutMillis: 1_000,
  scheduledDelayMillis: 10,
  maxExportBatchSize: 10,
};

/** Emits 10 records every 10 ms for `millis`; resolves to the number emitted. */
async function steadyLoad(rig: Pipeline, millis: number): Promise<number> {
  let emitted = 0;
  const end = performance.now() + millis;
  while (performance.now() < end) {
    rig.emit(10, `load-${emitted}`);
    emitted += 10;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return emitted;
}

describe('an outage end to end', () => {
  test('503 for 1.5 s under steady load: a handful of requests, not one per batch; all delivered once PostHog is back', async (t) => {
    const clean = guardProcess(t);
    const rig = await startFastPipeline(t, { options: OPTIONS });
    rig.server.setDefault({ status: 503, headers: {} });
    const emitted = await steadyLoad(rig, 1_500);
    await rig.settle();
    const batches = rig.processor.exporter.ledger.taken / OPTIONS.maxExportBatchSize;
    const during = rig.server.requests.length;
    const ids = new Set(rig.server.requests.map((r) => String(r.headers['posthog-request-id']))).size;
    t.diagnostic(`${during} requests under ${ids} request ids for ${batches} batches of the outage`);
    assert.ok(batches >= 50, `${batches} batches`);
    // The first batch retries in place for up to a second before the outage is known (at most 8
    // attempts at 50, 100, 200… ms); then probes at least 50 ms apart, 200 ms at the cap.
    assert.ok(during <= 8 + 1_500 / 50, `${during} requests during the outage, for ${batches} batches`);
    assert.ok(ids < batches / 4, `${ids} request ids went out for ${batches} batches`);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.ok(stats.retryBuffered > emitted / 2, `${stats.retryBuffered} of ${emitted} events wait`);
    assert.deepEqual({ status: stats.status, cause: stats.outage?.cause }, { status: 'outage', cause: { kind: 'status', status: 503 } });

    rig.server.setDefault({});
    await waitFor(() => rig.stats().pending === 0, 3_000, 'the next probe, then the rest');
    const after = rig.stats();
    assertIdentity(after);
    assert.equal(after.status, 'ok');
    assert.deepEqual(after.dropped, {});
    assert.equal(after.delivered, emitted);
    assert.equal(assertStoredOnce(rig.server).length, emitted);
    for (const request of rig.server.requests) assert.ok(request.validation.ok);
    clean();
  });

  test('connection refused under steady load: the request rate follows the backoff; nothing escapes', async (t) => {
    const clean = guardProcess(t);
    const server = createNetServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const rig = await startFastPipeline(t, { host: `http://127.0.0.1:${port}`, options: OPTIONS });
    const emitted = await steadyLoad(rig, 1_500);
    const stats = rig.stats();
    const batches = rig.processor.exporter.ledger.taken / OPTIONS.maxExportBatchSize;
    t.diagnostic(`${stats.requests} connection attempts for ${batches} batches`);
    assert.ok(batches >= 50, `${batches} batches`);
    assert.ok(stats.requests <= 8 + 1_500 / 50, `${stats.requests} connection attempts for ${batches} batches`);
    assertIdentity(stats);
    assert.equal(stats.pending + (stats.dropped.retry_buffer_full ?? 0), emitted);
    assert.equal(stats.status, 'outage');
    assert.deepEqual(stats.outage?.cause, { kind: 'refused', code: 'ECONNREFUSED' });
    clean();
  });
});

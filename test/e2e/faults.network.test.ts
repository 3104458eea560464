// Fault injection, the network: a closed port, an unknown host and a TLS server with a self-signed
// certificate, with the retry buffer off and on.
// Every scenario checks that nothing escapes into the host process (no throw, no unhandled
// rejection), that flush and shutdown end by their deadlines (wall time), and that
// `selected === delivered + sum(dropped) + pending` once a flush completes.

import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertIdentity } from '../support/accounting.ts';
import { guardProcess, waitFor } from '../support/host-process.ts';
import { startFastPipeline } from '../support/pipeline.ts';
import { closedPort } from '../support/closed-port.ts';

/** Slack over a deadline for timers, sockets and the event loop on a loaded 2-core machine. */
const SLACK_MS = 400;

/** A throwaway self-signed certificate for 127.0.0.1: made with openssl when it is there, else the committed fixture. */
function selfSignedCertificate(t: TestContext): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'posthog-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore', timeout: 10_000 },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    const fixtures = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
    return { key: readFileSync(join(fixtures, 'self-signed.key')), cert: readFileSync(join(fixtures, 'self-signed.crt')) };
  }
}

describe('network faults', () => {
  test('connection refused, retry buffer off: retried, then retry_exhausted; nothing escapes', async (t) => {
    const clean = guardProcess(t);
    const port = await closedPort();
    const rig = await startFastPipeline(t, { host: `http://127.0.0.1:${port}`, options: { maxAttempts: 3, retryBufferMaxEvents: 0 } });
    rig.emit(3, 'refused');
    const ms = await rig.timedFlush();
    assert.ok(ms < 1_000 + SLACK_MS);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { retry_exhausted: 3 });
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 3, retries: 2 });
    assert.equal(stats.pending, 0);
    const shutdownMs = await rig.shutdown();
    assert.ok(shutdownMs < 1_000 + SLACK_MS);
    const after = rig.stats();
    assertIdentity(after, 'after shutdown');
    assert.deepEqual(after.dropped, { retry_exhausted: 3 });
    assert.equal(after.requests, 3, 'nothing left to send at shutdown');
    clean();
  });

  test('connection refused, retry buffer on: the flush fails fast; the request is resent on its timer under its id until maxAttempts, then retry_exhausted', async (t) => {
    const clean = guardProcess(t);
    const port = await closedPort();
    const drops: Array<[string, number, string | undefined]> = [];
    const rig = await startFastPipeline(t, {
      host: `http://127.0.0.1:${port}`,
      options: {
        maxAttempts: 3,
        timeoutMillis: 2_000,
        flushTimeoutMillis: 5_000,
        onDrop: (events, reason, details) => drops.push([reason, events.length, details]),
      },
    });
    rig.emit(3, 'refused');
    const ms = await rig.timedFlush();
    // One refused connection ends the flush: it does not spin until its 5 s deadline.
    assert.ok(ms < 1_000, `flush took ${ms} ms`);
    const during = rig.stats();
    assertIdentity(during, 'after the flush');
    assert.deepEqual(
      { requests: during.requests, pending: during.pending, retryBuffered: during.retryBuffered },
      { requests: 1, pending: 3, retryBuffered: 3 },
    );
    // The timer resends the request (at least 100 ms apart) until three requests carried the events.
    await waitFor(() => rig.stats().pending === 0, 3_000, 'the attempts to run out');
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { retry_exhausted: 3 });
    assert.deepEqual(drops, [['retry_exhausted', 3, 'request failed (ECONNREFUSED)']]);
    // Three requests, two of them retries: all under one request id.
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 3, retries: 2 });
    const shutdownMs = await rig.shutdown();
    assert.ok(shutdownMs < 1_000 + SLACK_MS);
    assertIdentity(rig.stats(), 'after shutdown');
    assert.equal(rig.stats().requests, 3, 'nothing left to send at shutdown');
    clean();
  });

  test('connection refused under a short budget: events wait, then shutdown drops them as deadline', async (t) => {
    const clean = guardProcess(t);
    const port = await closedPort();
    const rig = await startFastPipeline(t, {
      host: `http://127.0.0.1:${port}`,
      options: { maxAttempts: 1_000, timeoutMillis: 100, flushTimeoutMillis: 200 },
    });
    rig.emit(3, 'refused');
    const ms = await rig.timedFlush();
    assert.ok(ms < 200 + SLACK_MS, `flush took ${ms} ms`);
    const during = rig.stats();
    assertIdentity(during);
    assert.equal(during.pending, 3);
    const shutdownMs = await rig.shutdown();
    assert.ok(shutdownMs < 200 + SLACK_MS, `shutdown took ${shutdownMs} ms`);
    const after = rig.stats();
    assertIdentity(after);
    assert.deepEqual(after.dropped, { deadline: 3 });
    assert.equal(after.pending, 0);
    clean();
  });

  test('DNS failure (does-not-exist.invalid), retry buffer off: retried, then retry_exhausted', async (t) => {
    const clean = guardProcess(t);
    // Retry buffer off: the events are given up on as soon as the export's attempts run out.
    const rig = await startFastPipeline(t, {
      host: 'http://does-not-exist.invalid',
      options: { maxAttempts: 2, timeoutMillis: 1_500, flushTimeoutMillis: 2_000, retryBufferMaxEvents: 0 },
    });
    rig.emit(2, 'nowhere');
    const ms = await rig.timedFlush();
    assert.ok(ms < 2_000 + SLACK_MS, `flush took ${ms} ms`);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { retry_exhausted: 2 });
    assert.equal(stats.pending, 0);
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 2, retries: 1 });
    const shutdownMs = await rig.shutdown();
    assert.ok(shutdownMs < 2_000 + SLACK_MS);
    assertIdentity(rig.stats(), 'after shutdown');
    clean();
  });

  test('TLS failure (self-signed certificate), retry buffer off: the handshake fails, is retried and counted, never crashes', async (t) => {
    const clean = guardProcess(t);
    const { key, cert } = selfSignedCertificate(t);
    let handshakeFailures = 0;
    let answered = 0;
    const https = createHttpsServer({ key, cert }, (_req, res) => {
      answered++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"results":{}}');
    });
    https.on('tlsClientError', () => handshakeFailures++);
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => https.close(() => resolve())));
    const { port } = https.address() as AddressInfo;

    // Retry buffer off, so the attempts (and handshakes) are exactly maxAttempts.
    const rig = await startFastPipeline(t, { host: `https://127.0.0.1:${port}`, options: { maxAttempts: 3, retryBufferMaxEvents: 0 } });
    rig.emit(2, 'tls');
    const ms = await rig.timedFlush();
    assert.ok(ms < 1_000 + SLACK_MS, `flush took ${ms} ms`);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { retry_exhausted: 2 });
    assert.deepEqual({ requests: stats.requests, retries: stats.retries }, { requests: 3, retries: 2 });
    assert.equal(answered, 0, 'no request got through the failed handshake');
    // The server hears of the client's refusal a moment after the client gave up.
    await waitFor(() => handshakeFailures >= 3, 2_000, 'three failed handshakes');
    assert.equal(handshakeFailures, 3, 'one failed handshake per attempt');
    clean();
  });
});

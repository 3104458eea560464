// The spool (`spoolDir` / `POSTHOG_OTEL_SPOOL_DIR`) across a crash: events that wait for retry
// survive it and are sent by the next process, each stored once, and only what is still undelivered
// is kept. The crash is real: a child process killed with SIGKILL.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';
import type { PostHogStats } from '../../src/delivery/ledger.ts';
import { FakeCaptureServer } from '../support/fake-capture-server.ts';
import { assertIdentity, names, storedOccurrences } from '../support/accounting.ts';
import { guardProcess, waitFor } from '../support/host-process.ts';
import { startFastPipeline } from '../support/pipeline.ts';
import { SPOOL_FILE, DEAD_PID, captureEvent, spoolBody, spooledEvents, tempDir } from '../support/spool-files.ts';

const SPOOL_CHILD = fileURLToPath(new URL('../fixtures/spool-child.ts', import.meta.url));

const SLACK_MS = 400;

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a fixture with this same node; killed if it outlives `timeoutMs`. */
function runChild(script: string, args: string[], timeoutMs = 10_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs spool-child.ts: N events into the spool through a server that does not take them, then SIGKILL. */
async function crashChild(dir: string, server: FakeCaptureServer, count: number): Promise<{ pid: number; stats: PostHogStats }> {
  const result = await runChild(SPOOL_CHILD, [dir, server.url, server.apiKey, String(count)]);
  assert.equal(result.signal, 'SIGKILL', `the child died by SIGKILL (code ${result.code}, stderr: ${result.stderr})`);
  const line = result.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as { pid: number; stats: PostHogStats };
}

/** Every uuid the server saw in any request, whatever it answered. */
function uuidsSeen(server: FakeCaptureServer): Set<string> {
  return new Set(server.requests.flatMap((r) => r.events.map((e) => e.uuid)));
}

describe('crash, restart, resend', () => {
  test('a process killed during an outage: the next one sends its spooled events, each stored once, and the spool ends empty', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const server = await FakeCaptureServer.start();
    t.after(() => server.close());
    server.setDefault({ status: 503 });
    const N = 25;

    const child = await crashChild(dir, server, N);
    assert.equal(child.stats.retryBuffered, N);
    assert.equal(child.stats.pending, N);
    assertIdentity(child.stats, 'in the child before the crash');
    // A request the child had on the wire when it died still lands, and is answered 503.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const originals = uuidsSeen(server);
    assert.equal(originals.size, N, 'the child tried to send N events');
    const onDisk = await spooledEvents(dir);
    assert.ok(onDisk.size >= 1);
    for (const name of onDisk.keys()) assert.equal(Number(SPOOL_FILE.exec(name)![1]), child.pid, 'the files are owned by the dead child');
    assert.deepEqual(new Set([...onDisk.values()].flat().map((e) => e.uuid)), originals);

    server.reset();
    const rig = await startFastPipeline(t, { server, options: { spoolDir: dir } });
    const ms = await rig.timedFlush();
    assert.ok(ms < 1_000 + SLACK_MS, `flush took ${ms} ms`);
    const stats = rig.stats();
    assertIdentity(stats, 'in the restarted process');
    assert.equal(stats.recovered, N);
    assert.equal(stats.selected, N);
    assert.equal(stats.delivered, N);
    assert.deepEqual(stats.dropped, {});
    assert.equal(stats.pending, 0);
    assert.equal(stats.corruptSpoolFiles, 0);

    const occurrences = storedOccurrences(server);
    assert.deepEqual(new Set(occurrences.keys()), originals, 'the server stored exactly the N original uuids');
    const rawDuplicates = [...occurrences.values()].reduce((sum, n) => sum + n - 1, 0);
    assert.equal(rawDuplicates, 0, 'nothing was stored before the crash, so nothing is stored twice');
    assert.deepEqual(names(server.acceptedEvents()), Array.from({ length: N }, (_, i) => `crash-${i}`).sort());

    await waitFor(async () => (await readdir(dir)).length === 0, 2_000, 'the spool directory to empty');
    await rig.shutdown();
    assert.deepEqual(await readdir(dir), []);
    clean();
  });

  test('the spool is emptied by the time forceFlush() resolves, so an exit right after it resends nothing', async (t) => {
    const dir = await tempDir(t);
    const server = await FakeCaptureServer.start();
    t.after(() => server.close());
    server.setDefault({ status: 503 });
    await crashChild(dir, server, 5);
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.reset();
    const rig = await startFastPipeline(t, { server, options: { spoolDir: dir } });
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.recovered, 5);
    assert.equal(stats.delivered, 5);
    assert.equal(stats.pending, 0);
    assert.deepEqual(await readdir(dir), [], 'no delivered event is left on disk when forceFlush() resolves');
  });

  test('events the server stored but did not acknowledge before the crash are resent: the stored set is still the N originals', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const server = await FakeCaptureServer.start();
    t.after(() => server.close());
    // Stored (200, results ok) but answered so slowly that every attempt times out.
    server.setDefault({ trickle: { chunkBytes: 1, intervalMs: 100, totalBytes: 100_000 } });
    const N = 10;
    const child = await crashChild(dir, server, N);
    assert.equal(child.stats.retryBuffered, N);
    const originals = uuidsSeen(server);
    assert.equal(originals.size, N);
    const storedBefore = storedOccurrences(server);
    assert.deepEqual(new Set(storedBefore.keys()), originals, 'the server stored everything before the crash');

    server.setDefault({});
    const rig = await startFastPipeline(t, { server, options: { spoolDir: dir } });
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.recovered, N);
    assert.equal(stats.delivered, N);
    const occurrences = storedOccurrences(server);
    assert.deepEqual(new Set(occurrences.keys()), originals, 'still exactly the N originals: PostHog dedupes by uuid');
    const rawDuplicates = [...occurrences.values()].reduce((sum, n) => sum + n - 1, 0);
    // Every event was stored at least once before the crash (perhaps several times: timed-out resends) and once after.
    assert.ok(rawDuplicates >= N, `raw duplicates: ${rawDuplicates}`);
    t.diagnostic(`raw duplicate deliveries after the crash: ${rawDuplicates} over ${N} events`);
    await waitFor(async () => (await readdir(dir)).length === 0, 2_000, 'the spool directory to empty');
    clean();
  });
});

describe('only what is still undelivered survives a restart', () => {
  test('a waiting request partly delivered is written anew with what is left: the next process sends only that', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const server = await FakeCaptureServer.start();
    t.after(() => server.close());
    // The 503 is retried in place after 100 ms; the answer takes two events and has the third wait 30 s.
    const options = {
      spoolDir: dir,
      maxAttempts: 10,
      retryInitialDelayMillis: 100,
      retryMaxDelayMillis: 60_000,
      timeoutMillis: 2_000,
      flushTimeoutMillis: 500,
    };
    const rig = await startFastPipeline(t, { server, options });
    const uuidOf = (events: CaptureEvent[], name: string): string => events.find((e) => e.event === name)!.uuid;
    server.script(
      { status: 503, headers: {} },
      { headers: { 'retry-after': '30' }, results: (events) => ({ [uuidOf(events, 'left-2')]: { result: 'retry' } }) },
    );
    rig.emit(3, 'left');
    await rig.flush();
    // The request was resent: two of its events were taken, one is to wait 30 s.
    assert.deepEqual(
      server.requests.map((r) => r.events.length),
      [3, 3],
    );
    const onDisk = [...(await spooledEvents(dir)).values()];
    assert.deepEqual(
      onDisk.map((events) => names(events)),
      [['left-2']],
      'one file, holding only the event still undelivered',
    );

    // Shutdown keeps it on disk (its Retry-After is past the window); the next process sends it alone.
    await rig.shutdown();
    assert.equal(rig.stats().pending, 1);
    server.reset();
    const next = await startFastPipeline(t, { server, options: { spoolDir: dir } });
    await next.flush();
    const stats = next.stats();
    assertIdentity(stats);
    assert.deepEqual({ recovered: stats.recovered, delivered: stats.delivered }, { recovered: 1, delivered: 1 });
    assert.deepEqual(
      server.requests.map((r) => [names(r.events), r.headers['posthog-attempt']]),
      [[['left-2'], '1']],
      'a new delivery: attempt 1',
    );
    await waitFor(async () => (await readdir(dir)).length === 0, 2_000, 'the spool directory to empty');
    clean();
  });

  test('two waiting requests with an event of the same uuid each keep their own file; both go once delivered', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const uuid = uuidv7();
    const rig = await startFastPipeline(t, {
      options: {
        spoolDir: dir,
        maxAttempts: 10,
        retryInitialDelayMillis: 100,
        retryMaxDelayMillis: 200,
        timeoutMillis: 2_000,
        flushTimeoutMillis: 500,
        beforeSend: (event) => ({ ...event, uuid }),
      },
    });
    rig.server.setDefault({ status: 503, headers: {} });
    rig.emit(1, 'first');
    await rig.flush();
    rig.emit(1, 'second');
    await rig.flush();
    assert.equal(rig.stats().retryBuffered, 2);
    assert.equal((await spooledEvents(dir)).size, 2);
    rig.server.setDefault({});
    // The outage's next probe finds PostHog back; the other request follows.
    await waitFor(() => rig.stats().pending === 0, 2_000, 'the waiting requests to be delivered');
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual({ delivered: stats.delivered, pending: stats.pending }, { delivered: 2, pending: 0 });
    assert.deepEqual(await readdir(dir), [], 'no file left outside pending');
    clean();
  });

  test('a spool file holding one uuid twice: the first is sent, the copy counted invalid, and the file goes', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const event = captureEvent('twice');
    await writeFile(
      join(dir, `ph-1-000000000001.spool.json.claimed-${DEAD_PID}`),
      spoolBody([event, { ...event, properties: { copy: true } }, captureEvent('once')]),
    );
    const rig = await startFastPipeline(t, { options: { spoolDir: dir } });
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(
      { recovered: stats.recovered, delivered: stats.delivered, dropped: stats.dropped, pending: stats.pending },
      { recovered: 3, delivered: 2, dropped: { invalid: 1 }, pending: 0 },
    );
    assert.deepEqual(names(rig.server.acceptedEvents()), ['once', 'twice']);
    await waitFor(async () => (await readdir(dir)).length === 0, 2_000, 'the spool directory to empty');
    clean();
  });
});

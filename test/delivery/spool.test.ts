// The spool (`spoolDir` / `POSTHOG_OTEL_SPOOL_DIR`): events that wait for retry survive a crash
// and are sent by the next process; corrupt files are counted and removed; files of a live owner
// are left alone; the size bound is kept; writes are atomic; shutdown spools leftovers instead of
// dropping them. The crash is real: a child process killed with SIGKILL.

import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';
import { totalDropped } from '../../src/delivery/ledger.ts';
import type { PostHogStats } from '../../src/delivery/ledger.ts';
import { Spool } from '../../src/delivery/spool.ts';
import { FakeCaptureServer } from '../support/fake-capture-server.ts';
import { assertIdentity, guardProcess, names, startRig, storedOccurrences, waitFor } from '../fixtures/delivery-rig.ts';

const SPOOL_CHILD = fileURLToPath(new URL('../fixtures/spool-child.ts', import.meta.url));
const CLAIM_CHILD = fileURLToPath(new URL('../fixtures/spool-claim-child.ts', import.meta.url));
const WRITE_CHILD = fileURLToPath(new URL('../fixtures/spool-write-child.ts', import.meta.url));
const SLACK_MS = 400;
/** Far above any pid the kernel hands out (pid_max is at most 2^22): never a live process. */
const DEAD_PID = 999_999_999;
/** A spool file as Spool names it: owned by a pid and the token of one exporter instance in that process. */
const SPOOL_FILE = /^ph-\d+-[0-9a-f]{12}\.spool\.json\.claimed-(\d+)\.([0-9a-f]{8})$/;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'posthog-spool-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function captureEvent(name: string, overrides: Partial<CaptureEvent> = {}): CaptureEvent {
  return {
    event: name,
    uuid: uuidv7(),
    distinct_id: 'user-1',
    timestamp: new Date().toISOString(),
    options: {},
    properties: { n: name },
    ...overrides,
  };
}

/** A spool file as Spool writes it. */
function spoolBody(events: readonly CaptureEvent[], version: unknown = 1): string {
  return JSON.stringify({ version, events: events.map((event) => ({ event, attempts: 1 })) });
}

/** Events in every spool file of `dir`, by file. */
async function spooledEvents(dir: string): Promise<Map<string, CaptureEvent[]>> {
  const out = new Map<string, CaptureEvent[]>();
  for (const name of await readdir(dir)) {
    if (!SPOOL_FILE.test(name)) continue;
    const parsed = JSON.parse(await readFile(join(dir, name), 'utf8')) as { version: number; events: Array<{ event: CaptureEvent }> };
    assert.equal(parsed.version, 1);
    out.set(
      name,
      parsed.events.map((e) => e.event),
    );
  }
  return out;
}

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
    const rig = await startRig(t, { server, options: { spoolDir: dir } });
    const ms = await rig.flush();
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
    const rig = await startRig(t, { server, options: { spoolDir: dir } });
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
    const rig = await startRig(t, { server, options: { spoolDir: dir } });
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
    const rig = await startRig(t, { server, options });
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
    const next = await startRig(t, { server, options: { spoolDir: dir } });
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
    const rig = await startRig(t, {
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
    const rig = await startRig(t, { options: { spoolDir: dir } });
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

describe('an unusable spool directory', () => {
  test('is reported once, naming the directory; events still wait in memory', async (t) => {
    const clean = guardProcess(t);
    const base = await tempDir(t);
    await writeFile(join(base, 'a-file'), 'not a directory');
    const dir = join(base, 'a-file', 'spool');
    const warnings: string[] = [];
    const record = (...args: unknown[]): void => {
      warnings.push(args.map(String).join(' '));
    };
    diag.setLogger(
      { error: record, warn: record, info: () => undefined, debug: () => undefined, verbose: () => undefined },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    t.after(() => diag.disable());
    const rig = await startRig(t, {
      options: { spoolDir: dir, maxAttempts: 10, retryInitialDelayMillis: 5_000, retryMaxDelayMillis: 60_000, flushTimeoutMillis: 300 },
    });
    rig.server.setDefault({ status: 503, headers: {} });
    rig.emit(2, 'memory');
    await rig.flush();
    rig.emit(2, 'more');
    await rig.flush();
    const about = warnings.filter((w) => w.includes('spool directory'));
    assert.equal(about.length, 1, JSON.stringify(warnings));
    assert.ok(about[0]!.includes(JSON.stringify(dir)), about[0]);
    assert.match(about[0]!, /ENOTDIR/);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual({ retryBuffered: stats.retryBuffered, dropped: stats.dropped }, { retryBuffered: 4, dropped: {} });
    clean();
  });
});

describe('corrupt and foreign files', () => {
  test('garbage, truncated, wrong-version and event-less files are counted and removed; valid files still recovered', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const good = [captureEvent('good-1'), captureEvent('good-2')];
    const body = spoolBody([captureEvent('cut')]);
    await writeFile(join(dir, 'ph-1-000000000001.spool.json'), 'this is not json{');
    await writeFile(join(dir, 'ph-1-000000000002.spool.json'), body.slice(0, Math.floor(body.length / 2)));
    await writeFile(join(dir, 'ph-1-000000000003.spool.json'), spoolBody([captureEvent('future')], 2));
    await writeFile(join(dir, 'ph-1-000000000004.spool.json'), JSON.stringify({ version: 1, events: 'none' }));
    await writeFile(join(dir, 'ph-1-000000000005.spool.json'), '');
    await writeFile(join(dir, `ph-1-000000000006.spool.json.claimed-${DEAD_PID}`), spoolBody(good));
    // Not spool files at all: left alone.
    await writeFile(join(dir, 'notes.txt'), 'hello');

    const rig = await startRig(t, { options: { spoolDir: dir } });
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.corruptSpoolFiles, 5);
    assert.equal(stats.recovered, 2);
    assert.equal(stats.delivered, 2);
    assert.deepEqual(names(rig.server.acceptedEvents()), ['good-1', 'good-2']);
    await waitFor(async () => (await readdir(dir)).every((n) => !n.includes('claimed')), 2_000, 'the recovered file to go');
    // Counted, then removed: kept aside they would fill the directory without bound.
    assert.deepEqual((await readdir(dir)).sort(), ['notes.txt']);

    // A second process has nothing to count again.
    const again = await startRig(t, { options: { spoolDir: dir } });
    await again.flush();
    assert.equal(again.stats().corruptSpoolFiles, 0);
    assert.equal(again.stats().recovered, 0);
    clean();
  });

  test('events with invalid uuids or missing fields are recovered as invalid drops, the valid events of the same file delivered, nothing crashes', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const valid = captureEvent('valid');
    const upper = captureEvent('upper');
    upper.uuid = upper.uuid.toUpperCase();
    const file = JSON.stringify({
      version: 1,
      events: [
        { event: valid, attempts: 2 },
        { event: captureEvent('bad-uuid', { uuid: 'not-a-uuid' }), attempts: 1 },
        { event: { ...captureEvent('no-distinct-id'), distinct_id: 7 }, attempts: 1 },
        { event: { ...captureEvent('no-properties'), properties: null }, attempts: 1 },
        { event: upper, attempts: 'many' },
        null,
        'string',
        { attempts: 1 },
      ],
    });
    await writeFile(join(dir, 'ph-2-000000000001.spool.json'), file);
    await writeFile(join(dir, 'ph-2-000000000002.spool.json'), spoolBody([captureEvent('only-bad', { uuid: '' })]));

    const rig = await startRig(t, { options: { spoolDir: dir } });
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    // 2 valid events and 6 + 1 invalid ones: all recovered, the invalid ones dropped as such.
    assert.equal(stats.recovered, 9);
    assert.equal(stats.selected, 9);
    assert.equal(stats.delivered, 2);
    assert.deepEqual(stats.dropped, { invalid: 7 });
    assert.equal(stats.pending, 0);
    assert.equal(stats.corruptSpoolFiles, 0);
    assert.deepEqual(names(rig.server.acceptedEvents()), ['upper', 'valid']);
    assert.equal(rig.server.acceptedEvents().find((e) => e.event === 'upper')!.uuid, upper.uuid.toLowerCase());
    assert.deepEqual(
      rig.server.requests.filter((r) => !r.validation.ok),
      [],
    );
    await waitFor(async () => (await readdir(dir)).length === 0, 2_000, 'both files to go');
    clean();
  });

  test('skipped spool events are counted: recovered, then dropped as invalid, not lost silently', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    await writeFile(join(dir, 'ph-3-000000000001.spool.json'), spoolBody([captureEvent('ok'), captureEvent('bad', { uuid: 'nope' })]));
    await writeFile(join(dir, 'ph-3-000000000002.spool.json'), spoolBody([captureEvent('bad-only', { uuid: 'nope' })]));
    const rig = await startRig(t, { options: { spoolDir: dir } });
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.recovered, 3);
    assert.equal(stats.selected, 3);
    assert.equal(stats.delivered, 1);
    assert.deepEqual(stats.dropped, { invalid: 2 });
    assert.equal(totalDropped(stats), 2);
    assert.equal(stats.corruptSpoolFiles, 0, 'the files were readable: not corrupt');
    assert.equal(stats.pending, 0);
    assert.deepEqual(names(rig.server.acceptedEvents()), ['ok']);
    // Both files are settled: the one with a valid event once it is delivered, the other at once.
    assert.deepEqual(await readdir(dir), []);
    clean();
  });

  test('temporary files of a dead writer are removed; those of a live writer are left', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const live = `.tmp-${process.ppid}-ph-1-000000000001.spool.json`;
    await writeFile(join(dir, `.tmp-${DEAD_PID}-ph-1-000000000002.spool.json`), spoolBody([captureEvent('half')]).slice(0, 20));
    await writeFile(join(dir, live), spoolBody([captureEvent('being-written')]));
    const rig = await startRig(t, { options: { spoolDir: dir } });
    await rig.flush();
    assert.deepEqual(await readdir(dir), [live]);
    assert.equal(rig.stats().recovered, 0);
    assert.equal(rig.stats().corruptSpoolFiles, 0);
    clean();
  });

  test('files owned by a live process are not taken; files of a dead owner are', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const liveName = `ph-4-000000000001.spool.json.claimed-${process.ppid}`;
    await writeFile(join(dir, liveName), spoolBody([captureEvent('someone-elses')]));
    await writeFile(join(dir, `ph-4-000000000002.spool.json.claimed-${DEAD_PID}`), spoolBody([captureEvent('orphan')]));
    const rig = await startRig(t, { options: { spoolDir: dir } });
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.recovered, 1);
    assert.deepEqual(names(rig.server.acceptedEvents()), ['orphan']);
    await waitFor(async () => (await readdir(dir)).length === 1, 2_000, 'the orphan file to go');
    assert.deepEqual(await readdir(dir), [liveName]);
    clean();
  });

  test('a restarted process with the same pid (pid 1 in a container) recovers the files its previous life left', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    // What a previous run with this pid left: it never ran claim() in this process.
    await writeFile(join(dir, `ph-5-000000000001.spool.json.claimed-${process.pid}`), spoolBody([captureEvent('previous-life')]));
    const rig = await startRig(t, { options: { spoolDir: dir } });
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.recovered, 1);
    assert.equal(stats.delivered, 1);
    assert.deepEqual(stats.dropped, {});
    assert.equal(stats.pending, 0);
    assert.deepEqual(names(rig.server.acceptedEvents()), ['previous-life']);
    assert.deepEqual(await readdir(dir), [], 'the file is gone when the flush resolves');
    clean();
  });

  test("two live exporters in one process sharing a spool directory never take each other's files; a shut-down one's are free", async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const server = await FakeCaptureServer.start();
    t.after(() => server.close());
    server.setDefault({ status: 503 });
    const first = await startRig(t, { server, options: { spoolDir: dir, timeoutMillis: 150, flushTimeoutMillis: 300, maxAttempts: 100 } });
    first.emit(3, 'first');
    await first.flush();
    assert.equal(first.stats().retryBuffered, 3);
    const files = await spooledEvents(dir);
    assert.equal(files.size, 1);
    const [firstFile] = [...files.keys()];
    assert.equal(Number(SPOOL_FILE.exec(firstFile!)![1]), process.pid);

    // Same pid, another instance: the first one is alive, so its file stays its own.
    const second = await startRig(t, { server, options: { spoolDir: dir } });
    await second.flush();
    assert.equal(second.stats().recovered, 0);
    assert.deepEqual([...(await spooledEvents(dir)).keys()], [firstFile]);

    // Once the first shuts down (its events stay spooled, pending), a new instance takes them over.
    await first.shutdown();
    assert.equal(first.stats().pending, 3);
    server.reset();
    server.setDefault({});
    const third = await startRig(t, { server, options: { spoolDir: dir } });
    await third.flush();
    const stats = third.stats();
    assertIdentity(stats);
    assert.equal(stats.recovered, 3);
    assert.equal(stats.delivered, 3);
    assert.deepEqual(names(server.acceptedEvents()), ['first-0', 'first-1', 'first-2']);
    assert.deepEqual(await readdir(dir), []);
    clean();
  });

  test("Spool instances: claim() skips a live instance's files, even with the same pid, until release()", async (t) => {
    const dir = await tempDir(t);
    const a = new Spool({ dir, maxBytes: 1024 * 1024 });
    const b = new Spool({ dir, maxBytes: 1024 * 1024 });
    t.after(() => {
      a.release();
      b.release();
    });
    const event = captureEvent('mine');
    const file = await a.write([{ event, attempts: 2 }]);
    assert.ok(file !== undefined);
    const [, pid, token] = SPOOL_FILE.exec(file.slice(dir.length + 1))!;
    assert.equal(Number(pid), process.pid);
    assert.deepEqual(await b.claim(), { files: [], corruptFiles: 0, invalidEvents: 0 });
    a.release();
    const recovery = await b.claim();
    assert.deepEqual(
      recovery.files.flatMap((f) => f.events.map((e) => [e.event.uuid, e.attempts])),
      [[event.uuid, 2]],
    );
    const [taken] = await readdir(dir);
    const [, takenPid, takenToken] = SPOOL_FILE.exec(taken!)!;
    assert.equal(Number(takenPid), process.pid);
    assert.notEqual(takenToken, token, 'renamed to the claiming instance');
  });

  test("two processes claiming one directory at once take disjoint files, and never each other's", async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const all = new Set<string>();
    for (let f = 0; f < 40; f++) {
      const events = [captureEvent(`f${f}-a`), captureEvent(`f${f}-b`)];
      for (const e of events) all.add(e.uuid);
      await writeFile(join(dir, `ph-6-${String(f).padStart(12, '0')}.spool.json.claimed-${DEAD_PID}`), spoolBody(events));
    }
    const children = [0, 1].map(() => spawn(process.execPath, [CLAIM_CHILD, dir], { stdio: ['pipe', 'pipe', 'pipe'] }));
    t.after(() => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const reports = children.map(
      (child) =>
        new Promise<{ pid: number; uuids: string[]; corruptFiles: number }>((resolve, reject) => {
          let out = '';
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
            out += chunk;
            if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as { pid: number; uuids: string[]; corruptFiles: number });
          });
          child.on('exit', (code) => reject(new Error(`claim child exited early (${code})`)));
        }),
    );
    // Both are up (node takes a while to start) before either claims.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const child of children) child.stdin.write('go\n');
    const [a, b] = await Promise.all(reports);
    assert.equal(a!.corruptFiles + b!.corruptFiles, 0);
    const overlap = a!.uuids.filter((u) => b!.uuids.includes(u));
    assert.deepEqual(overlap, [], 'no event claimed twice');
    assert.deepEqual(new Set([...a!.uuids, ...b!.uuids]), all, 'every event claimed by one of them');
    t.diagnostic(`claims split ${a!.uuids.length / 2} / ${b!.uuids.length / 2} files`);

    // While they live, a third process (this one) takes nothing of theirs.
    const rig = await startRig(t, { options: { spoolDir: dir } });
    await rig.flush();
    assert.equal(rig.stats().recovered, 0);
    assert.equal(rig.server.requests.length, 0);
    const owners = new Set((await readdir(dir)).map((n) => Number(SPOOL_FILE.exec(n)?.[1])));
    assert.deepEqual([...owners].sort(), [a!.pid, b!.pid].filter((pid, i) => (i === 0 ? a!.uuids.length : b!.uuids.length) > 0).sort());
    for (const child of children) child.stdin.end();
    await Promise.all(
      children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.on('exit', resolve)))),
    );
    clean();
  });
});

describe('bounds and atomic writes', () => {
  test('Spool.write renames a complete file into place: no .tmp- file is left, the content is version 1', async (t) => {
    const dir = join(await tempDir(t), 'nested', 'spool');
    const spool = new Spool({ dir, maxBytes: 1024 * 1024 });
    const events = [captureEvent('a'), captureEvent('b')];
    const file = await spool.write(events.map((event) => ({ event, attempts: 3 })));
    assert.ok(file !== undefined);
    const listing = await readdir(dir);
    assert.equal(listing.length, 1);
    assert.match(listing[0]!, SPOOL_FILE);
    assert.equal(Number(SPOOL_FILE.exec(listing[0]!)![1]), process.pid);
    assert.equal(join(dir, listing[0]!), file);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { version: 1, events: events.map((event) => ({ event, attempts: 3 })) });
    assert.equal(await spool.write([]), undefined, 'nothing to write, no file');
    await spool.remove(file);
    assert.deepEqual(await readdir(dir), []);
    await spool.remove(file); // already gone: no throw
  });

  test(
    'writes cut short by the kernel (a 2 KiB file size limit) fail cleanly and leave no partial file behind',
    { skip: process.platform !== 'linux' },
    async (t) => {
      const dir = await tempDir(t);
      const output = await new Promise<string>((resolve, reject) => {
        const child = spawn('bash', ['-c', 'ulimit -f 2 && exec "$0" "$@"', process.execPath, WRITE_CHILD, dir], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
        child.on('error', reject);
        child.on('exit', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`child exited with ${code ?? signal}`))));
      });
      const { results, files } = JSON.parse(output) as { results: (string | null)[]; files: string[] };
      assert.deepEqual(results, [null, null, null], 'each write reports failure');
      assert.deepEqual(files, [], 'no .tmp- file, no spool file');
    },
  );

  test('spoolMaxBytes refuses writes over the bound; space freed by remove() is usable again', async (t) => {
    const dir = await tempDir(t);
    const events = [captureEvent('x')].map((event) => ({ event, attempts: 1 }));
    const size = Buffer.byteLength(JSON.stringify({ version: 1, events }));
    const spool = new Spool({ dir, maxBytes: size * 2 });
    const first = await spool.write(events);
    const second = await spool.write(events);
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(await spool.write(events), undefined, 'a third file would exceed the bound');
    assert.equal((await readdir(dir)).length, 2);
    await spool.remove(first);
    assert.ok((await spool.write(events)) !== undefined);
    assert.equal((await readdir(dir)).length, 2);
    assert.equal((await readdir(dir)).filter((n) => n.startsWith('.tmp-')).length, 0);
  });

  test('shutdown with a spool and a retry buffer smaller than the queue: every undelivered event ends on disk, none dropped', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const rig = await startRig(t, {
      options: {
        spoolDir: dir,
        retryBufferMaxEvents: 5,
        maxExportBatchSize: 10,
        flushTimeoutMillis: 1_500,
        maxAttempts: 20,
        retryInitialDelayMillis: 50,
      },
    });
    rig.server.setDefault({ status: 503, headers: {} });
    rig.emit(20, 'kept');
    await rig.shutdown();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, {});
    assert.equal(stats.pending, 20);
    const onDisk = [...(await spooledEvents(dir)).values()].flat().length;
    assert.equal(onDisk, 20);
    clean();
  });

  test('a full spool at shutdown: the leftovers are dropped as deadline, not spooled, and counted', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const rig = await startRig(t, {
      options: { spoolDir: dir, spoolMaxBytes: 100, timeoutMillis: 150, flushTimeoutMillis: 300, maxAttempts: 100 },
    });
    rig.server.setDefault({ hang: true });
    rig.emit(4, 'no-room');
    const ms = await rig.shutdown();
    assert.ok(ms < 300 + SLACK_MS, `shutdown took ${ms} ms`);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { deadline: 4 });
    assert.equal(stats.pending, 0);
    assert.deepEqual(await readdir(dir), []);
    clean();
  });

  test('shutdown against a hanging server spools the leftovers (POSTHOG_OTEL_SPOOL_DIR): pending, not dropped; the next process sends them', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const server = await FakeCaptureServer.start();
    t.after(() => server.close());
    server.setDefault({ hang: true });
    const rig = await startRig(t, {
      server,
      env: { POSTHOG_OTEL_SPOOL_DIR: dir },
      options: { timeoutMillis: 150, flushTimeoutMillis: 300, maxAttempts: 100 },
    });
    rig.emit(6, 'leftover');
    const ms = await rig.shutdown();
    assert.ok(ms < 300 + SLACK_MS, `shutdown took ${ms} ms`);
    const stats = rig.stats();
    assertIdentity(stats, 'after shutdown');
    assert.deepEqual(stats.dropped, {});
    assert.equal(stats.delivered, 0);
    assert.equal(stats.pending, 6);
    assert.equal(stats.retryBuffered, 6);
    const spooled = [...(await spooledEvents(dir)).values()].flat();
    assert.deepEqual(names(spooled), names(server.requests[0]!.events));
    assert.equal(spooled.length, 6);

    // The next process: these files name our pid as owner, as a restarted container process with the
    // same pid would find them; an exporter that did not write them recovers them.
    for (const name of await readdir(dir)) assert.equal(Number(SPOOL_FILE.exec(name)?.[1]), process.pid, name);
    server.reset();
    const next = await startRig(t, { server, options: { spoolDir: dir } });
    await next.flush();
    const after = next.stats();
    assertIdentity(after, 'in the next process');
    assert.equal(after.recovered, 6);
    assert.equal(after.delivered, 6);
    assert.deepEqual(new Set(server.acceptedEvents().map((e) => e.uuid)), new Set(spooled.map((e) => e.uuid)));
    assert.deepEqual(after.dropped, {});
    assert.equal(after.pending, 0);
    assert.deepEqual(await readdir(dir), [], 'the recovered files are gone when the flush resolves');
    clean();
  });

  test('shutdown with a spool: events held back by a Retry-After past the window are spooled, not sent once more', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const rig = await startRig(t, {
      options: { spoolDir: dir, maxAttempts: 1_000, retryMaxDelayMillis: 60_000, timeoutMillis: 5_000, flushTimeoutMillis: 500 },
    });
    rig.server.setDefault({ status: 503, headers: { 'retry-after': '30' } });
    rig.emit(2, 'held');
    await rig.flush();
    await rig.settle();
    assert.equal(rig.server.requests.length, 1);
    rig.server.setDefault({});
    const ms = await rig.shutdown();
    assert.ok(ms < 500 + SLACK_MS, `shutdown took ${ms} ms`);
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(rig.server.requests.length, 1, 'the server asked for 30 s: no request at shutdown');
    assert.deepEqual(stats.dropped, {});
    assert.equal(stats.delivered, 0);
    assert.equal(stats.pending, 2);
    assert.deepEqual(names([...(await spooledEvents(dir)).values()].flat()), ['held-0', 'held-1']);
    clean();
  });

  test('an outage with a spool, recovered in the same process: the spool file is removed once its events are delivered', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const rig = await startRig(t, { options: { spoolDir: dir, timeoutMillis: 150, flushTimeoutMillis: 300, maxAttempts: 100 } });
    rig.server.setDefault({ status: 503 });
    rig.emit(5, 'outage');
    await rig.flush();
    assert.equal(rig.stats().retryBuffered, 5);
    await rig.settle();
    const files = await spooledEvents(dir);
    assert.equal(files.size, 1);
    assert.equal([...files.values()][0]!.length, 5);
    rig.server.setDefault({});
    await rig.flush();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.equal(stats.delivered, 5);
    await waitFor(async () => (await readdir(dir)).length === 0, 2_000, 'the spool file to go');
    clean();
  });

  test('an unusable spool directory (a file in the way) never crashes: events stay in memory, then are dropped at shutdown', async (t) => {
    const clean = guardProcess(t);
    const parent = await tempDir(t);
    const blocker = join(parent, 'blocker');
    await writeFile(blocker, 'not a directory');
    const rig = await startRig(t, {
      options: { spoolDir: join(blocker, 'spool'), timeoutMillis: 150, flushTimeoutMillis: 300, maxAttempts: 100 },
    });
    rig.server.setDefault({ status: 503 });
    rig.emit(3, 'nowhere');
    await rig.flush();
    assert.equal(rig.stats().retryBuffered, 3);
    await rig.shutdown();
    const stats = rig.stats();
    assertIdentity(stats);
    assert.deepEqual(stats.dropped, { deadline: 3 });
    assert.equal(stats.pending, 0);
    clean();
  });
});

// The spool's bounds and writes: atomic renames, writes cut short, spoolMaxBytes, and shutdown
// writing leftovers to disk instead of dropping them.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Spool } from '../../src/delivery/spool.ts';
import { FakeCaptureServer } from '../support/fake-capture-server.ts';
import { assertIdentity, names } from '../support/accounting.ts';
import { guardProcess, waitFor } from '../support/host-process.ts';
import { startFastPipeline } from '../support/pipeline.ts';
import { SPOOL_FILE, captureEvent, spooledEvents, tempDir } from '../support/spool-files.ts';

const WRITE_CHILD = fileURLToPath(new URL('../fixtures/spool-write-child.ts', import.meta.url));

const SLACK_MS = 400;

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
    const rig = await startFastPipeline(t, {
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
    const rig = await startFastPipeline(t, {
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
    const rig = await startFastPipeline(t, {
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
    const next = await startFastPipeline(t, { server, options: { spoolDir: dir } });
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
    const rig = await startFastPipeline(t, {
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
    const rig = await startFastPipeline(t, { options: { spoolDir: dir, timeoutMillis: 150, flushTimeoutMillis: 300, maxAttempts: 100 } });
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
    const rig = await startFastPipeline(t, {
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

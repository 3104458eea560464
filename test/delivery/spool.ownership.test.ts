// Who may take a spool file: files of a live owner (process or exporter instance) are left alone,
// those of a dead one are taken, and two claimers never take the same file.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Spool } from '../../src/delivery/spool.ts';
import { FakeCaptureServer } from '../support/fake-capture-server.ts';
import { assertIdentity, names } from '../support/accounting.ts';
import { guardProcess, waitFor } from '../support/host-process.ts';
import { startFastPipeline } from '../support/pipeline.ts';
import { SPOOL_FILE, DEAD_PID, captureEvent, spoolBody, spooledEvents, tempDir } from '../support/spool-files.ts';

const CLAIM_CHILD = fileURLToPath(new URL('../fixtures/spool-claim-child.ts', import.meta.url));

describe('ownership of spool files', () => {
  test('temporary files of a dead writer are removed; those of a live writer are left', async (t) => {
    const clean = guardProcess(t);
    const dir = await tempDir(t);
    const live = `.tmp-${process.ppid}-ph-1-000000000001.spool.json`;
    await writeFile(join(dir, `.tmp-${DEAD_PID}-ph-1-000000000002.spool.json`), spoolBody([captureEvent('half')]).slice(0, 20));
    await writeFile(join(dir, live), spoolBody([captureEvent('being-written')]));
    const rig = await startFastPipeline(t, { options: { spoolDir: dir } });
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
    const rig = await startFastPipeline(t, { options: { spoolDir: dir } });
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
    const rig = await startFastPipeline(t, { options: { spoolDir: dir } });
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
    const first = await startFastPipeline(t, {
      server,
      options: { spoolDir: dir, timeoutMillis: 150, flushTimeoutMillis: 300, maxAttempts: 100 },
    });
    first.emit(3, 'first');
    await first.flush();
    assert.equal(first.stats().retryBuffered, 3);
    const files = await spooledEvents(dir);
    assert.equal(files.size, 1);
    const [firstFile] = [...files.keys()];
    assert.equal(Number(SPOOL_FILE.exec(firstFile!)![1]), process.pid);

    // Same pid, another instance: the first one is alive, so its file stays its own.
    const second = await startFastPipeline(t, { server, options: { spoolDir: dir } });
    await second.flush();
    assert.equal(second.stats().recovered, 0);
    assert.deepEqual([...(await spooledEvents(dir)).keys()], [firstFile]);

    // Once the first shuts down (its events stay spooled, pending), a new instance takes them over.
    await first.shutdown();
    assert.equal(first.stats().pending, 3);
    server.reset();
    server.setDefault({});
    const third = await startFastPipeline(t, { server, options: { spoolDir: dir } });
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
    const rig = await startFastPipeline(t, { options: { spoolDir: dir } });
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

// Spool files that cannot be used as they are: an unusable directory, garbage, truncated or
// foreign files, and events in them that are invalid, each counted and never crashing the host.

import { describe, test } from 'node:test';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { totalDropped } from '../../src/delivery/ledger.ts';
import { assertIdentity, names } from '../support/accounting.ts';
import { guardProcess, waitFor } from '../support/host-process.ts';
import { startFastPipeline } from '../support/pipeline.ts';
import { DEAD_PID, captureEvent, spoolBody, tempDir } from '../support/spool-files.ts';

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
    const rig = await startFastPipeline(t, {
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

    const rig = await startFastPipeline(t, { options: { spoolDir: dir } });
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
    const again = await startFastPipeline(t, { options: { spoolDir: dir } });
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

    const rig = await startFastPipeline(t, { options: { spoolDir: dir } });
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
    const rig = await startFastPipeline(t, { options: { spoolDir: dir } });
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
});

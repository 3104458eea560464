// Unit tests of SpoolCopies over a real Spool in a temporary directory: a waiting request has
// exactly one file, written anew when it loses events and removed when it settles, and operations
// on one request run in order even when started together.

import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaptureEvent } from '../../src/capture/types.ts';
import type { PendingRequest } from '../../src/delivery/pending-request.ts';
import { SpoolCopies } from '../../src/delivery/spool-copies.ts';
import { Spool } from '../../src/delivery/spool.ts';
import { namedEvents } from '../support/capture-events.ts';

async function spoolIn(t: TestContext, maxBytes = 1024 * 1024): Promise<{ dir: string; spool: Spool }> {
  const dir = await mkdtemp(join(tmpdir(), 'posthog-copies-'));
  const spool = new Spool({ dir, maxBytes });
  t.after(async () => {
    spool.release();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, spool };
}

function request(id: string, events: CaptureEvent[]): PendingRequest {
  return {
    identity: { requestId: id, createdAt: '2026-11-22T12:00:00.000Z' },
    attempt: 1,
    events: events.map((event) => ({ event, bytes: 100, attempts: 1 })),
    bytes: 100 * events.length,
    waitingSince: 0,
    notBefore: 0,
  };
}

/** The event names in every file of `dir`. */
async function onDisk(dir: string): Promise<string[][]> {
  const files = [];
  for (const name of (await readdir(dir)).sort()) {
    const parsed = JSON.parse(await readFile(join(dir, name), 'utf8')) as { events: Array<{ event: CaptureEvent }> };
    files.push(parsed.events.map((e) => e.event.event));
  }
  return files;
}

describe('SpoolCopies', () => {
  test('one file per request; unchanged, it is not written again; shrunk, it is written anew and the old one goes', async (t) => {
    const { dir, spool } = await spoolIn(t);
    const copies = new SpoolCopies(spool);
    const events = namedEvents(3, 'c');
    const r = request('r1', events);
    assert.equal(await copies.sync(r), true);
    assert.deepEqual(await onDisk(dir), [events.map((e) => e.event)]);
    const [first] = await readdir(dir);
    assert.equal(await copies.sync(r), true);
    assert.deepEqual(await readdir(dir), [first], 'the same file');
    r.events = r.events.slice(1);
    assert.equal(await copies.sync(r), true);
    assert.deepEqual(await onDisk(dir), [events.slice(1).map((e) => e.event)]);
    copies.release('r1');
    await copies.idle();
    assert.deepEqual(await readdir(dir), []);
  });

  test('a release started while a write runs waits for it: no file is left behind', async (t) => {
    const { dir, spool } = await spoolIn(t);
    const copies = new SpoolCopies(spool);
    const r = request('r1', namedEvents(2, 'race'));
    void copies.sync(r);
    copies.release('r1');
    await copies.idle();
    assert.deepEqual(await readdir(dir), []);
    assert.equal(copies.has('r1'), false);
  });

  test('a rewrite the spool refuses (over its bound) removes the outdated copy and says so', async (t) => {
    const { dir, spool } = await spoolIn(t, 4_000);
    const copies = new SpoolCopies(spool);
    const large = namedEvents(2, 'large').map((event) => ({ ...event, properties: { blob: 'z'.repeat(600) } }));
    const big = request('big', large);
    assert.equal(await copies.sync(big), true);
    // Small requests fill what is left, until the spool refuses one.
    let n = 0;
    while (await copies.sync(request(`filler-${n}`, namedEvents(1, 'small')))) n++;
    assert.equal(copies.has(`filler-${n}`), false);
    const files = (await readdir(dir)).length;
    // Shrunk, big needs a new file larger than any filler: there is no room, and the old copy (which
    // still holds the event it lost) must not survive to be resent after a restart.
    big.events = big.events.slice(1);
    assert.equal(await copies.sync(big), false);
    assert.equal(copies.has('big'), false);
    assert.equal((await readdir(dir)).length, files - 1);
    assert.ok(!(await onDisk(dir)).flat().some((name) => name.startsWith('large')));
  });

  test('without a spool nothing is written and nothing fails', async () => {
    const copies = new SpoolCopies(undefined);
    assert.equal(await copies.sync(request('r', namedEvents(1))), false);
    copies.release('r');
    await copies.idle();
  });
});

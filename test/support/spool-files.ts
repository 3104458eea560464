// Spool files for the spool tests: a temporary directory, events to put in files, files written
// as Spool writes them, and what the spool files of a directory hold.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';

/** A spool file as Spool names it: owned by a pid and the token of one exporter instance in that process. */
export const SPOOL_FILE = /^ph-\d+-[0-9a-f]{12}\.spool\.json\.claimed-(\d+)\.([0-9a-f]{8})$/;

/** Far above any pid the kernel hands out (pid_max is at most 2^22): never a live process. */
export const DEAD_PID = 999_999_999;

/** A fresh directory, removed when the test ends. */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'posthog-spool-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An event named `name` (also its property `n`), with a fresh UUIDv7; `overrides` replace its fields. */
export function captureEvent(name: string, overrides: Partial<CaptureEvent> = {}): CaptureEvent {
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

/** A spool file's content as Spool writes it. */
export function spoolBody(events: readonly CaptureEvent[], version: unknown = 1): string {
  return JSON.stringify({ version, events: events.map((event) => ({ event, attempts: 1 })) });
}

/** Events in every spool file of `dir`, by file. */
export async function spooledEvents(dir: string): Promise<Map<string, CaptureEvent[]>> {
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

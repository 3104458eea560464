import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventJson } from '../capture/encoded-event.ts';
import type { CaptureEvent } from '../capture/types.ts';
import type { SpoolSettings } from '../config/sections.ts';
import { canonicalUuid } from '../shared/uuid.ts';

/** One spooled event: the event exactly as it was (same uuid, so the server dedupes a resend) and its attempts. */
export interface SpooledEvent {
  event: CaptureEvent;
  attempts: number;
}

/** The valid events of one spool file, now claimed by this process. */
export interface SpooledFile {
  file: string;
  events: SpooledEvent[];
  /** Entries in the file, the invalid ones included. */
  entries: number;
}

export interface SpoolRecovery {
  files: SpooledFile[];
  /** Files that could not be read or parsed; counted, then removed. */
  corruptFiles: number;
  /** Events inside readable files that are not valid events; skipped. */
  invalidEvents: number;
}

/** Told when the spool directory cannot be used, with a message that names it. */
export type SpoolProblem = (message: string) => void;

const FORMAT_VERSION = 1;
const SUFFIX = '.spool.json';
const CLAIM = '.claimed-';

/**
 * A directory of spool files: events that could not be delivered before shutdown, or that wait
 * in the retry buffer during an outage. Each file is written to a temporary name and renamed, so
 * a reader never sees half a file. A file's name says which process owns it; a process takes over
 * only files whose owner is no longer running, so two processes can share the directory.
 */
export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  private _ready: Promise<void> | undefined;
  /** Bytes this process believes are on disk; refreshed by `claim()`. */
  private _bytes = 0;
  /** Names this instance's files: a pid alone is not enough, since instances in one process share it. */
  private readonly _owner = `${process.pid}.${randomBytes(4).toString('hex')}`;
  private readonly _onProblem: SpoolProblem | undefined;
  /** Error codes already reported: one warning per kind of trouble, not one per write. */
  private readonly _reported = new Set<string>();

  constructor(options: SpoolSettings & { onProblem?: SpoolProblem }) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this._onProblem = options.onProblem;
    liveOwners.add(this._owner);
  }

  /** Reports a directory that cannot be used, once per error code. The path is the user's own choice, not a secret. */
  private _problem(what: string, error: unknown): void {
    const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'error';
    if (this._reported.has(code)) return;
    this._reported.add(code);
    this._tell(
      `the spool directory ${JSON.stringify(this.dir)} is not usable (${code} while ${what}): undelivered events are kept in memory only and do not survive a restart`,
    );
  }

  private _tell(message: string): void {
    try {
      this._onProblem?.(message);
    } catch {
      // An observer's failure must not change what happens to the events.
    }
  }

  /** After shutdown: this instance's files may be taken over, even by another instance in this process. */
  release(): void {
    liveOwners.delete(this._owner);
  }

  private _ensureDir(): Promise<void> {
    this._ready ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
    return this._ready;
  }

  /** Writes events as one file owned by this process. Resolves to its path, or undefined when over the bound or on error. */
  async write(events: readonly SpooledEvent[]): Promise<string | undefined> {
    if (events.length === 0) return undefined;
    // Encoded events go in as their text: parsing them only to write them again would cost an outage CPU.
    const entries = events.map((e) => `{"event":${eventJson(e.event) ?? 'null'},"attempts":${JSON.stringify(e.attempts)}}`);
    const body = `{"version":${FORMAT_VERSION},"events":[${entries.join(',')}]}`;
    const size = Buffer.byteLength(body);
    if (this._bytes + size > this.maxBytes) return undefined;
    let tmp: string | undefined;
    try {
      await this._ensureDir();
      const name = `ph-${Date.now()}-${randomBytes(6).toString('hex')}${SUFFIX}`;
      tmp = join(this.dir, `.tmp-${this._owner}-${name}`);
      const final = join(this.dir, `${name}${CLAIM}${this._owner}`);
      await writeFile(tmp, body, { flag: 'wx' });
      await rename(tmp, final);
      this._bytes += size;
      return final;
    } catch (error) {
      // A write cut short (disk full, a file size limit) must not leave its part behind, once per outage retry.
      if (tmp !== undefined) await unlink(tmp).catch(() => undefined);
      this._problem('writing', error);
      return undefined;
    }
  }

  /** Deletes a file once every event in it is settled. */
  async remove(file: string): Promise<void> {
    try {
      const { size } = await stat(file);
      await unlink(file);
      this._bytes = Math.max(0, this._bytes - size);
    } catch {
      // Already gone (another owner cleaned up, or never written): nothing to do.
    }
  }

  /** Takes over spool files whose owner is gone and returns their events. Never throws. */
  async claim(): Promise<SpoolRecovery> {
    const recovery: SpoolRecovery = { files: [], corruptFiles: 0, invalidEvents: 0 };
    let names: string[];
    try {
      await this._ensureDir();
      names = await readdir(this.dir);
    } catch (error) {
      this._problem('reading it', error);
      return recovery;
    }
    let bytes = 0;
    for (const name of names) {
      const path = join(this.dir, name);
      if (name.startsWith('.tmp-')) {
        // A write that never finished: its owner died between write and rename.
        if (!ownerIsLive(name.slice('.tmp-'.length).split('-')[0]!)) await unlink(path).catch(() => undefined);
        continue;
      }
      if (name.endsWith(`${SUFFIX}.corrupt`)) {
        // Set aside by an earlier version, and counted by it then: only the space is left to free.
        await unlink(path).catch(() => undefined);
        continue;
      }
      const base = name.includes(CLAIM) ? name.slice(0, name.indexOf(CLAIM)) : name;
      if (!base.endsWith(SUFFIX)) continue;
      if (name.includes(CLAIM) && ownerIsLive(name.slice(name.indexOf(CLAIM) + CLAIM.length))) {
        bytes += await sizeOf(path);
        continue;
      }
      const claimed = join(this.dir, `${base}${CLAIM}${this._owner}`);
      try {
        await rename(path, claimed);
      } catch {
        continue; // another process claimed it first
      }
      const read = await readSpoolFile(claimed);
      const events = read?.events;
      if (read !== undefined) recovery.invalidEvents += read.invalid;
      if (events === undefined) {
        // Counted, then removed: kept aside, such files would fill the directory without bound.
        recovery.corruptFiles++;
        await unlink(claimed).catch(() => undefined);
        continue;
      }
      if (events.length === 0) {
        await unlink(claimed).catch(() => undefined);
        continue;
      }
      bytes += await sizeOf(claimed);
      recovery.files.push({ file: claimed, events, entries: events.length + (read?.invalid ?? 0) });
    }
    this._bytes = bytes;
    if (recovery.corruptFiles > 0)
      this._tell(
        `${recovery.corruptFiles} unreadable file(s) in the spool directory ${JSON.stringify(this.dir)} were counted (getStats().corruptSpoolFiles) and removed`,
      );
    return recovery;
  }
}

async function readSpoolFile(path: string): Promise<{ events: SpooledEvent[]; invalid: number } | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { version?: unknown; events?: unknown };
    if (parsed.version !== FORMAT_VERSION || !Array.isArray(parsed.events)) return undefined;
    const events: SpooledEvent[] = [];
    let invalid = 0;
    for (const item of parsed.events as unknown[]) {
      const spooled = validSpooledEvent(item);
      if (spooled) events.push(spooled);
      else invalid++;
    }
    return { events, invalid };
  } catch {
    return undefined;
  }
}

function validSpooledEvent(item: unknown): SpooledEvent | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const { event, attempts } = item as { event?: Record<string, unknown>; attempts?: unknown };
  if (typeof event !== 'object' || event === null) return undefined;
  const uuid = canonicalUuid(event.uuid);
  if (uuid === undefined || typeof event.event !== 'string' || typeof event.distinct_id !== 'string' || typeof event.timestamp !== 'string')
    return undefined;
  if (typeof event.properties !== 'object' || event.properties === null || typeof event.options !== 'object' || event.options === null)
    return undefined;
  return { event: { ...(event as unknown as CaptureEvent), uuid }, attempts: typeof attempts === 'number' && attempts >= 0 ? attempts : 0 };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Owners (`pid.token`) of the Spool instances running in this process. */
const liveOwners = new Set<string>();

/**
 * Whether the owner named in a file is still running: another process that exists, or an instance
 * of this process that has not shut down. Our pid with an unknown token is an earlier process
 * (containers restart with the same pid) or a finished instance: its files are free to take.
 */
function ownerIsLive(owner: string): boolean {
  const pid = Number(owner.split('.')[0]);
  if (pid === process.pid) return liveOwners.has(owner);
  return isAlive(pid);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

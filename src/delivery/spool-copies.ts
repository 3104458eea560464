import type { PendingRequest } from './pending-request.ts';
import type { Spool } from './spool.ts';

/** The file that holds a request's events on disk, and how many it held when written. */
interface SpoolCopy {
  file: string;
  events: number;
}

/**
 * Which spool file holds which waiting request. A file holds exactly one request's events: when the
 * request loses events (some delivered or dropped) its file is written anew and the old one removed,
 * and when it settles the file goes. So after a restart only events still undelivered are resent.
 * Operations on one request run one after another, even when started concurrently.
 */
export class SpoolCopies {
  readonly spool: Spool | undefined;
  private readonly _copies = new Map<string, SpoolCopy>();
  private readonly _chains = new Map<string, Promise<unknown>>();

  constructor(spool: Spool | undefined) {
    this.spool = spool;
  }

  /** A file recovered at start belongs to the request made of its events. */
  adopt(requestId: string, file: string, events: number): void {
    this._copies.set(requestId, { file, events });
  }

  /** Whether the request's current events are on disk (written, or being written). */
  has(requestId: string): boolean {
    return this._copies.has(requestId);
  }

  /**
   * Makes the disk hold exactly the request's events: a new file when it has none or has lost events
   * since, the old one removed after. Resolves to false when no copy could be written (no spool, over
   * its bound, a disk error); an outdated copy is removed then too.
   */
  sync(request: PendingRequest): Promise<boolean> {
    const spool = this.spool;
    if (spool === undefined) return Promise.resolve(false);
    const id = request.identity.requestId;
    return this._chain(id, async () => {
      const copy = this._copies.get(id);
      if (copy !== undefined && copy.events === request.events.length) return true;
      const file = await spool.write(request.events.map((item) => ({ event: item.event, attempts: item.attempts })));
      if (file !== undefined) this._copies.set(id, { file, events: request.events.length });
      else this._copies.delete(id);
      if (copy !== undefined) await spool.remove(copy.file);
      return file !== undefined;
    });
  }

  /** The request settled (or was dropped): its file goes. */
  release(requestId: string): void {
    const spool = this.spool;
    if (spool === undefined || (!this._copies.has(requestId) && !this._chains.has(requestId))) return;
    void this._chain(requestId, async () => {
      const copy = this._copies.get(requestId);
      this._copies.delete(requestId);
      if (copy !== undefined) await spool.remove(copy.file);
    });
  }

  /** Resolves once every write and removal started so far has finished. */
  async idle(): Promise<void> {
    while (this._chains.size > 0) await Promise.allSettled([...this._chains.values()]);
  }

  private _chain<T>(id: string, operation: () => Promise<T>): Promise<T> {
    const previous = this._chains.get(id) ?? Promise.resolve();
    const next = previous.then(operation, operation);
    const tracked = next.catch(() => undefined);
    this._chains.set(id, tracked);
    void tracked.then(() => {
      if (this._chains.get(id) === tracked) this._chains.delete(id);
    });
    return next;
  }
}

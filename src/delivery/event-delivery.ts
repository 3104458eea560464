import type { CaptureClient } from '../capture/capture-client.ts';
import { serializeEvent } from '../capture/request-batches.ts';
import type { Clock } from '../capture/clock.ts';
import type { TimeSlicer } from '../capture/time-slice.ts';
import type { CaptureEvent, DropReason, DroppedEvent, SendReport } from '../capture/types.ts';
import type { ExportCounters } from './ledger.ts';
import { RetryBuffer, type BufferedEvent, type DueMode, type RetryBufferLimits } from './retry-buffer.ts';
import type { Spool } from './spool.ts';

export interface EventDeliverySettings {
  client: CaptureClient;
  clock: Clock;
  counters: ExportCounters;
  /** Time budget of one delivery (an export, a timed resend). */
  sendTimeoutMillis: number;
  /** Time budget of a flush or shutdown when the caller gives none. */
  flushTimeoutMillis: number;
  retryInitialDelayMillis: number;
  retryBuffer: RetryBufferLimits;
  /** The owner's time slicer: timed resends and exports share its slices. */
  slicer?: TimeSlicer;
  spool?: Spool;
  /** Told of every event given up on, grouped by reason. */
  onDrop: (reason: DropReason, events: readonly CaptureEvent[], details: string | undefined, count: number) => void;
}

/** Backoff an export may sleep in place before its events move to the retry buffer (one or two short retries). */
const IN_PLACE_WAIT_MILLIS = 1_000;

/** Shortest wait before a buffered event is resent on schedule. */
const MIN_RESEND_DELAY_MILLIS = 100;

/** A flush or shutdown in progress: sends end by its deadline, then in-flight requests are aborted. */
interface FlushWindow {
  deadline: number;
  final: boolean;
}

/**
 * Gets events to PostHog or accounts for them. Events the server did not reject but did not take
 * yet (a `retry` verdict, 5xx, timeouts, a deadline) wait in a bounded retry buffer and go out
 * again with later deliveries, on a timer, and at flush and shutdown. With a spool directory,
 * buffered events are also written to disk, so an outage survives a restart.
 */
export class EventDelivery {
  private readonly _s: EventDeliverySettings;
  private readonly _buffer: RetryBuffer;
  private _abort = new AbortController();
  private _windows = new Set<FlushWindow>();
  private _inFlight = new Set<Promise<unknown>>();
  private _timer: NodeJS.Timeout | undefined;
  private _closed = false;
  private _closing = false;
  /** The last delivery got nothing through and had to keep events for later. */
  private _outage = false;
  /** Events each spool file still holds that are not settled; the file goes when this reaches zero. */
  private readonly _spoolRefs = new Map<string, number>();
  /** Events left on disk at shutdown: not delivered, not dropped, still pending for a later process. */
  private _spooledAtShutdown = 0;
  private readonly _removals = new Set<Promise<void>>();
  private readonly _recovery: Promise<void>;

  constructor(settings: EventDeliverySettings) {
    this._s = settings;
    this._buffer = new RetryBuffer(settings.retryBuffer);
    this._recovery = settings.spool ? this._recover(settings.spool) : Promise.resolve();
  }

  /** Events held for a later attempt (in memory), plus those left in the spool at shutdown. */
  get waiting(): number {
    return this._buffer.size + this._spooledAtShutdown;
  }

  /**
   * Sends `events` (and whatever in the buffer is due) and settles every one of them. Resolves to
   * the drops among `events` themselves, by reason: buffered events are not drops.
   */
  deliver(events: readonly CaptureEvent[], startedAt = this._s.clock.now(), slicer?: TimeSlicer): Promise<Map<DropReason, number>> {
    this._s.counters.received += events.length;
    this._s.counters.inFlight += events.length;
    const run = this._run(events, 'scheduled', startedAt, slicer);
    return this._track(run);
  }

  /**
   * Waits for deliveries in flight, then sends what the buffer holds within the flush window.
   * `Retry-After` and backoff still hold: an event not yet due is waited for when it falls due
   * before the deadline. At shutdown, one not due before the deadline is spooled, or, without a
   * spool, sent anyway: a last attempt is better than a certain loss.
   */
  async flush(): Promise<void> {
    await this._recovery;
    await this._settleInFlight();
    // The first pass sends everything the server does not hold back; later passes follow the
    // backoff, so a flush during an outage does not hammer the server until its deadline.
    let mode: 'flush' | 'scheduled' = 'flush';
    for (;;) {
      // A timed resend may hold buffered events right now: let it finish before judging what is due.
      await this._settleInFlight();
      const window = this._window();
      const now = this._s.clock.now();
      const due = this._buffer.nextDueAt(mode);
      if (due === undefined || window === undefined || now >= window.deadline) break;
      if (due <= now) {
        await this._track(this._run([], mode));
        mode = 'scheduled';
        continue;
      }
      if (due < window.deadline) {
        await this._s.clock.sleep(due - now, this._abort.signal);
        continue;
      }
      // Nothing falls due in time. A final flush gives spool-less events their last chance now.
      if (window.final && this._s.spool === undefined) await this._track(this._run([], 'all'));
      break;
    }
    // A timed resend may have started meanwhile; and spool files of delivered events go before the
    // flush ends, so a process exiting now leaves none behind.
    await this._settleInFlight();
    await Promise.allSettled([...this._removals]);
  }

  /** Waits until no delivery is running. */
  async settleInFlight(): Promise<void> {
    await this._settleInFlight();
  }

  /** True while a flush or shutdown window is open. */
  get flushing(): boolean {
    return this._windows.size > 0;
  }

  private async _settleInFlight(): Promise<void> {
    while (this._inFlight.size > 0) await Promise.allSettled([...this._inFlight]);
  }

  /**
   * Opens a flush window: until it closes, deliveries end by `deadline`; at the deadline in-flight
   * requests and backoff sleeps are aborted. A final window (shutdown) spools or drops leftovers
   * instead of buffering them.
   */
  openWindow(timeoutMillis: number, final: boolean): () => void {
    const window: FlushWindow = { deadline: this._s.clock.now() + timeoutMillis, final };
    this._windows.add(window);
    const controller = this._abort;
    const timer = setTimeout(() => {
      // Cut short whatever is still running; later deliveries get a fresh controller.
      if (this._abort === controller) this._abort = new AbortController();
      controller.abort('deadline');
    }, Math.max(0, window.deadline - this._s.clock.now()));
    timer.unref();
    return () => {
      clearTimeout(timer);
      this._windows.delete(window);
    };
  }

  /** Final flush, then leftovers go to the spool (or are dropped); no delivery runs afterwards. */
  async shutdown(): Promise<void> {
    const close = this._windows.size === 0 ? this.openWindow(this._s.flushTimeoutMillis, true) : undefined;
    try {
      // No timed resend may start once shutdown begins: the final flush does the last sends.
      this._closing = true;
      if (this._timer) clearTimeout(this._timer);
      this._timer = undefined;
      await this.flush();
      this._closed = true;
      const leftovers = this._buffer.takeDue(0, 'all');
      if (leftovers.length > 0) await this._spoolOrDrop(leftovers, 'deadline', 'still undelivered at shutdown (and not spooled)');
      this._s.spool?.release();
    } finally {
      close?.();
    }
  }

  private _track<T>(promise: Promise<T>): Promise<T> {
    this._inFlight.add(promise);
    void promise.finally(() => this._inFlight.delete(promise)).catch(() => undefined);
    return promise;
  }

  private _window(): FlushWindow | undefined {
    let earliest: FlushWindow | undefined;
    for (const w of this._windows) if (earliest === undefined || w.deadline < earliest.deadline) earliest = w;
    return earliest;
  }

  private async _run(fresh: readonly CaptureEvent[], mode: DueMode, startedAt?: number, slicer?: TimeSlicer): Promise<Map<DropReason, number>> {
    const s = this._s;
    const now = s.clock.now();
    const ownDrops = new Map<DropReason, number>();

    const expired = this._buffer.expire(now);
    if (expired.length > 0) this._dropBuffered(expired, 'retry_exhausted', `still undelivered after ${this._s.retryBuffer.maxAgeMillis} ms of retries`);
    const resend = this._buffer.takeDue(now, mode);
    const byUuid = new Map<string, BufferedEvent>();
    for (const item of resend) {
      byUuid.set(item.event.uuid, item);
      s.counters.inFlight++;
    }
    const window = this._window();
    // An export's budget counts from when the exporter got it, mapping included.
    const deadline = Math.min((startedAt ?? now) + s.sendTimeoutMillis, window?.deadline ?? Infinity);
    const events = resend.length === 0 ? fresh : [...resend.map((b) => b.event), ...fresh];
    if (events.length === 0) {
      this._schedule();
      return ownDrops;
    }

    const sendSlicer = slicer ?? s.slicer;
    let report: SendReport;
    try {
      report = await s.client.send(events, {
        deadline,
        signal: this._abort.signal,
        ...(sendSlicer ? { slicer: sendSlicer } : {}),
        // Retry in place only briefly (a partial `retry`, a blip), and not at all while PostHog is
        // down: waiting would hold the batch processor's only export slot, and its queue would
        // overflow. Longer waits happen in the retry buffer.
        maxWaitMillis: s.retryBuffer.maxEvents === 0 ? Infinity : this._outage ? 0 : IN_PLACE_WAIT_MILLIS,
        ...(byUuid.size > 0 ? { priorAttempts: new Map([...byUuid].map(([uuid, b]) => [uuid, b.attempts])) } : {}),
      });
    } catch (error) {
      // The client reports rather than throws; should that ever fail, its events are still accounted for.
      const details = `internal error: ${error instanceof Error ? error.message : String(error)}`;
      report = { delivered: 0, requests: 0, retries: 0, dropped: events.map((event) => ({ event, reason: 'internal_error', details, transient: false, attempts: byUuid.get(event.uuid)?.attempts ?? 0 })) };
    }
    s.counters.requests += report.requests;
    s.counters.retries += report.retries;

    const undelivered = new Set<string>();
    const toBuffer: DroppedEvent[] = [];
    const dropsByReason = new Map<DropReason, DroppedEvent[]>();
    for (const drop of report.dropped) {
      undelivered.add(drop.event.uuid);
      // Not rejected, only not yet accepted: a delivery's time or attempts ran out. The buffer keeps
      // it for later deliveries, where it gets one attempt each; its bounds decide when to give up.
      const keep = drop.transient && this._s.retryBuffer.maxEvents > 0 && !this._closed;
      if (keep) toBuffer.push(drop);
      else push(dropsByReason, drop.reason, drop);
    }
    // A delivery that got nothing through but kept events is an outage; any success ends it, and
    // then everything waiting goes out at once rather than at the end of its backoff.
    if (report.delivered > 0) {
      if (this._outage) {
        this._buffer.recovered(now);
        // The timer may be set for the end of a long backoff: set it again for now.
        if (this._timer) clearTimeout(this._timer);
        this._timer = undefined;
      }
      this._outage = false;
    } else if (toBuffer.length > 0) {
      this._outage = true;
    }
    // Delivered and terminally dropped events settle now; kept ones once they are in the buffer,
    // so `pending` never misses them while the spool is written.
    s.counters.delivered += report.delivered;
    s.counters.inFlight -= events.length - toBuffer.length;
    // Buffered events that got through release their spool files.
    for (const [uuid, item] of byUuid) if (!undelivered.has(uuid)) this._releaseSpool(item);

    // Which drops were this delivery's own events (not buffered ones): asked only when something dropped.
    const own = dropsByReason.size > 0 ? new Set(fresh.map((event) => event.uuid)) : undefined;
    for (const [reason, drops] of dropsByReason) {
      this._settleDropped(drops.map((d) => ({ drop: d, buffered: byUuid.get(d.event.uuid) })), reason);
      for (const d of drops) if (own!.has(d.event.uuid)) ownDrops.set(reason, (ownDrops.get(reason) ?? 0) + 1);
    }
    if (toBuffer.length > 0) {
      const items = toBuffer.map((drop) => this._bufferedFrom(drop, byUuid.get(drop.event.uuid), now));
      try {
        // At shutdown with a spool they go to disk now, where the buffer's bounds cannot push them out.
        // Without one they wait in the buffer too: shutdown's flush resends them while its window
        // lasts (backoff and Retry-After honoured), then drops what is left.
        if (this._s.spool !== undefined && [...this._windows].some((w) => w.final)) await this._spoolOrDrop(items, 'deadline', 'not delivered by shutdown, and the spool could not take it');
        else await this._admit(items);
      } finally {
        s.counters.inFlight -= toBuffer.length;
      }
    }
    this._schedule();
    return ownDrops;
  }

  private _bufferedFrom(drop: DroppedEvent, previous: BufferedEvent | undefined, now: number): BufferedEvent {
    const item: BufferedEvent = {
      event: drop.event,
      attempts: drop.attempts,
      bytes: previous?.bytes ?? approximateBytes(drop.event),
      bufferedAt: previous?.bufferedAt ?? now,
      // Never sooner than MIN_RESEND_DELAY: with a zero initial delay an outage would become a busy loop.
      notBefore: Math.max(drop.notBefore ?? 0, now + Math.max(this._s.retryInitialDelayMillis, MIN_RESEND_DELAY_MILLIS)),
    };
    if (drop.retryAfterUntil !== undefined) item.retryAfterUntil = drop.retryAfterUntil;
    if (previous?.spoolFile !== undefined) item.spoolFile = previous.spoolFile;
    return item;
  }

  /** Puts events in the buffer, writes new ones to the spool, and accounts for any the bounds push out. */
  private async _admit(items: BufferedEvent[]): Promise<void> {
    const spool = this._s.spool;
    const unspooled = items.filter((item) => item.spoolFile === undefined);
    if (spool && unspooled.length > 0) {
      const file = await spool.write(unspooled.map((item) => ({ event: item.event, attempts: item.attempts })));
      if (file !== undefined) {
        for (const item of unspooled) item.spoolFile = file;
        this._spoolRefs.set(file, (this._spoolRefs.get(file) ?? 0) + unspooled.length);
      }
    }
    const evicted = this._buffer.add(items);
    if (evicted.length > 0) this._dropBuffered(evicted, 'retry_buffer_full', `the retry buffer holds at most ${this._s.retryBuffer.maxEvents} events and ${this._s.retryBuffer.maxBytes} bytes`);
  }

  private async _spoolOrDrop(items: BufferedEvent[], reason: DropReason, details: string): Promise<void> {
    const spool = this._s.spool;
    const onDisk = items.filter((item) => item.spoolFile !== undefined);
    const rest = items.filter((item) => item.spoolFile === undefined);
    let written = 0;
    if (spool && rest.length > 0) {
      const file = await spool.write(rest.map((item) => ({ event: item.event, attempts: item.attempts })));
      if (file !== undefined) written = rest.length;
    }
    // Spooled events stay pending: a later process with the same spool directory sends them.
    this._spooledAtShutdown += onDisk.length + written;
    if (written < rest.length) this._dropBuffered(rest, reason, details);
  }

  private _dropBuffered(items: readonly BufferedEvent[], reason: DropReason, details: string): void {
    this._settleDropped(
      items.map((item) => ({ drop: { event: item.event, reason, details, transient: true, attempts: item.attempts }, buffered: item })),
      reason,
    );
  }

  private _settleDropped(entries: ReadonlyArray<{ drop: DroppedEvent; buffered: BufferedEvent | undefined }>, reason: DropReason): void {
    if (entries.length === 0) return;
    this._s.counters.drop(reason, entries.length);
    for (const { buffered } of entries) if (buffered) this._releaseSpool(buffered);
    this._s.onDrop(
      reason,
      entries.map((e) => e.drop.event),
      entries[0]!.drop.details,
      entries.length,
    );
  }

  private _releaseSpool(item: BufferedEvent): void {
    const file = item.spoolFile;
    if (file === undefined || this._s.spool === undefined) return;
    const left = (this._spoolRefs.get(file) ?? 1) - 1;
    if (left > 0) {
      this._spoolRefs.set(file, left);
      return;
    }
    this._spoolRefs.delete(file);
    const removal = this._s.spool.remove(file);
    this._removals.add(removal);
    void removal.finally(() => this._removals.delete(removal));
  }

  /** Resends buffered events when they fall due, even if no new records arrive. */
  private _schedule(): void {
    if (this._closing || this._timer !== undefined) return;
    const due = this._buffer.nextDueAt();
    if (due === undefined) return;
    this._timer = setTimeout(
      () => {
        this._timer = undefined;
        if (this._closing) return;
        void this._track(this._run([], 'scheduled')).catch(() => undefined);
      },
      // Rounded up: a timer that fires a fraction of a millisecond early would find nothing due.
      Math.max(0, Math.ceil(due - this._s.clock.now()) + 1),
    );
    // A pending resend must not keep the process alive; shutdown() sends or spools what is left.
    this._timer.unref();
  }

  private async _recover(spool: Spool): Promise<void> {
    try {
      const recovery = await spool.claim();
      const now = this._s.clock.now();
      const items: BufferedEvent[] = recovery.events.map((e) => ({
        event: e.event,
        attempts: 0,
        bytes: approximateBytes(e.event),
        bufferedAt: now,
        notBefore: now,
        spoolFile: e.file,
      }));
      for (const item of items) this._spoolRefs.set(item.spoolFile!, (this._spoolRefs.get(item.spoolFile!) ?? 0) + 1);
      this._s.counters.recovered += items.length + recovery.invalidEvents;
      this._s.counters.received += items.length + recovery.invalidEvents;
      this._s.counters.corruptSpoolFiles += recovery.corruptFiles;
      if (recovery.invalidEvents > 0) {
        this._s.counters.drop('invalid', recovery.invalidEvents);
        this._s.onDrop('invalid', [], 'a spool file held events that are not valid PostHog events', recovery.invalidEvents);
      }
      // A new process gives recovered events a fresh attempt budget: the outage they waited out is over or not, we cannot know.
      const evicted = this._buffer.add(items);
      if (evicted.length > 0) this._dropBuffered(evicted, 'retry_buffer_full', 'the retry buffer is smaller than the recovered spool');
      this._schedule();
    } catch {
      // claim() does not throw; a failure here only means nothing was recovered.
    }
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The event's serialised size; 1 KiB for one that does not serialise, so the byte bound still counts it. */
function approximateBytes(event: CaptureEvent): number {
  return serializeEvent(event)?.bytes ?? 1024;
}

import type { CaptureSender, SendOptions } from '../capture/capture-client.ts';
import type { DeliverySettings } from '../config/sections.ts';
import type { BackoffSettings } from '../capture/retry-policy.ts';
import { scheduleOn, type Clock } from '../shared/clock.ts';
import { serializeEvent } from '../capture/request-batches.ts';
import { newIdentity } from '../capture/send-loop.ts';
import { emptyReport, isUnreachable, type SendReport } from '../capture/send-report.ts';
import type { TimeSlicer } from '../shared/time-slice.ts';
import type { CaptureEvent, DropReason } from '../capture/types.ts';
import { FlushWindows, type FlushWindow } from './flush-windows.ts';
import { DeliveryHealth, type HealthChange } from './health.ts';
import type { DeliveryLedger } from './ledger.ts';
import { eventCount, pendingRequest, type PendingRequest } from './pending-request.ts';
import { ProbeSchedule } from './probe-schedule.ts';
import { RetryQueue, type DueMode, type Eviction } from './retry-queue.ts';
import { dropCounts, settle, type Settlement } from './settlement.ts';
import { SpoolCopies } from './spool-copies.ts';
import type { Spool, SpooledFile } from './spool.ts';

/** The delivery section of the configuration, and the parts the owner plugs in. */
export interface EventDeliverySettings extends DeliverySettings {
  client: CaptureSender;
  clock: Clock;
  ledger: DeliveryLedger;
  /** The pace of probes during an outage: the client's backoff. */
  backoff: BackoffSettings;
  /** Jitter source of that backoff; Math.random by default. */
  random?: () => number;
  /** The owner's time slicer: timed resends and exports share its slices. */
  slicer?: TimeSlicer;
  spool?: Spool;
  /** Told of every event given up on, grouped by reason. */
  onDrop: (reason: DropReason, events: readonly CaptureEvent[], details: string | undefined, count: number) => void;
  /** Told when PostHog stops taking events, and when it takes them again. */
  onHealthChange?: (change: HealthChange) => void;
}

/** Backoff a request may sleep in place before it moves to the retry buffer (one or two short retries). */
const IN_PLACE_WAIT_MILLIS = 1_000;

/** Requests resent at once from the retry buffer. */
const RESEND_CONCURRENCY = 4;

/**
 * Gets events to PostHog or accounts for them. What the server did not reject but did not take yet
 * (a `retry` verdict, 5xx, timeouts, a deadline) waits in a bounded retry buffer as the request it
 * was: its request id, `created_at`, attempt count and backoff go on from where they were, whether
 * it is resent by its timer, a flush or shutdown. With a spool directory, waiting requests are also
 * written to disk, so an outage survives a restart.
 *
 * During an outage (PostHog took nothing of the last delivery) new events are not sent: their
 * requests join the buffer unsent, and one request at a time probes PostHog when the outage's
 * backoff allows. The first success ends the outage, and everything waiting goes out.
 */
export class EventDelivery {
  readonly health: DeliveryHealth;
  private readonly _s: EventDeliverySettings;
  private readonly _queue: RetryQueue;
  private readonly _windows: FlushWindows;
  private readonly _copies: SpoolCopies;
  private readonly _probes: ProbeSchedule;
  /** A probe is in flight: no other request goes until it is answered. */
  private _probing = false;
  private readonly _inFlight = new Set<Promise<unknown>>();
  private _cancelTimer: (() => void) | undefined;
  private _timerAt: number | undefined;
  /** Shutdown began: no timed resend starts any more. */
  private _closing = false;
  /** Shutdown's flush is over: nothing more goes to the buffer. */
  private _closed = false;
  private readonly _recovery: Promise<void>;

  constructor(settings: EventDeliverySettings) {
    this._s = settings;
    this._queue = new RetryQueue(settings.retryBuffer);
    this._windows = new FlushWindows(settings.clock);
    this._copies = new SpoolCopies(settings.spool);
    this.health = new DeliveryHealth(settings.onHealthChange);
    this._probes = new ProbeSchedule(settings.backoff, settings.random ?? Math.random);
    this._recovery = settings.spool ? this._recover(settings.spool) : Promise.resolve();
  }

  /**
   * Sends new events (already counted in flight by the ledger) and settles every one of them.
   * Resolves to the drops among them by reason: events kept for a later attempt are not drops.
   */
  deliver(events: readonly CaptureEvent[], startedAt = this._s.clock.now(), slicer?: TimeSlicer): Promise<Map<DropReason, number>> {
    return this._track(this._deliver(events, startedAt, slicer));
  }

  /** True while a flush or shutdown window is open. */
  get flushing(): boolean {
    return this._windows.isOpen;
  }

  /** Requests waiting in the retry buffer. */
  get waitingRequests(): readonly PendingRequest[] {
    return this._queue.requests;
  }

  /**
   * Opens a flush window: until it closes, deliveries end by the deadline; then in-flight requests
   * and backoff sleeps are aborted. A final window (shutdown) spools or drops leftovers.
   */
  openWindow(timeoutMillis: number, final: boolean): () => void {
    const close = this._windows.open(timeoutMillis, final);
    return () => {
      close();
      // A window that found PostHog unreachable held the timer back.
      this._schedule();
    };
  }

  /** Waits until no delivery is running. */
  async settleInFlight(): Promise<void> {
    while (this._inFlight.size > 0) await Promise.allSettled([...this._inFlight]);
  }

  /**
   * Waits for deliveries in flight, then resends what the buffer holds within the flush window.
   * The first pass sends every request the server's Retry-After allows, due by its backoff or not;
   * later passes follow the backoff. During an outage it sends one probe at most (see
   * {@link _outageStep}). It stops early once PostHog is found unreachable. At shutdown without a
   * spool, what it has not sent yet gets one last attempt when nothing falls due in time.
   */
  async flush(): Promise<void> {
    await this._recovery;
    const sent = new Set<string>();
    let mode: 'flush' | 'scheduled' = 'flush';
    let probed = false;
    for (;;) {
      await this.settleInFlight();
      const window = this._windows.earliest();
      const now = this._s.clock.now();
      if (window === undefined || now >= window.deadline || this._windows.unreachable) break;
      if (this.health.outage) {
        const step: OutageStep = probed ? 'done' : await this._outageStep(window, now, sent);
        if (step === 'done') break;
        probed = step === 'probed';
        continue;
      }
      const due = this._queue.nextDueAt(mode);
      if (due === undefined) break;
      if (due <= now) {
        await this._track(this._resendDue(mode, sent));
        mode = 'scheduled';
      } else if (due < window.deadline) {
        await this._s.clock.sleep(due - now, this._windows.signal);
      } else {
        if (window.final && this._s.spool === undefined) await this._track(this._resendDue('all', sent));
        break;
      }
    }
    // A timed resend may have started meanwhile; and spool files of settled requests go before the
    // flush ends, so a process exiting now leaves none behind.
    await this.settleInFlight();
    await this._copies.idle();
  }

  /** Final flush, then leftovers go to the spool (or are dropped); nothing is sent afterwards. */
  async shutdown(): Promise<void> {
    const close = this._windows.isOpen ? undefined : this._windows.open(this._s.flushTimeoutMillis, true);
    try {
      this._closing = true;
      this._cancelTimer?.();
      await this.flush();
      this._closed = true;
      const leftovers = this._queue.takeDue(0, 'all');
      this._s.ledger.resume(eventCount(leftovers));
      await this._parkOrDrop(leftovers);
      await this._copies.idle();
      this._s.spool?.release();
    } finally {
      close?.();
    }
  }

  private async _deliver(
    events: readonly CaptureEvent[],
    startedAt: number,
    slicer: TimeSlicer | undefined,
  ): Promise<Map<DropReason, number>> {
    const now = this._s.clock.now();
    this._expire(now);
    // The gate: during an outage new events wait (unsent, no attempt spent) rather than go out on a backoff of their own.
    const hold = this.health.outage && this._s.retryBuffer.maxEvents > 0;
    const { client } = this._s;
    const report = await this._sendSafely(
      events,
      (options) => (hold ? client.hold(events, options) : client.send(events, options)),
      startedAt,
      slicer,
    );
    const settlement = await this._settle(report, now, undefined);
    this._schedule();
    return dropCounts(settlement);
  }

  /** Resends the requests due (except, at the last pass, those this flush sent already), a few at a time. */
  private async _resendDue(mode: DueMode, sentByFlush?: Set<string>): Promise<void> {
    const now = this._s.clock.now();
    this._expire(now);
    const due = this._queue.takeDue(now, mode, mode === 'all' ? sentByFlush : undefined);
    this._s.ledger.resume(eventCount(due));
    const send = async (request: PendingRequest): Promise<void> => {
      // Once one of them finds PostHog failing, the rest stays waiting: probes take over.
      if (this.health.outage) return this._admit(request);
      sentByFlush?.add(request.identity.requestId);
      await this._resend(request);
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length) await send(due[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(RESEND_CONCURRENCY, due.length - next) }, worker));
  }

  /**
   * A flush during an outage sends one probe at most: when the outage's backoff and the server's
   * Retry-After allow (a flush does not wait out a request's own backoff), waiting for that within
   * its window when the probe can tell something in time (see {@link _worthWaiting}). At a shutdown
   * without a spool, which would drop what is left, a probe that would not fall due in time goes at once.
   */
  private async _outageStep(window: FlushWindow, now: number, sent: Set<string>): Promise<OutageStep> {
    const at = this._nextProbeAt('flush');
    if (at === undefined) return 'done';
    if (at <= now) return (await this._track(this._probe('flush', sent))) ? 'probed' : 'done';
    if (this._worthWaiting(at, window)) {
      await this._s.clock.sleep(at - now, this._windows.signal);
      return 'waited';
    }
    const lastChance = window.final && this._s.spool === undefined;
    return lastChance && (await this._track(this._probe('all', sent))) ? 'probed' : 'done';
  }

  /**
   * Whether to wait for a probe at `at`: never while PostHog is known unreachable (refused, DNS,
   * TLS); while it answers with errors (5xx, Retry-After), if the probe goes before the window ends;
   * after one request that got no answer (a blip), if the probe's own timeout ends within the
   * window; once that happened again, no more: a flush does not wait for a PostHog that does not answer.
   */
  private _worthWaiting(at: number, window: FlushWindow): boolean {
    const cause = this.health.lastFailure;
    if (cause === undefined || isUnreachable(cause)) return false;
    if (cause.kind === 'status') return at < window.deadline;
    return this._probes.failures <= 1 && at + this._s.sendTimeoutMillis <= window.deadline;
  }

  /** What the resend timer does: resend what is due, or during an outage probe when the backoff allows. */
  private async _resendOnTimer(): Promise<void> {
    if (!this.health.outage) return this._resendDue('scheduled');
    if ((this._nextProbeAt('scheduled') ?? Infinity) <= this._s.clock.now()) await this._probe('scheduled');
  }

  /** One request, alone, asks whether PostHog takes events again. Resolves to whether it went. */
  private async _probe(mode: DueMode, sent?: Set<string>): Promise<boolean> {
    if (this._probing) return false;
    const now = this._s.clock.now();
    this._expire(now);
    const request = this._queue.takeNext(now, mode);
    if (request === undefined) return false;
    this._probing = true;
    this._s.ledger.resume(request.events.length);
    sent?.add(request.identity.requestId);
    try {
      await this._resend(request);
    } finally {
      this._probing = false;
      this._schedule();
    }
    return true;
  }

  private async _resend(request: PendingRequest): Promise<void> {
    const report = await this._sendSafely(
      request.events.map((item) => item.event),
      (options) => this._s.client.resend(request, options),
      this._s.clock.now(),
      undefined,
    );
    await this._settle(report, request.waitingSince, request);
  }

  private _sendOptions(startedAt: number, slicer: TimeSlicer | undefined): SendOptions {
    const s = this._s;
    const window = this._windows.earliest();
    const sendSlicer = slicer ?? s.slicer;
    // An export's budget counts from when the exporter got it, mapping included.
    const own = startedAt + s.sendTimeoutMillis;
    return {
      deadline: Math.min(own, window?.deadline ?? Infinity),
      // A window's end aborts what is in flight, which says nothing about PostHog; only the send's own budget times out.
      answerDeadline: own,
      signal: this._windows.signal,
      // Retry in place only briefly (a partial `retry`, a blip), and not at all while PostHog is
      // down: waiting would hold the batch processor's only export slot, and its queue would overflow.
      maxWaitMillis: s.retryBuffer.maxEvents === 0 ? Infinity : this.health.outage ? 0 : IN_PLACE_WAIT_MILLIS,
      // Only where the rest can wait (a buffer): without one, stopping early would only drop it sooner.
      failFast: this._windows.isOpen && s.retryBuffer.maxEvents > 0,
      ...(sendSlicer ? { slicer: sendSlicer } : {}),
    };
  }

  /** The client reports rather than throws; should that ever fail, its events are still accounted for. */
  private async _sendSafely(
    events: readonly CaptureEvent[],
    send: (options: SendOptions) => Promise<SendReport>,
    startedAt: number,
    slicer: TimeSlicer | undefined,
  ): Promise<SendReport> {
    try {
      return await send(this._sendOptions(startedAt, slicer));
    } catch (error) {
      const details = `internal error: ${error instanceof Error ? error.message : String(error)}`;
      return { ...emptyReport(), rejected: events.map((event) => ({ event, reason: 'internal_error', details, attempts: 0 })) };
    }
  }

  /**
   * Accounts for a send: delivered and rejected events settle now; kept requests enter the buffer
   * (or, at shutdown with a spool, the disk). `from` is the request resent, whose spool file goes
   * unless its continuation keeps it.
   */
  private async _settle(report: SendReport, waitingSince: number, from: PendingRequest | undefined): Promise<Settlement> {
    const { ledger, clock } = this._s;
    const now = clock.now();
    ledger.sent(report.requests, report.retries);
    const settlement = settle(report, this._s.retryBuffer.maxEvents > 0 && !this._closed);
    ledger.deliver(settlement.delivered);
    // Health first: an outage is told of before the drops it causes, which then name its cause.
    this._observe(report, settlement.delivered, now);
    for (const group of settlement.drops) this._dropInFlight(group.reason, group.events, group.details);
    const kept = settlement.kept.map((deferred) => pendingRequest(deferred, waitingSince, now));
    await this._keep(kept);
    const id = from?.identity.requestId;
    if (id !== undefined && !kept.some((request) => request.identity.requestId === id)) this._copies.release(id);
    return settlement;
  }

  /** The one place where deliveries change the health: an outage starts, goes on, or ends. */
  private _observe(report: SendReport, delivered: number, now: number): void {
    if (delivered > 0) {
      if (this.health.delivered(now)) {
        this._probes.reset();
        // Everything waiting goes out now rather than at the end of its backoff.
        this._queue.recovered(now);
        this._schedule(true);
      }
      return;
    }
    if (report.lastFailure === undefined) return;
    this._probes.failed(now, latestRetryAfter(report));
    this.health.failed(report.lastFailure, now);
    if (isUnreachable(report.lastFailure)) this._windows.markUnreachable();
  }

  /** Kept requests go to disk first (when there is a spool), then into the buffer. */
  private async _keep(requests: PendingRequest[]): Promise<void> {
    if (requests.length === 0) return;
    // At shutdown with a spool they go to disk now, where the buffer's bounds cannot push them out.
    if (this._s.spool !== undefined && this._windows.final) return this._parkOrDrop(requests);
    // Written before they enter the buffer: a resend could otherwise settle a request before its file exists.
    await Promise.all(requests.map((request) => this._copies.sync(request)));
    for (const request of requests) this._admit(request);
  }

  /** A request in flight goes (back) into the buffer. */
  private _admit(request: PendingRequest): void {
    this._s.ledger.defer(request.events.length);
    this._enqueue(request);
  }

  /** Into the buffer, accounting for whatever its bounds push out. */
  private _enqueue(request: PendingRequest): void {
    const evictions = this._queue.add(request);
    if (evictions.length === 0) return;
    const limits = this._s.retryBuffer;
    this._dropWaiting(
      evictions,
      'retry_buffer_full',
      `the retry buffer holds at most ${limits.maxEvents} events and ${limits.maxBytes} bytes`,
    );
    for (const { request: shrunk } of evictions) {
      // A request that lost events must not bring them back after a restart.
      if (shrunk.events.length === 0) this._copies.release(shrunk.identity.requestId);
      else void this._copies.sync(shrunk);
    }
  }

  /** Requests whose events have waited longer than the age bound are given up on. */
  private _expire(now: number): void {
    const expired = this._queue.expire(now);
    if (expired.length === 0) return;
    this._dropWaiting(
      expired.map((request) => ({ request, events: request.events })),
      'retry_exhausted',
      `still undelivered after ${this._s.retryBuffer.maxAgeMillis} ms of retries`,
    );
    for (const request of expired) this._copies.release(request.identity.requestId);
  }

  /** Shutdown's leftovers: into the spool (still pending, for a later process), or dropped. */
  private async _parkOrDrop(requests: readonly PendingRequest[]): Promise<void> {
    const cause = this.health.unreachable ? `PostHog was unreachable (${this.health.lastFailure?.kind})` : 'still undelivered';
    await Promise.all(
      requests.map(async (request) => {
        if (await this._copies.sync(request)) return this._s.ledger.park(request.events.length);
        const details =
          this._s.spool === undefined
            ? `${cause} at shutdown, and there is no spool`
            : `${cause} at shutdown, and the spool could not take it`;
        this._dropInFlight(
          'deadline',
          request.events.map((item) => item.event),
          details,
        );
      }),
    );
  }

  private _dropInFlight(reason: DropReason, events: readonly CaptureEvent[], details: string | undefined): void {
    if (events.length === 0) return;
    this._s.ledger.drop(reason, events.length);
    this._s.onDrop(reason, events, details, events.length);
  }

  private _dropWaiting(evictions: readonly Eviction[], reason: DropReason, details: string): void {
    const events = evictions.flatMap((eviction) => eviction.events.map((item) => item.event));
    if (events.length === 0) return;
    this._s.ledger.dropWaiting(reason, events.length);
    this._s.onDrop(reason, events, details, events.length);
  }

  private _track<T>(promise: Promise<T>): Promise<T> {
    this._inFlight.add(promise);
    void promise.finally(() => this._inFlight.delete(promise)).catch(() => undefined);
    return promise;
  }

  /**
   * Arms the resend timer for the earliest request due (during an outage, not before the next
   * probe), even if no new records arrive. It is held while a probe is in flight (the probe arms it
   * when answered) and while a flush window found PostHog unreachable (the window's close re-arms
   * it), and re-armed when it fires before anything is due (the clock and timers may disagree).
   */
  private _schedule(rearm = false): void {
    if (this._closing || this._probing || this._windows.unreachable) return;
    const due = this._nextSendAt();
    if (due === undefined) return;
    if (!rearm && this._timerAt !== undefined && this._timerAt <= due) return;
    this._cancelTimer?.();
    this._timerAt = due;
    // Rounded up: a timer that fires a fraction of a millisecond early would find nothing due.
    this._cancelTimer = scheduleOn(this._s.clock, Math.max(0, Math.ceil(due - this._s.clock.now()) + 1), () => {
      this._timerAt = undefined;
      this._cancelTimer = undefined;
      if (this._closing) return;
      void this._track(this._resendOnTimer().then(() => this._schedule())).catch(() => undefined);
    });
  }

  /** When the timer next has something to send. */
  private _nextSendAt(): number | undefined {
    return this.health.outage ? this._nextProbeAt('scheduled') : this._queue.nextDueAt('scheduled');
  }

  /** When the next probe may go: the outage's backoff allows it, and a request is due by `mode`. */
  private _nextProbeAt(mode: Exclude<DueMode, 'all'>): number | undefined {
    const due = this._queue.nextDueAt(mode);
    return due === undefined ? undefined : Math.max(due, this._probes.nextAt);
  }

  private async _recover(spool: Spool): Promise<void> {
    try {
      const recovery = await spool.claim();
      const { ledger } = this._s;
      ledger.corruptSpoolFiles(recovery.corruptFiles);
      if (recovery.invalidEvents > 0) {
        ledger.recoverInvalid(recovery.invalidEvents);
        this._s.onDrop('invalid', [], 'a spool file held events that are not valid PostHog events', recovery.invalidEvents);
      }
      for (const file of recovery.files) this._recoverFile(file);
      this._schedule();
    } catch {
      // claim() does not throw; a failure here only means nothing was recovered.
    }
  }

  /**
   * A recovered file becomes a new request (a new request id, attempt 1 next) with a fresh attempt
   * budget: this process cannot know what the outage it waited out cost. The file stays its copy.
   */
  private _recoverFile({ file, events, entries }: SpooledFile): void {
    const clock = this._s.clock;
    const now = clock.now();
    const seen = new Set<string>();
    const items = [];
    const duplicates: CaptureEvent[] = [];
    for (const { event } of events) {
      const item = seen.has(event.uuid) ? undefined : serializeEvent(event);
      if (item === undefined) duplicates.push(event);
      else items.push(item);
      seen.add(event.uuid);
    }
    if (duplicates.length > 0) {
      this._s.ledger.recoverInvalid(duplicates.length);
      this._s.onDrop('invalid', duplicates, 'a spool file held this uuid twice (or an event that no longer serialises)', duplicates.length);
    }
    if (items.length === 0) {
      void this._s.spool?.remove(file);
      return;
    }
    const request: PendingRequest = {
      ...pendingRequest({ identity: newIdentity(clock), attempt: 0, events: items, reasonIfDropped: 'deadline', notBefore: now }, now, now),
      notBefore: now,
    };
    this._copies.adopt(request.identity.requestId, file, entries);
    // A file with entries beyond the request's (invalid, duplicates) is written anew, so they are counted once.
    if (entries !== items.length) void this._copies.sync(request);
    this._s.ledger.recover(items.length);
    this._enqueue(request);
  }
}

/** What a flush did during an outage: sent its probe, waited for one to fall due, or is done. */
type OutageStep = 'probed' | 'waited' | 'done';

/** The latest time a `Retry-After` of the send allows the next request, if the server gave one. */
function latestRetryAfter(report: SendReport): number | undefined {
  let latest: number | undefined;
  for (const deferred of report.deferred) {
    if (deferred.retryAfterUntil !== undefined && (latest === undefined || deferred.retryAfterUntil > latest))
      latest = deferred.retryAfterUntil;
  }
  return latest;
}

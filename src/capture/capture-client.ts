import type { CaptureClientSettings } from '../config/sections.ts';
import { BodyBuffers } from './body-buffers.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { EncodedEvent } from './encoded-event.ts';
import { QueuedEvent, batchPoisoningProblem, serializeEvent, splitIntoRequests, type SerializedEvent } from './request-batches.ts';
import { newIdentity, sendRequest, type AttemptSummary, type OutgoingRequest, type SendContext } from './send-loop.ts';
import { emptyReport, type SendReport } from './send-report.ts';
import { TimeSlicer } from '../shared/time-slice.ts';
import { UndiciTransport, type CaptureTransport } from '../transport/transport.ts';
import type { CaptureEvent } from './types.ts';
import { CAPTURE_PATH, extraHeadersWithoutProtocolOnes } from './wire-request.ts';

/** A client's section of the configuration, plus the name it sends and the parts its owner (or a test) plugs in. */
export interface CaptureClientOptions extends CaptureClientSettings {
  /** `<name>/<version>`, sent as `User-Agent` and `PostHog-Sdk-Info`. */
  sdkInfo: string;
  /** Replaces the HTTP transport entirely. */
  transport?: CaptureTransport;
  clock?: Clock;
  random?: () => number;
  onAttempt?: (summary: AttemptSummary) => void;
  onCompressionError?: (error: unknown) => void;
  /** Told once when a 415 refused a zstd body; the client sends gzip from then on. */
  onCompressionFallback?: () => void;
}

export interface SendOptions {
  /** Clock time by which every event must be delivered or given up. */
  deadline: number;
  /**
   * Clock time by which an attempt must be answered, or it times out: a failure of PostHog's.
   * Default `deadline`. Set it later when `signal` cuts attempts at `deadline` (a flush window's
   * end): that cut says nothing about PostHog.
   */
  answerDeadline?: number;
  /**
   * Aborting ends backoff sleeps and in-flight requests; what is left comes back deferred, to be
   * counted as `shutdown`, or as `deadline` when the signal's reason is the string `'deadline'`.
   */
  signal?: AbortSignal;
  /** The caller's time slicer, so its own work and this send's share one slice. */
  slicer?: TimeSlicer;
  /** This send's attempt budget per event, instead of the client's `maxAttempts`. */
  maxAttempts?: number;
  /**
   * Longest total backoff a request may sleep in place; past it, the request comes back deferred
   * with `notBefore` (for a caller that keeps it for later). Default: no bound but the deadline.
   */
  maxWaitMillis?: number;
  /** Once an attempt finds PostHog unreachable (refused, DNS, TLS), defer what is left instead of retrying. */
  failFast?: boolean;
}

/** What the delivery stage needs of a capture client. */
export interface CaptureSender {
  send(events: readonly CaptureEvent[], options: SendOptions): Promise<SendReport>;
  hold(events: readonly CaptureEvent[], options: Pick<SendOptions, 'slicer'>): Promise<SendReport>;
  resend(request: OutgoingRequest, options: SendOptions): Promise<SendReport>;
}

/** A new request, and its batch's JSON array members when the batch was serialised whole. */
interface PreparedRequest {
  request: OutgoingRequest;
  members?: readonly string[];
}

/** A capture v1 client: events in, a report of what became of each of them out. */
export class CaptureClient implements CaptureSender {
  readonly endpoint: URL;
  private readonly _options: Omit<CaptureClientSettings, 'headers' | 'dispatcher'> & {
    sdkInfo: string;
    clock: Clock;
    random: () => number;
  };
  private readonly _headers: Record<string, string>;
  private readonly _transport: CaptureTransport;
  private readonly _onAttempt: CaptureClientOptions['onAttempt'];
  private readonly _onCompressionError: CaptureClientOptions['onCompressionError'];
  private readonly _onCompressionFallback: CaptureClientOptions['onCompressionFallback'];
  /** Shared by all sends without a slicer of their own, so together they hold the event loop one slice at a time. */
  private readonly _slicer = new TimeSlicer();
  private readonly _bodyBuffers = new BodyBuffers();

  constructor(options: CaptureClientOptions) {
    this.endpoint = captureEndpoint(options.host);
    const { headers, dispatcher, transport, onAttempt, onCompressionError, onCompressionFallback, clock, random, ...settings } = options;
    this._options = {
      ...settings,
      maxAttempts: Math.max(1, Math.floor(settings.maxAttempts)),
      clock: clock ?? systemClock,
      random: random ?? Math.random,
    };
    this._headers = extraHeadersWithoutProtocolOnes(headers);
    this._onAttempt = onAttempt;
    this._onCompressionError = onCompressionError;
    this._onCompressionFallback = onCompressionFallback;
    this._transport =
      transport ??
      new UndiciTransport({
        url: this.endpoint,
        connectTimeoutMillis: this._options.connectTimeoutMillis,
        maxResponseBytes: this._options.maxResponseBytes,
        ...(dispatcher ? { dispatcher } : {}),
      });
  }

  /** Sends new events, in new requests, and reports every one of them. Never rejects. */
  async send(events: readonly CaptureEvent[], options: SendOptions): Promise<SendReport> {
    const ctx = this._context(options);
    const prepared = await this._prepare(events, options.slicer ?? this._slicer, ctx.report);
    await runLimited(prepared, this._options.maxConcurrentRequests, ({ request, members }) => sendRequest(ctx, request, members));
    return ctx.report;
  }

  /**
   * Makes the events' requests as `send` would, and sends none of them: each comes back deferred,
   * never sent (attempt 0, no attempt spent); events no request could carry come back rejected.
   * For a caller that already knows PostHog is not taking events. Never rejects.
   */
  async hold(events: readonly CaptureEvent[], options: Pick<SendOptions, 'slicer'>): Promise<SendReport> {
    const report = emptyReport();
    const now = this._options.clock.now();
    for (const { request } of await this._prepare(events, options.slicer ?? this._slicer, report)) {
      report.deferred.push({
        identity: request.identity,
        attempt: request.attempt,
        events: request.events,
        reasonIfDropped: 'deadline',
        notBefore: now,
      });
    }
    return report;
  }

  /**
   * The new requests that carry the events (attempt 0 each), with the batch's JSON when it was
   * serialised whole. Events no request may carry are rejected on `report`.
   */
  private async _prepare(events: readonly CaptureEvent[], slicer: TimeSlicer, report: SendReport): Promise<PreparedRequest[]> {
    const o = this._options;
    const valid: CaptureEvent[] = [];
    // Given and derived uuids; drawn ones repeat none of each other, and are looked up only when there are these.
    const seen = new Set<string>();
    let drawn = 0;
    let duplicates = false;
    const refuse = (event: CaptureEvent, reason: 'invalid' | 'too_large', details: string): void => {
      report.rejected.push({ event, reason, details, attempts: 0 });
    };
    // Indexed: a for-of over an array in an async function allocated per item (see the exporter's _export).
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const pause = slicer.pause();
      if (pause) await pause;
      const problem = batchPoisoningProblem(event);
      if (problem !== undefined) {
        refuse(event, 'invalid', problem);
        continue;
      }
      if (event instanceof EncodedEvent && event.uuidDrawn) drawn++;
      else if (seen.has(event.uuid)) duplicates = true;
      else seen.add(event.uuid);
      valid.push(event);
    }
    // A given uuid may still be one drawn earlier (copied from a hook's or the debug output's event).
    if (!duplicates && drawn > 0 && seen.size > 0)
      duplicates = valid.some((event) => event instanceof EncodedEvent && event.uuidDrawn && seen.has(event.uuid));

    // Usual case: the whole batch fits one request, so one text serves sizing and body.
    // Serialising a batch is one block of work: start it with a fresh slice.
    const beforeSerializing = slicer.pauseIfDue();
    if (beforeSerializing) await beforeSerializing;
    const whole =
      !duplicates && valid.length <= o.maxEventsPerRequest ? serializeTogether(valid, o.maxEventBytes, o.maxRequestBytes) : undefined;
    if (whole !== undefined) {
      const share = Math.ceil(whole.bytes / Math.max(1, valid.length));
      // Encoded events keep their text for resends and splits; other events are serialised again then.
      // A loop, not map(): once this function is optimised, map() returns arrays of another
      // elements kind, and the code reading requests was deoptimised by them (BENCHMARKS.md).
      const items: SerializedEvent[] = [];
      for (let i = 0; i < valid.length; i++) {
        const event = valid[i]!;
        items.push(new QueuedEvent(event, event instanceof EncodedEvent ? event.json : undefined, share));
      }
      return items.length > 0 ? [{ request: { identity: newIdentity(o.clock), attempt: 0, events: items }, members: whole.members }] : [];
    }

    // Otherwise each event on its own: sizes decide the splits, and a bad event stays alone.
    const sendable: SerializedEvent[] = [];
    const taken = new Set<string>();
    for (const event of valid) {
      const pause = slicer.pause();
      if (pause) await pause;
      const item = serializeEvent(event);
      if (item === undefined) {
        refuse(event, 'invalid', 'event could not be serialised as JSON');
      } else if (taken.has(event.uuid)) {
        // The server would reject the whole request; the first copy carries the event.
        refuse(event, 'invalid', 'another event in the same export has this uuid');
      } else if (item.bytes > o.maxEventBytes) {
        refuse(event, 'too_large', `event is ${item.bytes} bytes, over the ${o.maxEventBytes}-byte limit`);
      } else {
        taken.add(event.uuid);
        sendable.push(item);
      }
    }
    const groups = splitIntoRequests(sendable, { maxEvents: o.maxEventsPerRequest, maxBytes: o.maxRequestBytes });
    return groups.map((group) => ({ request: { identity: newIdentity(o.clock), attempt: 0, events: group } }));
  }

  /**
   * Sends a request again: the same request id and `created_at`, `PostHog-Attempt` one higher than
   * its last, only the events given (each with the attempts it has used). Never rejects.
   */
  async resend(request: OutgoingRequest, options: SendOptions): Promise<SendReport> {
    const ctx = this._context(options);
    // The events are the caller's to keep: attempts are counted on copies. A loop, as in _prepare:
    // an optimised map() would hand the request readers arrays of another elements kind.
    const events: SerializedEvent[] = [];
    for (let i = 0; i < request.events.length; i++) {
      const item = request.events[i]!;
      events.push(new QueuedEvent(item.event, item.json, item.bytes, item.attempts));
    }
    await sendRequest(ctx, { ...request, events });
    return ctx.report;
  }

  private _context(options: SendOptions): SendContext {
    const o = this._options;
    return {
      settings: {
        apiKey: o.apiKey,
        sdkInfo: o.sdkInfo,
        extraHeaders: this._headers,
        compression: o.compression,
        historicalMigration: o.historicalMigration,
        maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? o.maxAttempts)),
        backoff: { initialDelayMillis: o.retryInitialDelayMillis, maxDelayMillis: o.retryMaxDelayMillis },
        requestTimeoutMillis: o.requestTimeoutMillis,
        transport: this._transport,
        bodyBuffers: this._bodyBuffers,
        clock: o.clock,
        random: o.random,
        ...(this._onAttempt ? { onAttempt: this._onAttempt } : {}),
        ...(this._onCompressionError ? { onCompressionError: this._onCompressionError } : {}),
        onZstdRefused: () => this._fallBackToGzip(),
      },
      deadline: options.deadline,
      answerDeadline: options.answerDeadline ?? options.deadline,
      maxWaitMillis: options.maxWaitMillis ?? Infinity,
      signal: options.signal,
      failFast: options.failFast ?? false,
      report: emptyReport(),
    };
  }

  private _fallBackToGzip(): void {
    if (this._options.compression !== 'zstd') return;
    this._options.compression = 'gzip';
    try {
      this._onCompressionFallback?.();
    } catch {
      // An observer's failure must not change what happens to the events.
    }
  }

  /** Closes the connection pool (unless the dispatcher was supplied). */
  close(): Promise<void> {
    return this._transport.close();
  }
}

/** `{host}/i/v1/analytics/events`, with any trailing slash of the host removed. */
export function captureEndpoint(host: string): URL {
  const url = new URL(host);
  url.pathname = url.pathname.replace(/\/+$/, '') + CAPTURE_PATH;
  url.search = '';
  url.hash = '';
  return url;
}

async function runLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * The members of the events' JSON array (see batchMembers), when they serialise, fit
 * `maxRequestBytes`, and no event can be over `maxEventBytes`; else undefined (the caller then
 * sizes each event on its own).
 */
function serializeTogether(
  events: readonly CaptureEvent[],
  maxEventBytes: number,
  maxRequestBytes: number,
): { members: string[]; bytes: number } | undefined {
  try {
    let members: string[];
    let maxBytes: number;
    if (events.every((event) => event instanceof EncodedEvent)) {
      // UTF-8 takes at most three bytes per UTF-16 unit: lengths alone show that no event is too large.
      if (events.some((event) => event.json.length * 3 > maxEventBytes)) return undefined;
      members = [];
      for (let i = 0; i < events.length; i++) members.push(events[i]!.json);
      maxBytes = maxRequestBytes;
    } else {
      const json = JSON.stringify(events);
      if (typeof json !== 'string') return undefined;
      // One member holding them all: the body writes it as it is.
      members = [json.slice(1, -1)];
      // A whole batch within the event limit has no event over it.
      maxBytes = Math.min(maxEventBytes, maxRequestBytes);
    }
    // Brackets and commas count too.
    let length = members.length + 1;
    for (let i = 0; i < members.length; i++) length += members[i]!.length;
    if (length * 3 <= maxBytes) return { members, bytes: length };
    let bytes = members.length + 1;
    for (const member of members) bytes += Buffer.byteLength(member, 'utf8');
    return bytes <= maxBytes ? { members, bytes } : undefined;
  } catch {
    return undefined;
  }
}

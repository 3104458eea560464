import type { Clock } from './clock.ts';
import type { BodyBuffers } from './body-buffers.ts';
import { encodeBody, type EncodedBody } from './compression.ts';
import { batchMembers as membersOf, type SerializedEvent } from './request-batches.ts';
import { errorMessageFromBody, parseSuccessBody } from './response.ts';
import { isRetryableStatus, parseRetryAfter, retryDelay, type BackoffSettings } from './retry-policy.ts';
import type { CaptureTransport, TransportResponse } from './transport.ts';
import type { Compression, DropReason, DroppedEvent, SendReport } from './types.ts';
import { uuidv7 } from './uuid.ts';
import { attemptHeaders, requestBody, type BatchIdentity } from './wire-request.ts';

/** One line of what happened to one attempt, for debug output and diagnostics. */
export interface AttemptSummary {
  requestId: string;
  attempt: number;
  events: number;
  status?: number;
  error?: string;
  delivered: number;
  dropped: number;
  retry: number;
}

export interface SendLoopSettings {
  apiKey: string;
  sdkInfo: string;
  extraHeaders: Record<string, string>;
  compression: Compression;
  historicalMigration: boolean;
  maxAttempts: number;
  backoff: BackoffSettings;
  requestTimeoutMillis: number;
  transport: CaptureTransport;
  /** Where request bodies are written before compression. */
  bodyBuffers: BodyBuffers;
  clock: Clock;
  random: () => number;
  onAttempt?: (summary: AttemptSummary) => void;
  onCompressionError?: (error: unknown) => void;
  /** A zstd body was refused with 415: this send goes on with gzip, and the caller may keep to it. */
  onZstdRefused?: () => void;
}

/** State shared by the requests of one send. */
export interface SendContext {
  settings: SendLoopSettings;
  deadline: number;
  /** Longest total backoff one batch may sleep before its events are handed back as `deadline`. */
  maxWaitMillis: number;
  signal: AbortSignal | undefined;
  report: SendReport;
}

const TRANSIENT: ReadonlySet<DropReason> = new Set<DropReason>(['retry_exhausted', 'deadline', 'shutdown']);

interface NextAttempt {
  notBefore: number;
  retryAfterUntil?: number;
}

function drop(ctx: SendContext, events: readonly SerializedEvent[], reason: DropReason, details?: string, next?: NextAttempt): void {
  const transient = TRANSIENT.has(reason);
  for (const item of events) {
    const dropped: DroppedEvent = { event: item.event, reason, transient, attempts: item.attempts };
    if (details !== undefined) dropped.details = details;
    if (next !== undefined) dropped.notBefore = next.notBefore;
    if (next?.retryAfterUntil !== undefined) dropped.retryAfterUntil = next.retryAfterUntil;
    ctx.report.dropped.push(dropped);
  }
}

/** Why to stop before (or instead of) another attempt, if anything. An abort says which with its reason. */
function stopReason(ctx: SendContext, plannedDelay = 0): DropReason | undefined {
  if (ctx.signal?.aborted) return ctx.signal.reason === 'deadline' ? 'deadline' : 'shutdown';
  if (ctx.settings.clock.now() + plannedDelay >= ctx.deadline) return 'deadline';
  return undefined;
}

type AttemptVerdict =
  | { kind: 'done' }
  | { kind: 'retry'; pending: SerializedEvent[]; retryAfterMillis: number | undefined; why: string }
  | { kind: 'split' };

/**
 * Sends one group of events as one batch: a request id and `created_at` for all its attempts,
 * resending only what the server marked `retry` or what a transient failure left unsent.
 * Every event ends up counted in `ctx.report`, delivered or dropped with a reason.
 */
export async function sendBatch(ctx: SendContext, events: SerializedEvent[], batchMembers?: readonly string[]): Promise<void> {
  const { clock } = ctx.settings;
  const identity: BatchIdentity = { requestId: uuidv7(clock.now()), createdAt: new Date(clock.now()).toISOString() };
  let pending = events;
  /** When the next attempt was due, so a stop during the wait still tells when a resend may go. */
  let nextDue: NextAttempt | undefined;
  let waited = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      const stop = stopReason(ctx);
      if (stop) return drop(ctx, pending, stop, undefined, nextDue);

      // The first attempt reuses the batch's JSON when the caller serialised it already.
      const members = attempt === 1 && batchMembers !== undefined ? batchMembers : membersOf(pending);
      const verdict = await attemptOnce(ctx, identity, attempt, pending, members);
      if (verdict.kind === 'done') return;
      if (verdict.kind === 'split') {
        // A 413 says the request was too big, not that the events failed: it costs them no attempt.
        for (const item of pending) item.attempts--;
        return await sendHalves(ctx, pending);
      }

      // The attempt budget is per event: events resent from an earlier export arrive with attempts spent.
      // Exhausted events still say when a resend would be due, for a caller that keeps them for later.
      const exhausted = verdict.pending.filter((item) => item.attempts >= ctx.settings.maxAttempts);
      pending = exhausted.length === 0 ? verdict.pending : verdict.pending.filter((item) => item.attempts < ctx.settings.maxAttempts);
      if (exhausted.length > 0) drop(ctx, exhausted, 'retry_exhausted', verdict.why, nextAttempt(ctx, exhausted, verdict.retryAfterMillis).next);
      if (pending.length === 0) return;
      const { delay, next } = nextAttempt(ctx, pending, verdict.retryAfterMillis);
      const afterFailure = stopReason(ctx);
      if (afterFailure) return drop(ctx, pending, afterFailure, verdict.why, next);
      // Sleeping past the deadline only to give up: stop now, while there is still time to report.
      const beforeSleep = stopReason(ctx, delay);
      if (beforeSleep) return drop(ctx, pending, beforeSleep, verdict.why, next);
      // A caller with somewhere to keep events may not want to wait long in place.
      if (waited + delay > ctx.maxWaitMillis) return drop(ctx, pending, 'deadline', verdict.why, next);
      waited += delay;
      nextDue = next;
      await clock.sleep(delay, ctx.signal);
    }
  } catch (error) {
    // Defensive: the loop itself should not throw, but if it does its events are still accounted for.
    drop(ctx, pending, 'internal_error', error instanceof Error ? error.message : String(error));
  }
}

/** The wait before the next attempt of `items` (backoff from the most-tried of them, Retry-After as a floor). */
function nextAttempt(ctx: SendContext, items: readonly SerializedEvent[], retryAfterMillis: number | undefined): { delay: number; next: NextAttempt } {
  const attempt = 1 + items.reduce((most, item) => Math.max(most, item.attempts), 0);
  const delay = retryDelay(attempt, ctx.settings.backoff, retryAfterMillis, ctx.settings.random);
  const now = ctx.settings.clock.now();
  const next: NextAttempt = { notBefore: now + delay };
  if (retryAfterMillis !== undefined) next.retryAfterUntil = now + Math.min(retryAfterMillis, ctx.settings.backoff.maxDelayMillis);
  return { delay, next };
}

/** A 413 on several events: each half becomes its own batch, down to single events. */
async function sendHalves(ctx: SendContext, events: SerializedEvent[]): Promise<void> {
  const middle = Math.ceil(events.length / 2);
  await sendBatch(ctx, events.slice(0, middle));
  await sendBatch(ctx, events.slice(middle));
}

/** The body of one attempt, compressed; the buffer it was written into goes back for the next. */
async function encodedRequestBody(s: SendLoopSettings, identity: BatchIdentity, batchMembers: readonly string[]): Promise<EncodedBody> {
  const raw = requestBody(identity, s.historicalMigration, batchMembers, (bytes) => s.bodyBuffers.take(bytes));
  try {
    return await encodeBody(raw, s.compression, s.onCompressionError);
  } finally {
    s.bodyBuffers.give(raw);
  }
}

async function attemptOnce(ctx: SendContext, identity: BatchIdentity, attempt: number, pending: SerializedEvent[], batchMembers: readonly string[]): Promise<AttemptVerdict> {
  const s = ctx.settings;
  const encoded = await encodedRequestBody(s, identity, batchMembers);
  const now = s.clock.now();
  const headers = attemptHeaders({
    apiKey: s.apiKey,
    sdkInfo: s.sdkInfo,
    identity,
    attempt,
    nowMillis: now,
    extraHeaders: s.extraHeaders,
    ...(encoded.encoding ? { encoding: encoded.encoding } : {}),
  });
  ctx.report.requests++;
  if (attempt > 1) ctx.report.retries++;
  for (const item of pending) item.attempts++;

  let response: TransportResponse;
  try {
    response = await s.transport.post({
      headers,
      body: encoded.body,
      timeoutMillis: Math.max(1, Math.min(s.requestTimeoutMillis, ctx.deadline - now)),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : 'request failed';
    summarize(ctx, identity, attempt, pending.length, { error: why });
    return { kind: 'retry', pending, retryAfterMillis: undefined, why };
  }

  const { status } = response;
  if (status >= 200 && status < 300) {
    // Accepted, but which events? Without the whole body no one can tell: send again (the uuids stay,
    // so PostHog keeps one copy of what it already has).
    if (response.bodyError !== undefined) {
      const why = `HTTP ${status}, but the response body could not be read: ${response.bodyError}`;
      summarize(ctx, identity, attempt, pending.length, { status, error: why });
      return { kind: 'retry', pending, retryAfterMillis: undefined, why };
    }
    return classifyResults(ctx, identity, attempt, pending, response);
  }

  const message = errorMessageFromBody(response.body);
  const why = message ? `HTTP ${status}: ${message}` : `HTTP ${status}`;
  summarize(ctx, identity, attempt, pending.length, { status, error: why });
  if (status === 415 && encoded.encoding === 'zstd') {
    // PostHog takes zstd; a proxy in front of it may not. The same batch goes again as gzip.
    s.compression = 'gzip';
    s.onZstdRefused?.();
    return { kind: 'retry', pending, retryAfterMillis: undefined, why };
  }
  if (status === 413) {
    if (pending.length > 1) return { kind: 'split' };
    drop(ctx, pending, 'too_large', why);
    return { kind: 'done' };
  }
  if (isRetryableStatus(status)) {
    return { kind: 'retry', pending, retryAfterMillis: parseRetryAfter(response.headers['retry-after'], s.clock.now()), why };
  }
  drop(ctx, pending, `status_${status}`, why);
  return { kind: 'done' };
}

function classifyResults(ctx: SendContext, identity: BatchIdentity, attempt: number, pending: SerializedEvent[], response: TransportResponse): AttemptVerdict {
  const parsed = response.bodyTruncated ? { ok: false as const, reason: 'response body too large' } : parseSuccessBody(response.body);
  if (!parsed.ok) {
    summarize(ctx, identity, attempt, pending.length, { status: response.status, error: parsed.reason, dropped: pending.length });
    drop(ctx, pending, 'malformed_response', `HTTP ${response.status}: ${parsed.reason}`);
    return { kind: 'done' };
  }
  const retry: SerializedEvent[] = [];
  let delivered = 0;
  let dropped = 0;
  // No entry means accepted: a response without any (the usual one) needs no lookups.
  const results = parsed.results.size > 0 ? parsed.results : undefined;
  for (const item of pending) {
    // Sent uuids are canonical (lower case, checked before sending), as are the keys parseSuccessBody returns.
    const result = results?.get(item.event.uuid);
    if (result?.result === 'retry') {
      retry.push(item);
    } else if (result?.result === 'drop') {
      dropped++;
      drop(ctx, [item], 'server_drop', result.details ?? 'dropped by the server');
    } else {
      // ok, warning, a code this client does not know, or no entry at all: accepted.
      delivered++;
    }
  }
  ctx.report.delivered += delivered;
  summarize(ctx, identity, attempt, pending.length, { status: response.status, delivered, dropped, retry: retry.length });
  if (retry.length === 0) return { kind: 'done' };
  const retryAfterMillis = parseRetryAfter(response.headers['retry-after'], ctx.settings.clock.now());
  return { kind: 'retry', pending: retry, retryAfterMillis, why: `server asked to retry ${retry.length} event(s)` };
}

function summarize(
  ctx: SendContext,
  identity: BatchIdentity,
  attempt: number,
  events: number,
  fields: { status?: number; error?: string; delivered?: number; dropped?: number; retry?: number },
): void {
  const onAttempt = ctx.settings.onAttempt;
  if (!onAttempt) return;
  try {
    onAttempt({
    requestId: identity.requestId,
    attempt,
    events,
    delivered: fields.delivered ?? 0,
    dropped: fields.dropped ?? 0,
    retry: fields.retry ?? 0,
    ...(fields.status !== undefined ? { status: fields.status } : {}),
    ...(fields.error !== undefined ? { error: fields.error } : {}),
    });
  } catch {
    // An observer's failure must not change what happens to the events.
  }
}

import type { Clock } from '../shared/clock.ts';
import type { BodyBuffers } from './body-buffers.ts';
import { encodeBody, type EncodedBody } from '../transport/compression.ts';
import { batchMembers as membersOf, type SerializedEvent } from './request-batches.ts';
import { errorMessageFromBody, parseSuccessBody } from './response.ts';
import { isRetryableStatus, parseRetryAfter, retryDelay, type BackoffSettings } from './retry-policy.ts';
import {
  isUnreachable,
  transportFailure,
  type DeferredRequest,
  type FailureCause,
  type RejectedEvent,
  type SendReport,
} from './send-report.ts';
import { TransportError, type CaptureTransport, type TransportResponse } from '../transport/transport.ts';
import type { Compression, DropReason } from './types.ts';
import { uuidv7 } from '../shared/uuid.ts';
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
  /** By when an attempt must be answered before it times out (see SendOptions.answerDeadline). */
  answerDeadline: number;
  /** Longest total backoff one request may sleep in place before it is handed back as deferred. */
  maxWaitMillis: number;
  signal: AbortSignal | undefined;
  /** Stop every request of the send once one finds PostHog unreachable (refused, DNS, TLS). */
  failFast: boolean;
  report: SendReport;
}

/** A request to send: new (attempt 0), or the continuation of one sent before. */
export interface OutgoingRequest {
  identity: BatchIdentity;
  /** Requests already sent under this identity. */
  attempt: number;
  events: SerializedEvent[];
}

/** When the next attempt of a request may go, by the backoff and by the server's Retry-After. */
interface NextAttempt {
  notBefore: number;
  retryAfterUntil?: number;
}

/** The attempt ended with nothing more to send, or with events to try again. */
type AttemptVerdict =
  | { kind: 'done' }
  | { kind: 'retry'; pending: SerializedEvent[]; retryAfterMillis: number | undefined; why: string; cause?: FailureCause }
  | { kind: 'split' };

/** A fresh request identity: a request id and `created_at` that every attempt of it repeats. */
export function newIdentity(clock: Clock): BatchIdentity {
  return { requestId: uuidv7(clock.now()), createdAt: new Date(clock.now()).toISOString() };
}

function reject(ctx: SendContext, events: readonly SerializedEvent[], reason: DropReason, details?: string): void {
  for (const item of events) {
    const rejected: RejectedEvent = { event: item.event, reason, attempts: item.attempts };
    if (details !== undefined) rejected.details = details;
    ctx.report.rejected.push(rejected);
  }
}

interface Stop {
  reason: 'deadline' | 'shutdown';
  details?: string;
  cause?: FailureCause;
  next?: NextAttempt;
}

function defer(ctx: SendContext, request: OutgoingRequest, stop: Stop): void {
  const deferred: DeferredRequest = {
    identity: request.identity,
    attempt: request.attempt,
    events: request.events,
    reasonIfDropped: stop.reason,
    notBefore: stop.next?.notBefore ?? ctx.settings.clock.now(),
  };
  if (stop.details !== undefined) deferred.details = stop.details;
  if (stop.cause !== undefined) deferred.cause = stop.cause;
  if (stop.next?.retryAfterUntil !== undefined) deferred.retryAfterUntil = stop.next.retryAfterUntil;
  ctx.report.deferred.push(deferred);
}

/** Why to stop before (or instead of) another attempt, if anything. An abort says which with its reason. */
function stopReason(ctx: SendContext, plannedDelay = 0): 'deadline' | 'shutdown' | undefined {
  if (ctx.signal?.aborted) return ctx.signal.reason === 'deadline' ? 'deadline' : 'shutdown';
  if (ctx.failFast && isUnreachable(ctx.report.lastFailure)) return 'deadline';
  if (ctx.settings.clock.now() + plannedDelay >= ctx.deadline) return 'deadline';
  return undefined;
}

/**
 * Sends one request until the server has taken or rejected each of its events, or it must stop:
 * every attempt repeats the request id and `created_at`, counts `PostHog-Attempt` up, and carries
 * only what the server marked `retry` or what a transient failure left unsent. The attempt budget
 * is per event: an event that has used `maxAttempts` requests is rejected as `retry_exhausted`.
 * What stops early (deadline, abort, a wait longer than `maxWaitMillis`) comes back deferred.
 */
export async function sendRequest(ctx: SendContext, request: OutgoingRequest, batchMembers?: readonly string[]): Promise<void> {
  const { clock } = ctx.settings;
  let current: OutgoingRequest = request;
  /** The last failure, and when the attempt after it was due, so a stop during the wait still says both. */
  let last: Omit<Stop, 'reason'> = {};
  let waited = 0;
  try {
    for (;;) {
      const stop = stopReason(ctx);
      if (stop) return defer(ctx, current, { ...last, reason: stop });

      const attempt = current.attempt + 1;
      // The first attempt of a new request reuses the batch's JSON when the caller serialised it already.
      const members = attempt === 1 && batchMembers !== undefined ? batchMembers : membersOf(current.events);
      const verdict = await attemptOnce(ctx, current.identity, attempt, current.events, members);
      current = { ...current, attempt };
      if (verdict.kind === 'done') return;
      if (verdict.kind === 'split') {
        // A 413 says the request was too big, not that the events failed: it costs them no attempt.
        for (const item of current.events) item.attempts--;
        return await sendHalves(ctx, current.events);
      }

      const exhausted = verdict.pending.filter((item) => item.attempts >= ctx.settings.maxAttempts);
      if (exhausted.length > 0) reject(ctx, exhausted, 'retry_exhausted', verdict.why);
      const pending = exhausted.length === 0 ? verdict.pending : verdict.pending.filter((item) => item.attempts < ctx.settings.maxAttempts);
      if (pending.length === 0) return;
      current = { ...current, events: pending };
      const { delay, next } = nextAttempt(ctx, current.attempt, verdict.retryAfterMillis);
      last = { details: verdict.why, next, ...(verdict.cause ? { cause: verdict.cause } : {}) };
      // Sleeping past the deadline only to give up: stop now, while there is still time to report.
      const beforeSleep = stopReason(ctx, delay);
      if (beforeSleep) return defer(ctx, current, { ...last, reason: beforeSleep });
      // A caller with somewhere to keep the request may not want to wait long in place.
      if (waited + delay > ctx.maxWaitMillis) return defer(ctx, current, { ...last, reason: 'deadline' });
      waited += delay;
      await clock.sleep(delay, ctx.signal);
    }
  } catch (error) {
    // Defensive: the loop itself should not throw, but if it does its events are still accounted for.
    reject(ctx, current.events, 'internal_error', error instanceof Error ? error.message : String(error));
  }
}

/** The wait before the attempt after `attempt`: backoff by the request's attempt count, Retry-After as a floor. */
function nextAttempt(ctx: SendContext, attempt: number, retryAfterMillis: number | undefined): { delay: number; next: NextAttempt } {
  const delay = retryDelay(attempt + 1, ctx.settings.backoff, retryAfterMillis, ctx.settings.random);
  const now = ctx.settings.clock.now();
  const next: NextAttempt = { notBefore: now + delay };
  if (retryAfterMillis !== undefined) next.retryAfterUntil = now + Math.min(retryAfterMillis, ctx.settings.backoff.maxDelayMillis);
  return { delay, next };
}

/** A 413 on several events: each half becomes its own batch, down to single events. */
async function sendHalves(ctx: SendContext, events: SerializedEvent[]): Promise<void> {
  const middle = Math.ceil(events.length / 2);
  const clock = ctx.settings.clock;
  await sendRequest(ctx, { identity: newIdentity(clock), attempt: 0, events: events.slice(0, middle) });
  await sendRequest(ctx, { identity: newIdentity(clock), attempt: 0, events: events.slice(middle) });
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

async function attemptOnce(
  ctx: SendContext,
  identity: BatchIdentity,
  attempt: number,
  pending: SerializedEvent[],
  batchMembers: readonly string[],
): Promise<AttemptVerdict> {
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
  // Indexed: a for-of in an async function allocated an iterator result per event.
  for (let i = 0; i < pending.length; i++) pending[i]!.attempts++;

  let response: TransportResponse;
  try {
    response = await s.transport.post({
      headers,
      body: encoded.body,
      timeoutMillis: Math.max(1, Math.min(s.requestTimeoutMillis, ctx.answerDeadline - now)),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : 'request failed';
    summarize(ctx, identity, attempt, pending.length, { error: why });
    // Our own abort (a deadline, shutdown) says nothing about PostHog: no failure is noted for it.
    if (ctx.signal?.aborted) return { kind: 'retry', pending, retryAfterMillis: undefined, why };
    const cause = error instanceof TransportError ? transportFailure(error.code, error.timedOut) : transportFailure(undefined, false);
    return failed(ctx, { kind: 'retry', pending, retryAfterMillis: undefined, why, cause });
  }

  const { status } = response;
  if (status >= 200 && status < 300) {
    // Accepted, but which events? Without the whole body no one can tell: send again (the uuids stay,
    // so PostHog keeps one copy of what it already has).
    if (response.bodyError !== undefined) {
      const why = `HTTP ${status}, but the response body could not be read: ${response.bodyError}`;
      summarize(ctx, identity, attempt, pending.length, { status, error: why });
      return failed(ctx, { kind: 'retry', pending, retryAfterMillis: undefined, why, cause: { kind: 'network' } });
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
    return failed(ctx, { kind: 'retry', pending, retryAfterMillis: undefined, why, cause: { kind: 'status', status } });
  }
  if (status === 413) {
    if (pending.length > 1) return { kind: 'split' };
    reject(ctx, pending, 'too_large', why);
    return { kind: 'done' };
  }
  if (isRetryableStatus(status)) {
    const retryAfterMillis = parseRetryAfter(response.headers['retry-after'], s.clock.now());
    return failed(ctx, { kind: 'retry', pending, retryAfterMillis, why, cause: { kind: 'status', status } });
  }
  reject(ctx, pending, `status_${status}`, why);
  return { kind: 'done' };
}

function classifyResults(
  ctx: SendContext,
  identity: BatchIdentity,
  attempt: number,
  pending: SerializedEvent[],
  response: TransportResponse,
): AttemptVerdict {
  const parsed = response.bodyTruncated ? { ok: false as const, reason: 'response body too large' } : parseSuccessBody(response.body);
  if (!parsed.ok) {
    summarize(ctx, identity, attempt, pending.length, { status: response.status, error: parsed.reason, dropped: pending.length });
    reject(ctx, pending, 'malformed_response', `HTTP ${response.status}: ${parsed.reason}`);
    return { kind: 'done' };
  }
  const retry: SerializedEvent[] = [];
  let delivered = 0;
  let dropped = 0;
  // No entry means accepted: a response without any (the usual one) needs no lookups.
  const results = parsed.results.size > 0 ? parsed.results : undefined;
  for (let i = 0; i < pending.length; i++) {
    const item = pending[i]!;
    // Sent uuids are canonical (lower case, checked before sending), as are the keys parseSuccessBody returns.
    const result = results?.get(item.event.uuid);
    if (result?.result === 'retry') {
      retry.push(item);
    } else if (result?.result === 'drop') {
      dropped++;
      reject(ctx, [item], 'server_drop', result.details ?? 'dropped by the server');
    } else {
      // ok, warning, a code this client does not know, or no entry at all: accepted.
      delivered++;
    }
  }
  ctx.report.delivered += delivered;
  summarize(ctx, identity, attempt, pending.length, { status: response.status, delivered, dropped, retry: retry.length });
  if (retry.length === 0) return { kind: 'done' };
  const retryAfterMillis = parseRetryAfter(response.headers['retry-after'], ctx.settings.clock.now());
  return failed(ctx, {
    kind: 'retry',
    pending: retry,
    retryAfterMillis,
    why: `server asked to retry ${retry.length} event(s)`,
    cause: { kind: 'status', status: response.status },
  });
}

/** Notes the failure on the report (the delivery stage reads the last one), and passes the verdict on. */
function failed(ctx: SendContext, verdict: Extract<AttemptVerdict, { kind: 'retry' }> & { cause: FailureCause }): AttemptVerdict {
  ctx.report.lastFailure = verdict.cause;
  return verdict;
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

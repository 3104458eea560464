// An in-memory capture endpoint for unit tests of the delivery stage: the real CaptureClient sends
// through it, with no HTTP. It records every attempt (request id, attempt, created_at, uuids, the
// clock's time) and answers from a script: a status (with per-event results for a 2xx), a
// transport failure by kind, or a request that never answers until its timeout.

import type { Clock } from '../../src/shared/clock.ts';
import { TransportError, type CaptureTransport, type TransportRequest, type TransportResponse } from '../../src/transport/transport.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';

export type Answer =
  | { status: number; retryAfter?: string; results?: Record<string, string> }
  | { fail: 'ECONNREFUSED' | 'ENOTFOUND' | 'DEPTH_ZERO_SELF_SIGNED_CERT' | 'ECONNRESET' }
  | { hang: true };

export interface SeenRequest {
  at: number;
  requestId: string;
  attempt: number;
  createdAt: string;
  uuids: string[];
}

export class ScriptedTransport implements CaptureTransport {
  readonly requests: SeenRequest[] = [];
  private readonly _clock: Clock;
  private _script: Answer[] = [];
  private _default: Answer | ((request: SeenRequest) => Answer) = { status: 200 };

  constructor(clock: Clock) {
    this._clock = clock;
  }

  /** Answers for the next requests, in order; then the default. */
  script(...answers: Answer[]): void {
    this._script.push(...answers);
  }

  setDefault(answer: Answer | ((request: SeenRequest) => Answer)): void {
    this._default = answer;
  }

  /** Requests made under one request id, in order. */
  byRequestId(): Map<string, SeenRequest[]> {
    const map = new Map<string, SeenRequest[]>();
    for (const request of this.requests) map.set(request.requestId, [...(map.get(request.requestId) ?? []), request]);
    return map;
  }

  /** How many requests carried each uuid. */
  carried(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const request of this.requests) for (const uuid of request.uuids) counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
    return counts;
  }

  async post(request: TransportRequest): Promise<TransportResponse> {
    const body = JSON.parse(request.body.toString('utf8')) as { created_at: string; batch: CaptureEvent[] };
    const seen: SeenRequest = {
      at: this._clock.now(),
      requestId: request.headers['posthog-request-id']!,
      attempt: Number(request.headers['posthog-attempt']),
      createdAt: body.created_at,
      uuids: body.batch.map((event) => event.uuid),
    };
    this.requests.push(seen);
    const answer = this._script.shift() ?? (typeof this._default === 'function' ? this._default(seen) : this._default);
    if ('fail' in answer) throw new TransportError(`request failed (${answer.fail})`, { timedOut: false, code: answer.fail });
    if ('hang' in answer) return this._hang(request);
    const headers: Record<string, string> = answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter };
    if (answer.status < 200 || answer.status >= 300)
      return { status: answer.status, headers, body: '{"error":"scripted"}', bodyTruncated: false };
    const results: Record<string, { result: string }> = {};
    for (const uuid of seen.uuids) results[uuid] = { result: answer.results?.[uuid] ?? 'ok' };
    return { status: answer.status, headers, body: JSON.stringify({ results }), bodyTruncated: false };
  }

  /** Never answers: fails as a timeout at the request's own time limit, or when aborted. */
  private _hang(request: TransportRequest): Promise<TransportResponse> {
    return new Promise((_resolve, reject) => {
      const timedOut = (): void => reject(new TransportError('request timed out', { timedOut: true }));
      if (request.signal?.aborted) return reject(new TransportError('request failed', { timedOut: false }));
      const cancel = this._clock.schedule?.(request.timeoutMillis, timedOut);
      request.signal?.addEventListener(
        'abort',
        () => {
          cancel?.();
          reject(new TransportError('request failed', { timedOut: false }));
        },
        { once: true },
      );
    });
  }

  async close(): Promise<void> {}
}

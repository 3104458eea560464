// A fake PostHog capture v1 endpoint (`POST /i/v1/analytics/events`) for tests, examples and benchmarks.
// It validates requests the way the real server does (plus a few stricter checks), records them,
// and answers with scripted responses. Two stricter checks stand for later stages: a `$exception`
// that error tracking could not parse, and a person or group event ingestion would discard, get a
// `drop` result here, where the real capture answers `ok` and the event is lost without a word.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { CaptureEvent, EventResult } from '../../src/capture/types.ts';
import {
  CAPTURE_PATH,
  bodyEncoding,
  canonicalUuid,
  decodeBody,
  decompress,
  errorTrackingDrop,
  fail,
  headerValue,
  ingestionDrop,
  parseJson,
  perEventDrop,
  validateBatch,
  validateHeaders,
  validateShape,
  ValidationError,
  type Validation,
} from './capture-validation.ts';

export {
  CAPTURE_PATH,
  errorTrackingDrop,
  EXCEPTION_DEAD_LETTER,
  ingestionDrop,
  isRfc3339,
  isUuid,
  MAX_COMPRESSED_BODY_BYTES,
  MAX_DECOMPRESSED_BODY_BYTES,
  MAX_DISTINCT_ID_BYTES,
  MAX_EVENT_NAME_BYTES,
  PERSON_EVENT_DISCARDED,
  perEventDrop,
  validateBody,
  type Validation,
} from './capture-validation.ts';

export type ResultsMap = Record<string, EventResult>;

export interface ScriptedResponse {
  /** Default 200. */
  status?: number;
  /** Extra response headers (e.g. 'retry-after'). Setting any (even `{}`) turns off the automatic `Retry-After: 1`. */
  headers?: Record<string, string>;
  /** Per-uuid result override for a 2xx. Events not named get `defaultResult` (default 'ok').
   *  A function form gets the decoded events and returns the results map. */
  results?: ResultsMap | ((events: CaptureEvent[]) => ResultsMap);
  /** Leave these uuids out of the results map. */
  omitUuids?: string[];
  /** Result code for events not in `results`. */
  defaultResult?: string;
  /** Raw response body; replaces the generated one (for malformed bodies). */
  body?: string | Buffer;
  /** Wait before answering (real time). */
  delayMs?: number;
  /** Read the request, then never answer (the socket stays open until close()). */
  hang?: boolean;
  /** Destroy the socket after reading the request, no response. */
  reset?: boolean;
  /** Send the status and headers, then the body slowly. */
  trickle?: { chunkBytes: number; intervalMs: number; totalBytes: number };
  /** Respond with a 2xx body of this many bytes, streamed. */
  oversizedBodyBytes?: number;
  /** Send the status, the headers (with the body's full length) and half the body, then destroy the socket. */
  cutBody?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** The request target as sent, query string included. */
  path: string;
  /** As node:http gives them (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** Bytes on the wire. */
  rawBody: Buffer;
  /** JSON after decompression, when it decoded. */
  decodedBody?: unknown;
  /** `decodedBody.batch` when the request passed validation, else []. */
  events: CaptureEvent[];
  validation: Validation;
  /** What was (or would have been) sent; 0 for reset/hang. */
  responseStatus: number;
  /** Per-event results the server decided on for a 2xx, keyed by canonical uuid, before `omitUuids` and `body`. */
  results?: ResultsMap;
  /** Date.now() when the body finished arriving. */
  receivedAt: number;
}

export interface FakeCaptureServerOptions {
  /** Default 'phc_test_key'. */
  apiKey?: string;
}

const ERROR_URI = 'https://posthog.com/docs/api';
const NOT_ACCEPTED = new Set(['retry', 'drop']);
const STREAM_CHUNK_BYTES = 64 * 1024;

const ERROR_TAG_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'invalid_api_token',
  402: 'billing_limit_exceeded',
  404: 'not_found',
  408: 'request_timeout',
  413: 'payload_too_large',
  415: 'unsupported_content_type',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

function errorBody(error: string, description: string): string {
  return JSON.stringify({ error, error_description: description, error_uri: ERROR_URI });
}

interface Waiter {
  n: number;
  resolve: (requests: RecordedRequest[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class FakeCaptureServer {
  readonly url: string;
  readonly apiKey: string;
  readonly requests: RecordedRequest[] = [];

  #server: Server;
  #sockets = new Set<Socket>();
  #timers = new Set<NodeJS.Timeout>();
  #waiters = new Set<Waiter>();
  #script: ScriptedResponse[] = [];
  #default: ScriptedResponse = {};
  #closed = false;

  private constructor(server: Server, apiKey: string) {
    this.#server = server;
    this.apiKey = apiKey;
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#receive(req, res));
  }

  static async start(options: FakeCaptureServerOptions = {}): Promise<FakeCaptureServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new FakeCaptureServer(server, options.apiKey ?? 'phc_test_key');
  }

  /** Queue responses; each valid request takes the next one; when the queue is empty, the default answers. */
  script(...responses: ScriptedResponse[]): void {
    this.#script.push(...responses);
  }

  /** Scripted responses not yet consumed. */
  get pendingScript(): number {
    return this.#script.length;
  }

  setDefault(response: ScriptedResponse): void {
    this.#default = response;
  }

  /** Every event the server accepted (a 2xx result other than retry/drop), deduplicated by uuid, in arrival order. */
  acceptedEvents(): CaptureEvent[] {
    const seen = new Set<string>();
    const accepted: CaptureEvent[] = [];
    for (const request of this.requests) {
      if (!request.results) continue;
      for (const event of request.events) {
        const uuid = canonicalUuid(event.uuid);
        const result = request.results[uuid]?.result;
        if (result === undefined || NOT_ACCEPTED.has(result) || seen.has(uuid)) continue;
        seen.add(uuid);
        accepted.push(event);
      }
    }
    return accepted;
  }

  /** Resolves when at least n requests have been recorded. */
  waitForRequests(n: number, timeoutMs = 5000): Promise<RecordedRequest[]> {
    if (this.requests.length >= n) return Promise.resolve([...this.requests]);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        n,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new Error(`expected ${n} request(s) within ${timeoutMs} ms, got ${this.requests.length}`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Clears requests (in place), script and default. */
  reset(): void {
    this.requests.length = 0;
    this.#script = [];
    this.#default = {};
  }

  /** Closes the listener and every open socket, hung ones included. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('fake capture server closed'));
    }
    this.#waiters.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await closed;
  }

  #later(ms: number, fn: () => void): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => {});
    req.on('end', () => {
      if (this.#closed) return;
      this.#handle(req, res, Buffer.concat(chunks), Date.now());
    });
  }

  #record(request: RecordedRequest): void {
    this.requests.push(request);
    for (const waiter of this.#waiters) {
      if (this.requests.length >= waiter.n) {
        clearTimeout(waiter.timer);
        this.#waiters.delete(waiter);
        waiter.resolve([...this.requests]);
      }
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse, rawBody: Buffer, receivedAt: number): void {
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: { ...req.headers },
      rawBody,
      events: [],
      validation: { ok: true },
      responseStatus: 0,
      receivedAt,
    };
    const requestId = headerValue(req, 'posthog-request-id');
    if (requestId !== undefined) res.setHeader('PostHog-Request-Id', requestId);

    try {
      this.#validate(req, rawBody, record);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      if (record.decodedBody === undefined) record.decodedBody = bestEffortDecode(req, rawBody);
      record.validation = { ok: false, status: error.status, error: error.tag, description: error.message };
      record.responseStatus = error.status;
      this.#record(record);
      res.writeHead(error.status, { 'content-type': 'application/json' });
      res.end(errorBody(error.tag, error.message));
      return;
    }

    const scripted = this.#script.shift() ?? this.#default;
    const status = scripted.status ?? 200;
    const answers = !scripted.hang && !scripted.reset;
    const results = answers && status >= 200 && status < 300 ? decideResults(record.events, scripted) : undefined;
    if (results) record.results = results;
    record.responseStatus = answers ? status : 0;
    this.#record(record);

    if (scripted.hang) return;
    const answer = () => {
      if (scripted.reset) {
        req.socket.resetAndDestroy();
        return;
      }
      this.#respond(res, scripted, status, results);
    };
    if (scripted.delayMs !== undefined && scripted.delayMs > 0) this.#later(scripted.delayMs, answer);
    else answer();
  }

  #validate(req: IncomingMessage, rawBody: Buffer, record: RecordedRequest): void {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || (path !== CAPTURE_PATH && path !== `${CAPTURE_PATH}/`)) {
      fail(404, 'not_found', `no route for ${req.method} ${path}`);
    }
    validateHeaders(req, this.apiKey);
    const decoded = decodeBody(req, rawBody);
    const body = parseJson(decoded);
    record.decodedBody = body;
    const events = validateShape(body);
    validateBatch((body as { created_at: string }).created_at, events);
    record.events = events;
  }

  #respond(res: ServerResponse, scripted: ScriptedResponse, status: number, results: ResultsMap | undefined): void {
    if (res.destroyed) return;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let body: string | Buffer;
    if (results) {
      const omitted = new Set((scripted.omitUuids ?? []).map(canonicalUuid));
      const sent: ResultsMap = {};
      for (const [uuid, result] of Object.entries(results)) if (!omitted.has(uuid)) sent[uuid] = result;
      body = JSON.stringify({ results: sent });
      const anyRetry = Object.values(results).some((r) => r.result === 'retry');
      if (anyRetry && scripted.headers === undefined) headers['retry-after'] = '1';
    } else {
      const tag = ERROR_TAG_BY_STATUS[status] ?? 'error';
      body = errorBody(tag, `scripted ${status} response`);
    }
    if (scripted.body !== undefined) body = scripted.body;
    Object.assign(headers, scripted.headers);

    if (scripted.cutBody) {
      const content = Buffer.from(body);
      res.writeHead(status, { ...headers, 'content-length': String(content.length) });
      res.write(content.subarray(0, Math.floor(content.length / 2)));
      this.#later(20, () => res.destroy());
    } else if (scripted.trickle) {
      this.#trickle(res, status, headers, Buffer.from(body), scripted.trickle);
    } else if (scripted.oversizedBodyBytes !== undefined) {
      streamOversized(res, status, headers, Buffer.from(body), scripted.oversizedBodyBytes);
    } else {
      res.writeHead(status, headers);
      res.end(body);
    }
  }

  #trickle(
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    content: Buffer,
    trickle: { chunkBytes: number; intervalMs: number; totalBytes: number },
  ): void {
    const total = Math.max(trickle.totalBytes, content.length);
    const step = Math.max(1, trickle.chunkBytes);
    res.writeHead(status, { ...headers, 'content-length': String(total) });
    res.flushHeaders();
    let sent = 0;
    const tick = () => {
      if (res.destroyed) return;
      const end = Math.min(total, sent + step);
      const chunk = paddedSlice(content, sent, end);
      sent = end;
      if (sent >= total) {
        res.end(chunk);
        return;
      }
      res.write(chunk);
      this.#later(trickle.intervalMs, tick);
    };
    this.#later(trickle.intervalMs, tick);
  }
}

/** Bytes [start, end) of `content` followed by spaces, so the full body stays valid JSON. */
function paddedSlice(content: Buffer, start: number, end: number): Buffer {
  if (end <= content.length) return content.subarray(start, end);
  const head = start < content.length ? content.subarray(start) : Buffer.alloc(0);
  return Buffer.concat([head, Buffer.alloc(end - Math.max(start, content.length), 0x20)]);
}

/** Streams `content` padded with spaces to `totalBytes`, respecting backpressure, without building it in memory. */
function streamOversized(res: ServerResponse, status: number, headers: Record<string, string>, content: Buffer, totalBytes: number): void {
  const total = Math.max(totalBytes, content.length);
  const padding = Buffer.alloc(STREAM_CHUNK_BYTES, 0x20);
  res.writeHead(status, { ...headers, 'content-length': String(total) });
  let sent = 0;
  if (content.length > 0) {
    res.write(content);
    sent = content.length;
  }
  const pump = () => {
    while (!res.destroyed && sent < total) {
      const size = Math.min(STREAM_CHUNK_BYTES, total - sent);
      sent += size;
      if (!res.write(size === STREAM_CHUNK_BYTES ? padding : padding.subarray(0, size))) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

function decideResults(events: CaptureEvent[], scripted: ScriptedResponse): ResultsMap {
  const overridesRaw = typeof scripted.results === 'function' ? scripted.results(events) : (scripted.results ?? {});
  const overrides = new Map<string, EventResult>();
  for (const [uuid, result] of Object.entries(overridesRaw)) overrides.set(canonicalUuid(uuid), result);
  const results: ResultsMap = {};
  for (const event of events) {
    const uuid = canonicalUuid(event.uuid);
    const override = overrides.get(uuid);
    const drop = perEventDrop(event) ?? errorTrackingDrop(event) ?? ingestionDrop(event);
    if (override) results[uuid] = override;
    else if (drop !== undefined) results[uuid] = { result: 'drop', details: drop };
    else results[uuid] = { result: scripted.defaultResult ?? 'ok' };
  }
  return results;
}

/** Decodes a rejected body for inspection only; never affects validation. */
function bestEffortDecode(req: IncomingMessage, rawBody: Buffer): unknown {
  try {
    return JSON.parse(decompress(rawBody, bodyEncoding(req)).toString('utf8'));
  } catch {
    return undefined;
  }
}

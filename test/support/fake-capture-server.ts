// A fake PostHog capture v1 endpoint (`POST /i/v1/analytics/events`) for tests, examples and benchmarks.
// It validates requests the way the real server does (plus a few stricter checks), records them,
// and answers with scripted responses. Two stricter checks stand for later stages: a `$exception`
// that error tracking could not parse, and a person or group event ingestion would discard, get a
// `drop` result here, where the real capture answers `ok` and the event is lost without a word.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import zlib from 'node:zlib';
import type { CaptureEvent, EventResult } from '../../src/capture/types.ts';
import { cymbalProblems } from './cymbal-schema.ts';

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

export type Validation = { ok: true } | { ok: false; status: number; error: string; description: string };

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

export const CAPTURE_PATH = '/i/v1/analytics/events';
export const MAX_COMPRESSED_BODY_BYTES = 10 * 1024 * 1024;
export const MAX_DECOMPRESSED_BODY_BYTES = 50 * 1024 * 1024;
export const MAX_EVENT_NAME_BYTES = 200;
export const MAX_DISTINCT_ID_BYTES = 200;
const ERROR_URI = 'https://posthog.com/docs/api';
const REQUIRED_HEADERS = [
  'posthog-sdk-info',
  'posthog-attempt',
  'posthog-request-id',
  'posthog-request-timestamp',
  'content-type',
  'user-agent',
];
const SUPPORTED_ENCODINGS = new Set(['gzip', 'deflate', 'br', 'zstd']);
const NOT_ACCEPTED = new Set(['retry', 'drop']);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/i;
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

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** RFC 3339 date-time with real calendar values (Date.parse alone rolls Feb 31 over). */
export function isRfc3339(value: string): boolean {
  const m = RFC3339_RE.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (year === undefined || month === undefined || day === undefined) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return false;
  if ((hour ?? 99) > 23 || (minute ?? 99) > 59 || (second ?? 99) > 59) return false;
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  return Number.isFinite(Date.parse(value.toUpperCase()));
}

function canonicalUuid(value: string): string {
  return value.trim().toLowerCase();
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function errorBody(error: string, description: string): string {
  return JSON.stringify({ error, error_description: description, error_uri: ERROR_URI });
}

class ValidationError extends Error {
  readonly status: number;
  readonly tag: string;
  constructor(status: number, tag: string, description: string) {
    super(description);
    this.status = status;
    this.tag = tag;
  }
}

function fail(status: number, tag: string, description: string): never {
  throw new ValidationError(status, tag, description);
}

function decompress(raw: Buffer, encoding: string | undefined): Buffer {
  const limit = { maxOutputLength: MAX_DECOMPRESSED_BODY_BYTES };
  switch (encoding) {
    case undefined:
      return raw;
    case 'gzip':
      return zlib.gunzipSync(raw, limit);
    // zlib-wrapped only: raw deflate has no 0x78 header and must fail here.
    case 'deflate':
      return zlib.inflateSync(raw, limit);
    case 'br':
      return zlib.brotliDecompressSync(raw, limit);
    case 'zstd':
      if (typeof zlib.zstdDecompressSync !== 'function') throw new Error('zstd is not available in this Node');
      return zlib.zstdDecompressSync(raw, limit);
    default:
      throw new Error(`unsupported encoding ${encoding}`);
  }
}

function bodyEncoding(req: IncomingMessage): string | undefined {
  const value = headerValue(req, 'content-encoding');
  return value === undefined ? undefined : value.trim().toLowerCase();
}

/** The header gate, in the order of the real server's `Context::new`. */
function validateHeaders(req: IncomingMessage, apiKey: string): void {
  const authorization = headerValue(req, 'authorization');
  if (authorization === undefined) fail(401, 'missing_authorization', 'missing Authorization header');

  const missing = REQUIRED_HEADERS.filter((name) => req.headers[name] === undefined);
  if (missing.length > 0) {
    fail(400, 'missing_required_headers', `missing required headers: ${missing.join(', ')}`);
  }

  if (!/^bearer /i.test(authorization)) {
    fail(400, 'invalid_header_value', 'Authorization must use the Bearer scheme');
  }
  const token = authorization.slice('bearer '.length).trim();
  if (token.startsWith('phx_')) fail(401, 'invalid_api_token', 'personal API keys cannot be used for capture');
  if (token !== apiKey) fail(401, 'invalid_api_token', 'invalid project API token');

  const mime = (headerValue(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (mime !== 'application/json') {
    fail(415, 'unsupported_content_type', `unsupported content type: ${headerValue(req, 'content-type')}`);
  }

  const encoding = bodyEncoding(req);
  if (encoding !== undefined && !SUPPORTED_ENCODINGS.has(encoding)) {
    fail(415, 'unsupported_encoding', `unsupported content encoding: ${encoding}`);
  }

  const requestId = headerValue(req, 'posthog-request-id') ?? '';
  if (!isUuid(requestId.trim())) fail(400, 'invalid_header_value', `PostHog-Request-Id is not a UUID: ${requestId}`);

  const attempt = headerValue(req, 'posthog-attempt') ?? '';
  if (!/^\d+$/.test(attempt) || Number(attempt) < 1 || Number(attempt) > 0xffff_ffff) {
    fail(400, 'invalid_header_value', `PostHog-Attempt is not an integer >= 1: ${attempt}`);
  }

  const timestamp = headerValue(req, 'posthog-request-timestamp') ?? '';
  if (!isRfc3339(timestamp)) {
    fail(400, 'invalid_header_value', `PostHog-Request-Timestamp is not RFC 3339: ${timestamp}`);
  }
}

function decodeBody(req: IncomingMessage, raw: Buffer): Buffer {
  if (raw.length > MAX_COMPRESSED_BODY_BYTES) {
    fail(413, 'payload_too_large', `body of ${raw.length} bytes exceeds ${MAX_COMPRESSED_BODY_BYTES}`);
  }
  if (raw.length === 0) fail(400, 'empty_body', 'request body is empty');
  let decoded: Buffer;
  try {
    decoded = decompress(raw, bodyEncoding(req));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      fail(413, 'payload_too_large', `decompressed body exceeds ${MAX_DECOMPRESSED_BODY_BYTES} bytes`);
    }
    fail(400, 'request_decoding_error', `could not decompress body: ${(error as Error).message}`);
  }
  if (decoded.length === 0) fail(400, 'empty_body', 'request body is empty');
  return decoded;
}

function parseJson(decoded: Buffer): unknown {
  try {
    return JSON.parse(decoded.toString('utf8'));
  } catch (error) {
    return fail(400, 'request_parsing_error', `body is not JSON: ${(error as Error).message}`);
  }
}

const FORBIDDEN_TOP_LEVEL = ['api_key', 'token', 'sent_at'];

/**
 * Capture deserialises typed fields into Rust `String`s with serde_json, which refuses a JSON escape
 * of a lone UTF-16 surrogate ("unexpected end of hex escape"): the whole request fails. After
 * JSON.parse such an escape is a string that is not well-formed. Properties are kept as raw JSON,
 * which serde does not check this way.
 */
function isWellFormed(value: string): boolean {
  return (value as unknown as { isWellFormed(): boolean }).isWellFormed();
}

const LONE_SURROGATE = (field: string): string => `${field}: unexpected end of hex escape (a lone UTF-16 surrogate)`;
const FORBIDDEN_PROPERTIES = ['$lib', '$lib_version'];

/** Deserialization checks: the shape `Batch { created_at, batch: Vec<Event> }` must hold, plus stricter client checks. */
function validateShape(body: unknown): CaptureEvent[] {
  const parsing = (description: string): never => fail(400, 'request_parsing_error', description);
  if (!isPlainObject(body)) parsing('body is not a JSON object');
  const envelope = body as Record<string, unknown>;
  if (typeof envelope.created_at !== 'string') parsing('created_at must be a string');
  if (!isWellFormed(envelope.created_at as string)) parsing(LONE_SURROGATE('created_at'));
  if (!Array.isArray(envelope.batch)) parsing('batch must be an array');
  if ('historical_migration' in envelope && typeof envelope.historical_migration !== 'boolean') {
    parsing('historical_migration must be a boolean');
  }
  for (const key of FORBIDDEN_TOP_LEVEL) {
    if (key in envelope) parsing(`body must not contain ${key}`);
  }
  const batch = envelope.batch as unknown[];
  batch.forEach((event, i) => {
    if (!isPlainObject(event)) return parsing(`batch[${i}] is not an object`);
    for (const field of ['event', 'uuid', 'distinct_id', 'timestamp']) {
      if (typeof event[field] !== 'string') parsing(`batch[${i}].${field} must be a string`);
      if (!isWellFormed(event[field] as string)) parsing(LONE_SURROGATE(`batch[${i}].${field}`));
    }
    for (const field of ['session_id', 'window_id']) {
      if (field in event && typeof event[field] !== 'string') parsing(`batch[${i}].${field} must be a string`);
      if (field in event && !isWellFormed(event[field] as string)) parsing(LONE_SURROGATE(`batch[${i}].${field}`));
    }
    // Options are typed too (product_tour_id is a String).
    if (isPlainObject(event.options)) {
      for (const [key, value] of Object.entries(event.options)) {
        if (typeof value === 'string' && !isWellFormed(value)) parsing(LONE_SURROGATE(`batch[${i}].options.${key}`));
      }
    }
    for (const field of ['properties', 'options']) {
      if (field in event && !isPlainObject(event[field])) parsing(`batch[${i}].${field} must be an object`);
    }
    const properties = event.properties as Record<string, unknown> | undefined;
    for (const key of FORBIDDEN_PROPERTIES) {
      if (properties && key in properties) parsing(`batch[${i}].properties must not contain ${key}`);
    }
  });
  return batch as CaptureEvent[];
}

/** Batch-level checks of `validate_batch` / `validate_events`. */
function validateBatch(createdAt: string, events: CaptureEvent[]): void {
  if (events.length === 0) fail(400, 'empty_batch', 'batch is empty');
  if (!isRfc3339(createdAt)) fail(400, 'invalid_batch', `created_at is not RFC 3339: ${createdAt}`);
  const seen = new Set<string>();
  events.forEach((event, i) => {
    const uuid = event.uuid.trim();
    if (uuid === '') fail(400, 'missing_event_uuid', `batch[${i}].uuid is empty`);
    if (!isUuid(uuid)) fail(400, 'invalid_event_uuid', `batch[${i}].uuid is not a UUID: ${event.uuid}`);
    const canonical = canonicalUuid(uuid);
    if (seen.has(canonical)) fail(400, 'duplicate_event_uuid', `duplicate event uuid ${canonical}`);
    seen.add(canonical);
  });
}

function coercibleBool(value: unknown): boolean {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return true;
  return typeof value === 'string' && ['true', 'false', '1', '0'].includes(value.trim().toLowerCase());
}

/** Per-event checks the real server turns into a `drop` result rather than a 400. */
export function perEventDrop(event: CaptureEvent): string | undefined {
  if (event.event === '') return 'missing_event_name';
  if (Buffer.byteLength(event.event) > MAX_EVENT_NAME_BYTES) return 'event_name_too_long';
  if (event.event === '$performance_event') return 'dropped_performance_event';
  const distinctId = event.distinct_id.trim();
  if (distinctId === '') return 'missing_distinct_id';
  if (Buffer.byteLength(distinctId) > MAX_DISTINCT_ID_BYTES) return 'distinct_id_too_large';
  if (!isRfc3339(event.timestamp)) return 'invalid_event_timestamp';
  const options = (event.options ?? {}) as Record<string, unknown>;
  for (const key of ['cookieless_mode', 'disable_skew_correction', 'process_person_profile']) {
    if (key in options && !coercibleBool(options[key])) return 'invalid_options';
  }
  const tour = options.product_tour_id;
  if (tour !== undefined && tour !== null && typeof tour !== 'string' && !Number.isInteger(tour)) {
    return 'invalid_options';
  }
  return undefined;
}

/** Result detail of a `$exception` error tracking would dead-letter, followed by its first problem. */
export const EXCEPTION_DEAD_LETTER = 'exception_dead_lettered';

/** Why error tracking would dead-letter this event, if it is a `$exception` it could not parse. */
export function errorTrackingDrop(event: CaptureEvent): string | undefined {
  if (event.event !== '$exception') return undefined;
  const problems = cymbalProblems((event.properties ?? {}) as Record<string, unknown>);
  return problems.length === 0
    ? undefined
    : `${EXCEPTION_DEAD_LETTER}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`;
}

/** Result detail of a person or group event ingestion would discard. */
export const PERSON_EVENT_DISCARDED = 'person_event_discarded';
const PERSON_EVENTS = new Set(['$identify', '$create_alias', '$merge_dangerously', '$groupidentify']);
/** Capture's ILLEGAL_DISTINCT_IDS: it turns person processing off for them (trimmed, any case). */
const ILLEGAL_DISTINCT_IDS = new Set(
  '0|00000000-0000-0000-0000-000000000000|[object object]|anonymous|anonymous-user|backend|distinct_id|distinctid|email|false|guest|id|nan|none|not_authenticated|null|system|true|undefined|user'.split(
    '|',
  ),
);

/**
 * Why ingestion would discard this person or group event, if it would: without person processing
 * (turned off by the event, or by capture for a placeholder id) it drops them with a warning the
 * sender never sees. The real capture answers ok; this server answers drop.
 */
export function ingestionDrop(event: CaptureEvent): string | undefined {
  if (!PERSON_EVENTS.has(event.event)) return undefined;
  const options = (event.options ?? {}) as Record<string, unknown>;
  const off = options.process_person_profile;
  if (off === false || off === 0 || (typeof off === 'string' && ['false', '0'].includes(off.trim().toLowerCase())))
    return `${PERSON_EVENT_DISCARDED}: person processing is off`;
  if (ILLEGAL_DISTINCT_IDS.has(event.distinct_id.trim().toLowerCase()))
    return `${PERSON_EVENT_DISCARDED}: placeholder distinct id ${JSON.stringify(event.distinct_id)}`;
  return undefined;
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

// The checks PostHog's capture endpoint makes of a request, as the fake capture server applies them
// (plus a few stricter ones): headers, body encoding and size, the batch's shape, and the per-event
// checks that drop an event rather than refuse the request, where the real capture drops it or a
// later stage would. No HTTP server here.

import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { cymbalProblems } from './cymbal-schema.ts';

export type Validation = { ok: true } | { ok: false; status: number; error: string; description: string };

export const CAPTURE_PATH = '/i/v1/analytics/events';
export const MAX_COMPRESSED_BODY_BYTES = 10 * 1024 * 1024;
export const MAX_DECOMPRESSED_BODY_BYTES = 50 * 1024 * 1024;
export const MAX_EVENT_NAME_BYTES = 200;
export const MAX_DISTINCT_ID_BYTES = 200;

const REQUIRED_HEADERS = [
  'posthog-sdk-info',
  'posthog-attempt',
  'posthog-request-id',
  'posthog-request-timestamp',
  'content-type',
  'user-agent',
];
const SUPPORTED_ENCODINGS = new Set(['gzip', 'deflate', 'br', 'zstd']);

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/i;

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

export function canonicalUuid(value: string): string {
  return value.trim().toLowerCase();
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export class ValidationError extends Error {
  readonly status: number;
  readonly tag: string;
  constructor(status: number, tag: string, description: string) {
    super(description);
    this.status = status;
    this.tag = tag;
  }
}

export function fail(status: number, tag: string, description: string): never {
  throw new ValidationError(status, tag, description);
}

export function decompress(raw: Buffer, encoding: string | undefined): Buffer {
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

export function bodyEncoding(req: IncomingMessage): string | undefined {
  const value = headerValue(req, 'content-encoding');
  return value === undefined ? undefined : value.trim().toLowerCase();
}

/** The header gate, in the order of the real server's `Context::new`. */
export function validateHeaders(req: IncomingMessage, apiKey: string): void {
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

export function decodeBody(req: IncomingMessage, raw: Buffer): Buffer {
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

export function parseJson(decoded: Buffer): unknown {
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
export function validateShape(body: unknown): CaptureEvent[] {
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
export function validateBatch(createdAt: string, events: CaptureEvent[]): void {
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

/**
 * What the server's checks of a decoded body say, without HTTP: for unit tests whose events must be
 * ones a request could carry.
 */
export function validateBody(body: unknown): Validation {
  try {
    const events = validateShape(body);
    validateBatch((body as { created_at: string }).created_at, events);
    return { ok: true };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { ok: false, status: error.status, error: error.tag, description: error.message };
  }
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

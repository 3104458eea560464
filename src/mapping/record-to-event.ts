import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { CaptureEvent, CaptureEventOptions } from '../capture/types.ts';
import { createHash } from 'node:crypto';
import { canonicalUuid, uuidFromHash, uuidv7 } from '../capture/uuid.ts';
import type { ResourcePropertiesRule } from '../config/options.ts';
import type { PostHogIdentity } from '../request-identity.ts';
import {
  ATTR_EXCEPTION_ESCAPED,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_STACKTRACE,
  ATTR_EXCEPTION_TYPE,
  ATTR_SERVICE_NAME,
  DEFAULT_RESOURCE_KEYS,
  DISTINCT_ID_KEYS,
  OPTION_KEYS,
  POSTHOG_DISTINCT_ID,
  POSTHOG_PREFIX,
  POSTHOG_UUID,
  SESSION_ID_KEYS,
  STRIPPED_PROPERTIES,
  WINDOW_ID_KEYS,
} from './attribute-keys.ts';
import { buildExceptionList, exceptionLevelFromSeverity } from './exception-list.ts';
import { isJsonPrimitive, toJsonSafe } from './json-safe.ts';
import { explicitEventName, hasException } from './selection.ts';

export interface MappingSettings {
  disableGeoip: boolean;
  resourceAttributes: ResourcePropertiesRule;
  /** Name of events made from plain log lines. */
  logEventName: string;
  /** Derive uuids from trace id, span id, event name, time and index instead of drawing them. */
  deterministicUuids?: boolean;
}

/** Extra facts a record can carry about where it came from (span events do). */
export interface RecordOrigin {
  spanName?: string;
  /** Identity from the context the record was emitted in (or its span was started in). */
  identity?: PostHogIdentity;
  /** Position among the events of one span, for deterministic uuids. */
  index?: number;
}

type Attributes = ReadableLogRecord['attributes'];
type Resource = ReadableLogRecord['resource'];

/**
 * Maps one OpenTelemetry log record to a PostHog event (README "Mapping" documents each rule).
 * Never throws for any attribute values; values JSON cannot hold are converted.
 */
export function recordToEvent(record: ReadableLogRecord, settings: MappingSettings, nowMillis: number, origin?: RecordOrigin): CaptureEvent {
  const attributes = record.attributes;
  const resourceAttributes = record.resource.attributes;
  const timeMillis = recordTimeMillis(record, nowMillis);
  const exception = hasException(attributes);

  const properties = resourceProperties(record.resource, settings.resourceAttributes);
  const spanContext = record.spanContext;
  if (spanContext && isValidId(spanContext.traceId, 32) && isValidId(spanContext.spanId, 16)) {
    properties.$trace_id = spanContext.traceId;
    properties.$span_id = spanContext.spanId;
  }
  if (record.severityNumber !== undefined && record.severityNumber > 0) properties.severity_number = record.severityNumber;
  if (typeof record.severityText === 'string' && record.severityText !== '') properties.severity_text = record.severityText;
  if (typeof record.body === 'string') properties.body = record.body;
  properties.otel_scope_name = record.instrumentationScope.name;
  if (origin?.spanName !== undefined) properties.otel_span_name = origin.spanName;

  for (const key in attributes) {
    if (key.startsWith(POSTHOG_PREFIX) || STRIPPED_PROPERTIES.has(key)) continue;
    if (exception && (key === ATTR_EXCEPTION_TYPE || key === ATTR_EXCEPTION_MESSAGE || key === ATTR_EXCEPTION_STACKTRACE)) continue;
    const value = attributes[key];
    if (value === undefined) continue;
    properties[key] = isJsonPrimitive(value) ? value : toJsonSafe(value);
  }
  if (settings.disableGeoip && !('$geoip_disable' in properties)) properties.$geoip_disable = true;

  let event = explicitEventName(record) ?? settings.logEventName;
  if (exception) {
    event = '$exception';
    properties.$exception_list = buildExceptionList(
      {
        ...stringField(attributes, ATTR_EXCEPTION_TYPE, 'type'),
        ...stringField(attributes, ATTR_EXCEPTION_MESSAGE, 'message'),
        ...stringField(attributes, ATTR_EXCEPTION_STACKTRACE, 'stacktrace'),
      },
      attributes[ATTR_EXCEPTION_ESCAPED] !== true,
    );
    if (!('$exception_level' in properties)) properties.$exception_level = exceptionLevelFromSeverity(record.severityNumber);
  }

  const options = eventOptions(attributes);
  const identity = origin?.identity;
  let distinctId = firstId(attributes, DISTINCT_ID_KEYS) ?? identity?.distinctId ?? idValue(resourceAttributes[POSTHOG_DISTINCT_ID]);
  const identified = distinctId !== undefined;
  if (distinctId === undefined) {
    // Personless: a fresh id per event, never a shared constant that would merge everyone into one person.
    // With deterministic uuids it is derived too, since PostHog dedupes on uuid and distinct id together.
    distinctId = settings.deterministicUuids ? deterministicUuid(record, `person:${event}`, origin?.index ?? 0, properties, '') : uuidv7(timeMillis);
    if (options.process_person_profile === undefined) options.process_person_profile = false;
  }

  const captured: CaptureEvent = {
    event,
    uuid: canonicalUuid(attributes[POSTHOG_UUID]) ?? (settings.deterministicUuids ? deterministicUuid(record, event, origin?.index ?? 0, properties, identified ? distinctId : '') : uuidv7(timeMillis)),
    distinct_id: distinctId,
    timestamp: isoTimestamp(timeMillis),
    options,
    properties,
  };
  const sessionId = firstString(attributes, SESSION_ID_KEYS) ?? identity?.sessionId;
  if (sessionId !== undefined) captured.session_id = sessionId;
  const windowId = firstString(attributes, WINDOW_ID_KEYS) ?? identity?.windowId;
  if (windowId !== undefined) captured.window_id = windowId;
  return captured;
}

/**
 * The same record always gets the same uuid, so exporting it twice (a retry after a crash, a
 * replay) dedupes in PostHog. The key is the trace and span ids, the name, the time, the index
 * among a span's events and the content (properties and distinct id): only records alike in all
 * of these, which PostHog would count as the same event anyway, share a uuid.
 */
function deterministicUuid(record: ReadableLogRecord, eventName: string, index: number, properties: Record<string, unknown>, distinctId: string): string {
  const sc = record.spanContext;
  const t = record.hrTime;
  const key = `${sc?.traceId ?? ''}|${sc?.spanId ?? ''}|${eventName}|${Array.isArray(t) ? `${t[0]}.${t[1]}` : ''}|${index}|${distinctId}|${JSON.stringify(properties)}`;
  return uuidFromHash(createHash('sha256').update(key).digest());
}

const MAX_RFC3339_MILLIS = Date.UTC(10000, 0, 1);

let cachedSecond = Number.NaN;
let cachedSecondText = '';

/**
 * `new Date(ms).toISOString()`, with the date and time up to the second reused from the previous
 * call: records of one batch mostly fall in the same second, and formatting dominated mapping.
 */
export function isoTimestamp(millis: number): string {
  const second = Math.floor(millis / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedSecondText = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const ms = Math.floor(millis - second * 1000);
  return `${cachedSecondText}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

/** The record's time; the observed time when that is unusable; `now` when both are. */
function recordTimeMillis(record: ReadableLogRecord, nowMillis: number): number {
  for (const time of [record.hrTime, record.hrTimeObserved]) {
    if (!Array.isArray(time)) continue;
    const millis = time[0] * 1000 + time[1] / 1e6;
    // RFC 3339 years have four digits (before 10000-01-01); a zero time means "unset" to most producers.
    if (Number.isFinite(millis) && millis > 0 && millis < MAX_RFC3339_MILLIS) return millis;
  }
  return nowMillis;
}

const resourceCache = new WeakMap<Resource, { rule: ResourcePropertiesRule; properties: Record<string, unknown>; nested: boolean }>();

/**
 * Resource-derived properties, computed once per resource object (records share it). Each event
 * gets its own copy, deep when a value is an object, so changing one event never changes another.
 */
function resourceProperties(resource: Resource, rule: ResourcePropertiesRule): Record<string, unknown> {
  // Async resource attributes settle before export; cache only settled ones.
  const cacheable = !resource.asyncAttributesPending;
  const cached = cacheable ? resourceCache.get(resource) : undefined;
  if (cached && cached.rule === rule) return cached.nested ? structuredClone(cached.properties) : { ...cached.properties };
  const attributes = resource.attributes;
  const properties: Record<string, unknown> = {};
  if (rule !== 'none') {
    const keys = rule === 'all' ? Object.keys(attributes) : rule === 'default' ? DEFAULT_RESOURCE_KEYS : rule;
    for (const key of keys) {
      if (key.startsWith(POSTHOG_PREFIX)) continue;
      const value = attributes[key];
      if (value !== undefined) properties[key] = toJsonSafe(value);
    }
    const serviceName = attributes[ATTR_SERVICE_NAME];
    if (typeof serviceName === 'string') properties.service_name = serviceName;
  }
  const nested = Object.values(properties).some((value) => typeof value === 'object' && value !== null);
  if (cacheable) resourceCache.set(resource, { rule, properties, nested });
  return nested ? structuredClone(properties) : { ...properties };
}

/** A trace (32) or span (16) id that is lower-case hex and not all zeros, as OpenTelemetry defines valid. */
function isValidId(id: string | undefined, length: 32 | 16): id is string {
  if (typeof id !== 'string' || id.length !== length) return false;
  let nonZero = false;
  for (let i = 0; i < length; i++) {
    const c = id.charCodeAt(i);
    // 0-9 or a-f
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
    if (c !== 48) nonZero = true;
  }
  return nonZero;
}

function stringField<K extends string>(attributes: Attributes, key: string, as: K): Partial<Record<K, string>> {
  const value = attributes[key];
  return typeof value === 'string' && value !== '' ? ({ [as]: value } as Record<K, string>) : {};
}

/** A distinct id: a non-empty string, or a whole number written as one. */
function idValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() !== '' ? value : undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  return undefined;
}

function firstId(attributes: Attributes, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const id = idValue(attributes[key]);
    if (id !== undefined) return id;
  }
  return undefined;
}

function firstString(attributes: Attributes, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = attributes[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** Typed options from `posthog.*` attributes, coerced as the protocol's SDKs do; uncoercible values are left out. */
function eventOptions(attributes: Attributes): CaptureEventOptions {
  const options: CaptureEventOptions = {};
  for (const name of ['cookieless_mode', 'disable_skew_correction', 'process_person_profile'] as const) {
    const value = toBoolean(attributes[OPTION_KEYS[name]]);
    if (value !== undefined) options[name] = value;
  }
  const tour = attributes[OPTION_KEYS.product_tour_id];
  if (typeof tour === 'string' && tour !== '') options.product_tour_id = tour;
  return options;
}

function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value !== 0;
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
  }
  return undefined;
}

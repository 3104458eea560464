import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { EncodedEvent, type EncodedEventFields } from '../capture/encoded-event.ts';
import type { CaptureEventOptions } from '../capture/types.ts';
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
import { isPlainJson, toJsonSafe } from './json-safe.ts';
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
 * Maps one OpenTelemetry log record to a PostHog event (README "Mapping" documents each rule),
 * writing the event's JSON directly. Never throws for any attribute values; values JSON cannot
 * hold are converted.
 *
 * Properties are written in the order they are set: resource, then what the mapping sets itself,
 * then the attributes. An attribute may carry the name of a property set before it (`body`, a
 * resource key); then the later value wins, in the earlier place, as with object assignment.
 * (Unlike an object, integer-like keys are not moved first; PostHog does not mind the order.)
 */
export function recordToEvent(record: ReadableLogRecord, settings: MappingSettings, nowMillis: number, origin?: RecordOrigin): EncodedEvent {
  const attributes = record.attributes;
  const resourceAttributes = record.resource.attributes;
  const timeMillis = recordTimeMillis(record, nowMillis);
  const exception = hasException(attributes);
  const resource = resourceProperties(record.resource, settings.resourceAttributes);

  // The members of the properties object, written one after another.
  let text = resource.json;
  let repeated = resource.repeatsMappedKey;
  const spanContext = record.spanContext;
  if (spanContext && hasValidIds(spanContext)) {
    // Valid ids are lower-case hex: no escaping needed.
    text = withMember(text, '$trace_id', `"${spanContext.traceId}"`);
    text = withMember(text, '$span_id', `"${spanContext.spanId}"`);
  }
  if (record.severityNumber !== undefined && record.severityNumber > 0) text = withMember(text, 'severity_number', valueJson(record.severityNumber));
  if (typeof record.severityText === 'string' && record.severityText !== '') text = withMember(text, 'severity_text', nameJson(record.severityText));
  if (typeof record.body === 'string') text = withMember(text, 'body', JSON.stringify(record.body));
  const scopeName = record.instrumentationScope.name;
  text = withMember(text, 'otel_scope_name', typeof scopeName === 'string' ? nameJson(scopeName) : valueJson(scopeName));
  if (origin?.spanName !== undefined) text = withMember(text, 'otel_span_name', JSON.stringify(origin.spanName));

  let geoipSet = resource.keys.has(GEOIP_DISABLE);
  let levelSet = resource.keys.has(EXCEPTION_LEVEL);
  // Usually every attribute goes in, with a value JSON writes as it is: then one JSON.stringify of
  // the whole map writes them all, where one by one would cost a string per value and per join.
  let asIs = true;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    if (isLeftOut(key, exception)) {
      asIs = false;
      continue;
    }
    if (asIs && !isPlainJson(value)) asIs = false;
    if (resource.mappedAndOwnKeys.has(key)) repeated = true;
    else if (key === GEOIP_DISABLE) geoipSet = true;
    else if (key === EXCEPTION_LEVEL) levelSet = true;
  }
  if (asIs) {
    const members = JSON.stringify(attributes).slice(1, -1);
    if (members !== '') text = text === '' ? members : `${text},${members}`;
  } else {
    for (const key in attributes) {
      const value = attributes[key];
      if (value === undefined || isLeftOut(key, exception)) continue;
      text = withMember(text, key, valueJson(value));
    }
  }
  if (settings.disableGeoip && !geoipSet) text = withMember(text, GEOIP_DISABLE, 'true');

  let event = explicitEventName(record) ?? settings.logEventName;
  if (exception) {
    event = '$exception';
    const list = buildExceptionList(
      {
        ...stringField(attributes, ATTR_EXCEPTION_TYPE, 'type'),
        ...stringField(attributes, ATTR_EXCEPTION_MESSAGE, 'message'),
        ...stringField(attributes, ATTR_EXCEPTION_STACKTRACE, 'stacktrace'),
      },
      attributes[ATTR_EXCEPTION_ESCAPED] !== true,
    );
    text = withMember(text, EXCEPTION_LIST, JSON.stringify(list));
    if (!levelSet) text = withMember(text, EXCEPTION_LEVEL, JSON.stringify(exceptionLevelFromSeverity(record.severityNumber)));
  }
  // A key written twice: JSON.parse keeps the first place and the last value, as assignment does.
  if (repeated) text = JSON.stringify(JSON.parse(`{${text}}`)).slice(1, -1);

  const options = eventOptions(attributes);
  const identity = origin?.identity;
  let distinctId = firstId(attributes, DISTINCT_ID_KEYS) ?? identity?.distinctId ?? idValue(resourceAttributes[POSTHOG_DISTINCT_ID]);
  const identified = distinctId !== undefined;
  if (distinctId === undefined) {
    // Personless: a fresh id per event, never a shared constant that would merge everyone into one person.
    // With deterministic uuids it is derived too, since PostHog dedupes on uuid and distinct id together.
    distinctId = settings.deterministicUuids ? deterministicUuid(record, `person:${event}`, origin?.index ?? 0, `{${text}}`, '') : uuidv7(timeMillis);
    if (options.process_person_profile === undefined) options.process_person_profile = false;
  }

  const fields: EncodedEventFields = {
    event,
    uuid: canonicalUuid(attributes[POSTHOG_UUID]) ?? (settings.deterministicUuids ? deterministicUuid(record, event, origin?.index ?? 0, `{${text}}`, identified ? distinctId : '') : uuidv7(timeMillis)),
    distinct_id: distinctId,
    timestamp: isoTimestamp(timeMillis),
  };
  // uuid and timestamp are generated or canonical: plain ASCII, nothing to escape.
  let json = `{"event":${nameJson(fields.event)},"uuid":"${fields.uuid}","distinct_id":${JSON.stringify(distinctId)},"timestamp":"${fields.timestamp}","options":${optionsJson(options)},"properties":{${text}}`;
  const sessionId = firstString(attributes, SESSION_ID_KEYS) ?? identity?.sessionId;
  if (sessionId !== undefined) {
    fields.session_id = sessionId;
    json += `,"session_id":${JSON.stringify(sessionId)}`;
  }
  const windowId = firstString(attributes, WINDOW_ID_KEYS) ?? identity?.windowId;
  if (windowId !== undefined) {
    fields.window_id = windowId;
    json += `,"window_id":${JSON.stringify(windowId)}`;
  }
  return new EncodedEvent(fields, `${json}}`);
}

/** `text` with one more member, `"key":json`; unchanged when JSON has no value for it. */
function withMember(text: string, key: string, json: string | undefined): string {
  if (json === undefined) return text;
  return text === '' ? keyJson(key) + json : text + (commaKeyJson(key) + json);
}

const GEOIP_DISABLE = '$geoip_disable';
const EXCEPTION_LIST = '$exception_list';
const EXCEPTION_LEVEL = '$exception_level';
/** Properties the mapping sets from the record itself, before the attributes. */
const MAPPED_KEYS: ReadonlySet<string> = new Set(['$trace_id', '$span_id', 'severity_number', 'severity_text', 'body', 'otel_scope_name', 'otel_span_name']);

/** Attributes that never become properties: PostHog's control attributes, and the exception ones an exception event turns into its list. */
function isLeftOut(key: string, exception: boolean): boolean {
  if (key.startsWith(POSTHOG_PREFIX) || STRIPPED_PROPERTIES.has(key)) return true;
  return exception && (key === ATTR_EXCEPTION_TYPE || key === ATTR_EXCEPTION_MESSAGE || key === ATTR_EXCEPTION_STACKTRACE || key === EXCEPTION_LIST);
}

/** JSON text of an attribute value, made JSON-safe first when it is not a plain primitive; undefined when JSON has no value for it. */
function valueJson(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // String(-0) is "0", as JSON writes it; non-finite numbers go through toJsonSafe.
      if (Number.isFinite(value)) return String(value);
      break;
    case 'object':
      // OpenTelemetry's array values need no walk.
      if (isPlainJson(value)) return JSON.stringify(value);
      break;
  }
  return JSON.stringify(toJsonSafe(value)) as string | undefined;
}

/** `"key":` for property keys, cached: the same attribute names come back in record after record. */
const keyJsonCache = new Map<string, string>();
const KEY_CACHE_LIMIT = 4096;

function keyJson(key: string): string {
  return cachedJson(keyJsonCache, key, '', ':');
}

/** `,"key":`, cached like keyJson. */
const commaKeyJsonCache = new Map<string, string>();

function commaKeyJson(key: string): string {
  return cachedJson(commaKeyJsonCache, key, ',', ':');
}

/** JSON of strings that name things (event names, severity texts, scopes): few distinct values, cached. */
const nameJsonCache = new Map<string, string>();

function nameJson(name: string): string {
  return cachedJson(nameJsonCache, name, '', '');
}

function cachedJson(cache: Map<string, string>, text: string, prefix: string, suffix: string): string {
  let json = cache.get(text);
  if (json === undefined) {
    json = prefix + JSON.stringify(text) + suffix;
    // Bounded: names made from data (ids in attribute names) must not grow it without end.
    if (cache.size < KEY_CACHE_LIMIT) cache.set(text, json);
  }
  return json;
}

function optionsJson(options: CaptureEventOptions): string {
  let json = '';
  for (const key in options) {
    const value = options[key as keyof CaptureEventOptions];
    if (value !== undefined) json += `${json === '' ? '' : ','}"${key}":${JSON.stringify(value)}`;
  }
  return `{${json}}`;
}

/**
 * The same record always gets the same uuid, so exporting it twice (a retry after a crash, a
 * replay) dedupes in PostHog. The key is the trace and span ids, the name, the time, the index
 * among a span's events and the content (properties and distinct id): only records alike in all
 * of these, which PostHog would count as the same event anyway, share a uuid.
 */
function deterministicUuid(record: ReadableLogRecord, eventName: string, index: number, propertiesJson: string, distinctId: string): string {
  const sc = record.spanContext;
  const t = record.hrTime;
  const key = `${sc?.traceId ?? ''}|${sc?.spanId ?? ''}|${eventName}|${Array.isArray(t) ? `${t[0]}.${t[1]}` : ''}|${index}|${distinctId}|${propertiesJson}`;
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
  return usableMillis(record.hrTime) ?? usableMillis(record.hrTimeObserved) ?? nowMillis;
}

function usableMillis(time: ReadableLogRecord['hrTime'] | undefined): number | undefined {
  if (!Array.isArray(time)) return undefined;
  const millis = time[0] * 1000 + time[1] / 1e6;
  // RFC 3339 years have four digits (before 10000-01-01); a zero time means "unset" to most producers.
  return Number.isFinite(millis) && millis > 0 && millis < MAX_RFC3339_MILLIS ? millis : undefined;
}

interface ResourceProperties {
  rule: ResourcePropertiesRule;
  /** The properties as JSON object members, without the braces. */
  json: string;
  keys: ReadonlySet<string>;
  /** These keys and the ones the mapping sets before the attributes: an attribute named like one repeats it. */
  mappedAndOwnKeys: ReadonlySet<string>;
  /** A resource key is also a property the mapping sets, so the event's text may repeat it. */
  repeatsMappedKey: boolean;
}

const resourceCache = new WeakMap<Resource, ResourceProperties>();

/** Resource-derived properties, written once per resource object (records share it). */
function resourceProperties(resource: Resource, rule: ResourcePropertiesRule): ResourceProperties {
  // Async resource attributes settle before export; cache only settled ones.
  const cacheable = !resource.asyncAttributesPending;
  const cached = cacheable ? resourceCache.get(resource) : undefined;
  if (cached && cached.rule === rule) return cached;
  const attributes = resource.attributes;
  const members = new Map<string, string>();
  if (rule !== 'none') {
    const keys = rule === 'all' ? Object.keys(attributes) : rule === 'default' ? DEFAULT_RESOURCE_KEYS : rule;
    for (const key of keys) {
      if (key.startsWith(POSTHOG_PREFIX)) continue;
      const json = attributes[key] === undefined ? undefined : valueJson(attributes[key]);
      if (json !== undefined) members.set(key, json);
    }
    const serviceName = attributes[ATTR_SERVICE_NAME];
    if (typeof serviceName === 'string') members.set('service_name', JSON.stringify(serviceName));
  }
  const keys = new Set(members.keys());
  const properties: ResourceProperties = {
    rule,
    json: [...members].map(([key, json]) => keyJson(key) + json).join(','),
    keys,
    mappedAndOwnKeys: new Set([...MAPPED_KEYS, ...keys]),
    repeatsMappedKey: [...keys].some((key) => MAPPED_KEYS.has(key) || key === EXCEPTION_LIST),
  };
  if (cacheable) resourceCache.set(resource, properties);
  return properties;
}

const checkedSpanContexts = new WeakMap<object, boolean>();

/**
 * Trace and span ids that are lower-case hex and not all zeros, as OpenTelemetry defines valid.
 * Records of one span share their span context object, so each is checked once.
 */
function hasValidIds(spanContext: NonNullable<ReadableLogRecord['spanContext']>): boolean {
  // Hand-built records may carry anything here; a WeakMap takes objects only.
  if (typeof spanContext !== 'object') return false;
  let valid = checkedSpanContexts.get(spanContext);
  if (valid === undefined) {
    valid = isValidId(spanContext.traceId, 32) && isValidId(spanContext.spanId, 16);
    checkedSpanContexts.set(spanContext, valid);
  }
  return valid;
}

function isValidId(id: string | undefined, length: 32 | 16): boolean {
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

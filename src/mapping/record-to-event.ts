import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { EncodedEvent, type EncodedEventFields } from '../capture/encoded-event.ts';
import type { CaptureEventOptions } from '../capture/types.ts';
import { createHash } from 'node:crypto';
import { canonicalUuid, uuidFromHash, uuidv7 } from '../shared/uuid.ts';
import type { ResourcePropertiesRule } from '../config/options.ts';
import type { MappingSettings } from '../config/sections.ts';
import type { PostHogIdentity } from '../request-identity.ts';
import {
  ATTR_EXCEPTION_ESCAPED,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_STACKTRACE,
  ATTR_EXCEPTION_TYPE,
  ATTR_SERVICE_NAME,
  DEFAULT_RESOURCE_KEYS,
  DISTINCT_ID_KEYS,
  EXCEPTION_EVENT_NAME,
  OPTION_KEYS,
  POSTHOG_DISTINCT_ID,
  POSTHOG_PREFIX,
  POSTHOG_UUID,
  SESSION_ID_KEYS,
  STRIPPED_PROPERTIES,
  UUIDV7_SESSION_ID_KEYS,
  UUIDV7_WINDOW_ID_KEYS,
  WINDOW_ID_KEYS,
} from './attribute-keys.ts';
import { DERIVED_PROPERTIES, needsTextForm, textFormJson } from './error-tracking-properties.ts';
import {
  buildExceptionList,
  exceptionLevelFromSeverity,
  exceptionLevelOf,
  type ExceptionAttributes,
  type PostHogException,
} from './exception-list.ts';
import { isPlainJson, toJsonSafe, UNSERIALIZABLE, type ConversionTally } from './json-safe.ts';
import { refusedPersonEvent } from './person-events.ts';
import { explicitEventName, hasException } from '../selection/selection.ts';
import { mayHoldLoneSurrogate, repairJsonText, wellFormed } from './well-formed.ts';

/** Extra facts a record can carry about where it came from (span events do). */
export interface RecordOrigin {
  spanName?: string;
  /** Identity from the context the record was emitted in (or its span was started in). */
  identity?: PostHogIdentity;
  /** Position among the events of one span, for deterministic uuids. */
  index?: number;
}

/** What became of one record. */
export type MappingOutcome =
  /**
   * One event, or two for a named event with exception attributes (the event, then a `$exception`
   * linked to it). `unconvertible` counts attribute values sent as "[unserializable]".
   */
  | { kind: 'mapped'; events: EncodedEvent[]; unconvertible: number }
  /** No event: PostHog would discard what the record could become. */
  | { kind: 'invalid'; reason: string };

/** Properties of a `$exception` sent for a named event: which event it belongs to. */
export const LINKED_EVENT_NAME = 'otel_event_name';
export const LINKED_EVENT_UUID = 'otel_event_uuid';

type Attributes = ReadableLogRecord['attributes'];
type Resource = ReadableLogRecord['resource'];

/** Which attributes a properties object leaves out, besides `posthog.*` and the stripped ones. */
type LeaveOut =
  | 'none'
  /** An exception event: the exception attributes become its list. */
  | 'exception'
  /** A named event whose exception goes to a linked `$exception`: the stack goes there only. */
  | 'stack';

/**
 * Maps one OpenTelemetry log record to PostHog events (README "Mapping" documents each rule),
 * writing their JSON directly. Never throws for any attribute values: values JSON cannot hold are
 * converted, and one that cannot be read or converted is sent as "[unserializable]" and counted.
 *
 * Properties are written in the order they are set: resource, then what the mapping sets itself,
 * then the attributes. An attribute may carry the name of a property set before it (`body`, a
 * resource key); then the later value wins, in the earlier place, as with object assignment.
 * (Unlike an object, integer-like keys are not moved first; PostHog does not mind the order.)
 */
export function mapRecord(record: ReadableLogRecord, settings: MappingSettings, nowMillis: number, origin?: RecordOrigin): MappingOutcome {
  const attributes = record.attributes;
  const timeMillis = recordTimeMillis(record, nowMillis);
  const tally: ConversionTally = { unconvertible: 0 };
  const named = explicitEventName(record);
  // A named event keeps its name; its exception attributes also go to error tracking, as a $exception linked to it.
  const exceptionAttributes = hasException(attributes);
  const exception = named === '$exception' || (exceptionAttributes && (named === undefined || named === EXCEPTION_EVENT_NAME));
  const linkedException = exceptionAttributes && !exception;
  const event = wellFormed(exception ? '$exception' : (named ?? settings.logEventName));

  const properties = propertiesText(record, settings, origin, exception ? 'exception' : linkedException ? 'stack' : 'none', tally);
  let text = properties.text;
  if (exception) text = withExceptionProperties(text, record, properties.levelSet);
  if (properties.repeated) text = dedupeMembers(text);

  // Records without control attributes (the usual case) have no options, uuid or own session ids to read.
  const control = properties.controlAttributes;
  const options = control ? eventOptions(attributes) : {};
  const identity = origin?.identity;
  let distinctId =
    firstId(attributes, DISTINCT_ID_KEYS) ?? identity?.distinctId ?? idValue(record.resource.attributes[POSTHOG_DISTINCT_ID]);
  const refusal = refusedPersonEvent(event, attributes, distinctId, options);
  if (refusal !== undefined) {
    if ('invalid' in refusal) return { kind: 'invalid', reason: refusal.invalid };
    distinctId = refusal.distinctId;
  }
  const identified = distinctId !== undefined;
  if (distinctId === undefined) {
    // Personless: a fresh id per event, never a shared constant that would merge everyone into one person.
    // With deterministic uuids it is derived too, since PostHog dedupes on uuid and distinct id together.
    distinctId = settings.deterministicUuids
      ? deterministicUuid(record, `person:${event}`, origin?.index ?? 0, `{${text}}`, '')
      : uuidv7(timeMillis);
    if (options.process_person_profile === undefined) options.process_person_profile = false;
  }

  const common: CommonFields = {
    distinctId: wellFormed(distinctId),
    timestamp: isoTimestamp(timeMillis),
    options: optionsJson(options),
    sessionId: sessionOrWindowId(attributes, control ? SESSION_ID_KEYS : NO_KEYS, identity?.sessionId, UUIDV7_SESSION_ID_KEYS),
    windowId: sessionOrWindowId(attributes, control ? WINDOW_ID_KEYS : NO_KEYS, identity?.windowId, UUIDV7_WINDOW_ID_KEYS),
  };
  const personKey = identified ? distinctId : '';
  const givenUuid = control ? canonicalUuid(readAttribute(attributes, POSTHOG_UUID)) : undefined;
  const uuid =
    givenUuid ??
    (settings.deterministicUuids ? deterministicUuid(record, event, origin?.index ?? 0, `{${text}}`, personKey) : uuidv7(timeMillis));
  // Neither given nor derived: the uuids of this record's events are drawn at random.
  const uuidDrawn = givenUuid === undefined && !settings.deterministicUuids;
  const events = [encodeEvent(event, uuid, common, text, uuidDrawn)];

  if (linkedException) {
    // The same facts as an exception record would give, plus which event it belongs to. Its values
    // were all read for the named event already, and counted there.
    const own = propertiesText(record, settings, origin, 'exception', { unconvertible: 0 });
    let linked = withExceptionProperties(own.text, record, own.levelSet);
    linked = withMember(linked, LINKED_EVENT_NAME, JSON.stringify(event));
    linked = withMember(linked, LINKED_EVENT_UUID, `"${uuid}"`);
    // The links are written last and must win over attributes of the same name.
    linked = dedupeMembers(linked);
    // A uuid given for the event is meant to dedupe it: its $exception dedupes with it.
    const linkedUuid =
      givenUuid !== undefined
        ? uuidFromHash(createHash('sha256').update(`${givenUuid}|$exception`).digest())
        : settings.deterministicUuids
          ? deterministicUuid(record, '$exception', origin?.index ?? 0, `{${linked}}`, personKey)
          : uuidv7(timeMillis);
    events.push(encodeEvent('$exception', linkedUuid, common, linked, uuidDrawn));
  }
  return { kind: 'mapped', events, unconvertible: tally.unconvertible };
}

/** {@link mapRecord}'s first event; throws when the record cannot become one. */
export function recordToEvent(
  record: ReadableLogRecord,
  settings: MappingSettings,
  nowMillis: number,
  origin?: RecordOrigin,
): EncodedEvent {
  const outcome = mapRecord(record, settings, nowMillis, origin);
  if (outcome.kind === 'invalid') throw new Error(outcome.reason);
  return outcome.events[0]!;
}

interface CommonFields {
  distinctId: string;
  timestamp: string;
  /** The options object's JSON. */
  options: string;
  sessionId: string | undefined;
  windowId: string | undefined;
}

function encodeEvent(event: string, uuid: string, common: CommonFields, properties: string, uuidDrawn: boolean): EncodedEvent {
  const fields: EncodedEventFields = { event, uuid, distinct_id: common.distinctId, timestamp: common.timestamp };
  // uuid and timestamp are generated or canonical: plain ASCII, nothing to escape.
  let json = `{"event":${nameJson(event)},"uuid":"${uuid}","distinct_id":${JSON.stringify(common.distinctId)},"timestamp":"${common.timestamp}","options":${common.options},"properties":{${properties}}`;
  if (common.sessionId !== undefined) {
    fields.session_id = common.sessionId;
    json += `,"session_id":${JSON.stringify(common.sessionId)}`;
  }
  if (common.windowId !== undefined) {
    fields.window_id = common.windowId;
    json += `,"window_id":${JSON.stringify(common.windowId)}`;
  }
  json += '}';
  // Typed fields were made well-formed above; property strings (and product_tour_id) are repaired here.
  return new EncodedEvent(fields, mayHoldLoneSurrogate(json) ? repairJsonText(json) : json, uuidDrawn);
}

interface PropertiesText {
  /** The members of the properties object, without the braces. */
  text: string;
  /** A key may be written twice: the text needs {@link dedupeMembers}. */
  repeated: boolean;
  /** An attribute sets `$exception_level` itself. */
  levelSet: boolean;
  /**
   * The record may carry control attributes (`posthog.*`, and the properties the server derives,
   * such as `$session_id`): the mapping must look for options, a uuid and PostHog's own session ids.
   * False only when the attribute keys could be listed and none of them is one. The SDK's attribute
   * maps are plain objects with enumerable keys; a key `for…in` does not list counts as absent.
   */
  controlAttributes: boolean;
}

/** Resource properties, what the mapping sets from the record, the attributes not left out, and `$geoip_disable`. */
function propertiesText(
  record: ReadableLogRecord,
  settings: MappingSettings,
  origin: RecordOrigin | undefined,
  leaveOut: LeaveOut,
  tally: ConversionTally,
): PropertiesText {
  const attributes = record.attributes;
  const resource = resourceProperties(record.resource, settings.resourceAttributes);

  let text = resource.json;
  let repeated = resource.repeatsMappedKey;
  const spanContext = record.spanContext;
  if (spanContext && hasValidIds(spanContext)) {
    // Valid ids are lower-case hex: no escaping needed.
    text = withMember(text, '$trace_id', `"${spanContext.traceId}"`);
    text = withMember(text, '$span_id', `"${spanContext.spanId}"`);
  }
  if (record.severityNumber !== undefined && record.severityNumber > 0)
    text = withMember(text, 'severity_number', valueJson(record.severityNumber, tally));
  if (typeof record.severityText === 'string' && record.severityText !== '')
    text = withMember(text, 'severity_text', nameJson(record.severityText));
  if (typeof record.body === 'string') text = withMember(text, 'body', JSON.stringify(record.body));
  const scopeName = record.instrumentationScope.name;
  text = withMember(text, 'otel_scope_name', typeof scopeName === 'string' ? nameJson(scopeName) : valueJson(scopeName, tally));
  if (origin?.spanName !== undefined) text = withMember(text, 'otel_span_name', JSON.stringify(origin.spanName));

  let geoipSet = resource.keys.has(GEOIP_DISABLE);
  let levelSet = resource.keys.has(EXCEPTION_LEVEL);
  // Usually every attribute goes in, with a value JSON writes as it is: then one JSON.stringify of
  // the whole map writes them all, where one by one would cost a string per value and per join.
  let asIs = true;
  let controlAttributes = false;
  let members: string | undefined;
  try {
    for (const key in attributes) {
      if (isLeftOut(key, leaveOut)) {
        asIs = false;
        if (isControlAttribute(key)) controlAttributes = true;
        continue;
      }
      let value: unknown;
      try {
        value = attributes[key];
      } catch {
        asIs = false;
        continue;
      }
      if (value === undefined) continue;
      if (asIs && (!isPlainJson(value) || (leaveOut === 'exception' && needsTextForm(key, value)))) asIs = false;
      if (resource.mappedAndOwnKeys.has(key)) repeated = true;
      else if (key === GEOIP_DISABLE) geoipSet = true;
      else if (key === EXCEPTION_LEVEL) levelSet = true;
    }
    if (asIs) members = JSON.stringify(attributes).slice(1, -1);
  } catch {
    // A value that changed between reads, a hostile attributes object: write them one by one.
    members = undefined;
    controlAttributes = true;
  }
  if (members !== undefined) {
    if (members !== '') text = text === '' ? members : `${text},${members}`;
  } else {
    text = attributeMembers(text, attributes, leaveOut, tally);
  }
  if (settings.disableGeoip && !geoipSet) text = withMember(text, GEOIP_DISABLE, 'true');
  return { text, repeated, levelSet, controlAttributes };
}

/** The attributes one by one: a value that cannot be read or converted is sent as "[unserializable]", the rest go on. */
function attributeMembers(text: string, attributes: Attributes, leaveOut: LeaveOut, tally: ConversionTally): string {
  let keys: string[];
  try {
    keys = [];
    for (const key in attributes) keys.push(key);
  } catch {
    tally.unconvertible++;
    return text;
  }
  let out = text;
  for (const key of keys) {
    if (isLeftOut(key, leaveOut)) continue;
    let value: unknown;
    try {
      value = attributes[key];
    } catch {
      tally.unconvertible++;
      value = UNSERIALIZABLE;
    }
    if (value === undefined) continue;
    const json =
      leaveOut === 'exception' && needsTextForm(key, value) ? textFormJson(value, (v) => valueJson(v, tally)) : valueJson(value, tally);
    out = withMember(out, key, json);
  }
  return out;
}

/**
 * `$exception_list` and, unless an attribute sets it, `$exception_level`. A level set under another
 * name error tracking knows (`WARN`, `critical`) is sent as its own (`warning`, `fatal`), in the
 * same place; other values are sent as given.
 */
function withExceptionProperties(text: string, record: ReadableLogRecord, levelSet: boolean): string {
  const list = exceptionListOf(record);
  let out = withMember(text, EXCEPTION_LIST, JSON.stringify(list));
  if (!levelSet) return withMember(out, EXCEPTION_LEVEL, JSON.stringify(exceptionLevelFromSeverity(record.severityNumber)));
  const attribute = readAttribute(record.attributes, EXCEPTION_LEVEL);
  const given = attribute !== undefined ? attribute : readAttribute(record.resource.attributes, EXCEPTION_LEVEL);
  const level = exceptionLevelOf(given);
  if (level !== undefined && level !== given) out = dedupeMembers(withMember(out, EXCEPTION_LEVEL, JSON.stringify(level)));
  return out;
}

/**
 * The list from the exception attributes; without any, from the body: a stack printed there, else
 * the body as the message. Never empty.
 */
function exceptionListOf(record: ReadableLogRecord): PostHogException[] {
  const attributes = record.attributes;
  const handled = readAttribute(attributes, ATTR_EXCEPTION_ESCAPED) !== true;
  const given: ExceptionAttributes = {
    ...stringField(attributes, ATTR_EXCEPTION_TYPE, 'type'),
    ...stringField(attributes, ATTR_EXCEPTION_MESSAGE, 'message'),
    ...stringField(attributes, ATTR_EXCEPTION_STACKTRACE, 'stacktrace'),
  };
  const body = record.body;
  if (
    given.type !== undefined ||
    given.message !== undefined ||
    given.stacktrace !== undefined ||
    typeof body !== 'string' ||
    body.trim() === ''
  ) {
    return buildExceptionList(given, handled);
  }
  const fromStack = buildExceptionList({ stacktrace: body }, handled);
  const first = fromStack[0];
  // Not a stack: the body is the message.
  if (fromStack.length === 1 && first !== undefined && first.value === '' && first.stacktrace === undefined)
    return buildExceptionList({ message: body }, handled);
  return fromStack;
}

/** `text` with one more member, `"key":json`; unchanged when JSON has no value for it. */
function withMember(text: string, key: string, json: string | undefined): string {
  if (json === undefined) return text;
  return text === '' ? keyJson(key) + json : text + (commaKeyJson(key) + json);
}

/** A key written twice: JSON.parse keeps the first place and the last value, as assignment does. */
function dedupeMembers(text: string): string {
  return JSON.stringify(JSON.parse(`{${text}}`)).slice(1, -1);
}

const GEOIP_DISABLE = '$geoip_disable';
const NO_KEYS: readonly string[] = [];
const EXCEPTION_LIST = '$exception_list';
const EXCEPTION_LEVEL = '$exception_level';
/** Properties the mapping sets from the record itself, before the attributes. */
const MAPPED_KEYS: ReadonlySet<string> = new Set([
  '$trace_id',
  '$span_id',
  'severity_number',
  'severity_text',
  'body',
  'otel_scope_name',
  'otel_span_name',
]);

function isControlAttribute(key: string): boolean {
  return key.startsWith(POSTHOG_PREFIX) || STRIPPED_PROPERTIES.has(key);
}

/** Attributes that never become properties: PostHog's control attributes, those the event turns into its exception list, and those error tracking derives. */
function isLeftOut(key: string, leaveOut: LeaveOut): boolean {
  if (isControlAttribute(key)) return true;
  if (leaveOut === 'exception')
    return (
      key === ATTR_EXCEPTION_TYPE ||
      key === ATTR_EXCEPTION_MESSAGE ||
      key === ATTR_EXCEPTION_STACKTRACE ||
      key === EXCEPTION_LIST ||
      DERIVED_PROPERTIES.has(key)
    );
  return leaveOut === 'stack' && key === ATTR_EXCEPTION_STACKTRACE;
}

function readAttribute(attributes: Attributes, key: string): unknown {
  try {
    return attributes[key];
  } catch {
    return undefined;
  }
}

/** JSON text of an attribute value, made JSON-safe first when it is not a plain primitive; undefined when JSON has no value for it. */
function valueJson(value: unknown, tally?: ConversionTally): string | undefined {
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
  return JSON.stringify(toJsonSafe(value, undefined, tally)) as string | undefined;
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
function deterministicUuid(
  record: ReadableLogRecord,
  eventName: string,
  index: number,
  propertiesJson: string,
  distinctId: string,
): string {
  const sc = record.spanContext;
  const t = record.hrTime;
  const key = `${sc?.traceId ?? ''}|${sc?.spanId ?? ''}|${eventName}|${Array.isArray(t) ? `${t[0]}.${t[1]}` : ''}|${index}|${distinctId}|${propertiesJson}`;
  return uuidFromHash(createHash('sha256').update(key).digest());
}

const MAX_RFC3339_MILLIS = Date.UTC(10000, 0, 1);

let cachedSecond = Number.NaN;
let cachedSecondText = '';
let cachedMillis = Number.NaN;
let cachedMillisText = '';

/**
 * `new Date(ms).toISOString()`, reusing the previous call's text for the same millisecond, and its
 * date and time up to the second for the same second: records of one batch mostly fall in the same
 * second, often in the same millisecond, and formatting dominated mapping.
 */
export function isoTimestamp(millis: number): string {
  const whole = Math.floor(millis);
  if (whole === cachedMillis) return cachedMillisText;
  const second = Math.floor(whole / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedSecondText = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const ms = whole - second * 1000;
  cachedMillis = whole;
  cachedMillisText = `${cachedSecondText}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
  return cachedMillisText;
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

// The span context checked last: the records of one request or span come one after another.
let lastSpanContext: object | undefined;
let lastSpanContextValid = false;

/**
 * Trace and span ids that are lower-case hex and not all zeros, as OpenTelemetry defines valid.
 * Only the last context's answer is kept: a server makes a context per request, and a table of
 * them (a WeakMap) cost more, in inserts and in garbage collection, than checking the ids again.
 */
function hasValidIds(spanContext: NonNullable<ReadableLogRecord['spanContext']>): boolean {
  // Hand-built records may carry anything here.
  if (typeof spanContext !== 'object' || spanContext === null) return false;
  if (spanContext !== lastSpanContext) {
    lastSpanContextValid = isValidId(spanContext.traceId, 32) && isValidId(spanContext.spanId, 16);
    lastSpanContext = spanContext;
  }
  return lastSpanContextValid;
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
  const value = readAttribute(attributes, key);
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
    const id = idValue(readAttribute(attributes, key));
    if (id !== undefined) return id;
  }
  return undefined;
}

function firstString(attributes: Attributes, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = readAttribute(attributes, key);
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * A session (or window) id: PostHog's own attributes, then the request identity (posthog-js's
 * headers), then an application's `session.id` only when it is a UUIDv7, the form of posthog-js's
 * ids: PostHog's session analytics and replays read their time from it.
 */
function sessionOrWindowId(
  attributes: Attributes,
  ownKeys: readonly string[],
  fromIdentity: string | undefined,
  uuidv7Keys: readonly string[],
): string | undefined {
  const id = firstString(attributes, ownKeys) ?? (fromIdentity === '' ? undefined : fromIdentity) ?? firstUuidV7(attributes, uuidv7Keys);
  return id === undefined ? undefined : wellFormed(id);
}

function firstUuidV7(attributes: Attributes, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = readAttribute(attributes, key);
    if (isUuidV7(value)) return value.trim();
  }
  return undefined;
}

/** Whether a value is a UUIDv7 (surrounding spaces allowed), as posthog-js's session and window ids are. */
export function isUuidV7(value: unknown): value is string {
  return typeof value === 'string' && UUID_V7.test(value.trim());
}

/** Typed options from `posthog.*` attributes, coerced as the protocol's SDKs do; uncoercible values are left out. */
function eventOptions(attributes: Attributes): CaptureEventOptions {
  const options: CaptureEventOptions = {};
  for (const name of ['cookieless_mode', 'disable_skew_correction', 'process_person_profile'] as const) {
    const value = toBoolean(readAttribute(attributes, OPTION_KEYS[name]));
    if (value !== undefined) options[name] = value;
  }
  const tour = readAttribute(attributes, OPTION_KEYS.product_tour_id);
  if (typeof tour === 'string' && tour !== '') options.product_tour_id = wellFormed(tour);
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

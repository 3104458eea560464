// Unit tests of the record → events mapping on records made by the real OpenTelemetry SDK. A record
// is captured as the SDK hands it to processors; tests that need values the SDK refuses to store
// put them on the record afterwards, as a processor placed before ours can.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SeverityNumber } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { CaptureEvent } from '../../src/capture/types.ts';
import type { MappingSettings } from '../../src/config/sections.ts';
import { isoTimestamp, LINKED_EVENT_NAME, LINKED_EVENT_UUID, mapRecord, recordToEvent, type MappingOutcome, type RecordOrigin } from '../../src/mapping/record-to-event.ts';
import { UNSERIALIZABLE } from '../../src/mapping/json-safe.ts';
import { cymbalProblems } from '../support/cymbal-schema.ts';

const SETTINGS: MappingSettings = { disableGeoip: true, resourceAttributes: 'default', logEventName: 'log' };
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const TIME = new Date(NOW);
const V7_SESSION = '0190f3c4-aaaa-7bbb-8ccc-0123456789ab';

type Emitted = Parameters<ReturnType<LoggerProvider['getLogger']>['emit']>[0];

/** The record the SDK builds for `logRecord`, as our processor receives it. */
function recordOf(logRecord: Emitted): ReadableLogRecord {
  const captured: ReadableLogRecord[] = [];
  const capture: LogRecordProcessor = {
    onEmit: (record) => void captured.push(record as unknown as ReadableLogRecord),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  new LoggerProvider({ resource: resourceFromAttributes({}), processors: [capture] }).getLogger('app').emit({ timestamp: TIME, ...logRecord });
  assert.equal(captured.length, 1);
  return captured[0]!;
}

function mapped(outcome: MappingOutcome): CaptureEvent[] {
  assert.equal(outcome.kind, 'mapped', outcome.kind === 'invalid' ? outcome.reason : '');
  return (outcome as Extract<MappingOutcome, { kind: 'mapped' }>).events.map((event) => {
    // The text that goes on the wire is the event: its typed fields must agree with it.
    const parsed = JSON.parse(event.json) as CaptureEvent;
    for (const key of ['event', 'uuid', 'distinct_id', 'timestamp', 'session_id', 'window_id'] as const) assert.equal(event[key], parsed[key], key);
    return parsed;
  });
}

function map(logRecord: Emitted, origin?: RecordOrigin): CaptureEvent[] {
  return mapped(mapRecord(recordOf(logRecord), SETTINGS, NOW, origin));
}

function invalidReason(logRecord: Emitted): string {
  const outcome = mapRecord(recordOf(logRecord), SETTINGS, NOW);
  assert.equal(outcome.kind, 'invalid');
  return (outcome as Extract<MappingOutcome, { kind: 'invalid' }>).reason;
}

const STACK = 'TypeError: card declined\n    at charge (/srv/app/pay.js:3:9)\n    at checkout (/srv/app/shop.js:10:5)';

test('a named event with exception attributes keeps its name; a $exception linked to it goes to error tracking', () => {
  const events = map({
    eventName: 'checkout_failed',
    severityNumber: SeverityNumber.WARN,
    attributes: { 'user.id': 'u-1', 'posthog.session_id': 's-1', 'exception.type': 'TypeError', 'exception.message': 'card declined', 'exception.stacktrace': STACK, cart: 3 },
  });
  assert.deepEqual(
    events.map((e) => e.event),
    ['checkout_failed', '$exception'],
  );
  const [named, exception] = events as [CaptureEvent, CaptureEvent];
  assert.equal(named.properties['exception.type'], 'TypeError');
  assert.equal(named.properties['exception.message'], 'card declined');
  assert.equal(named.properties['exception.stacktrace'], undefined, 'the stack goes to the linked $exception only');
  assert.equal(named.properties.$exception_list, undefined);
  for (const key of ['distinct_id', 'timestamp', 'session_id'] as const) assert.equal(exception[key], named[key], key);
  assert.notEqual(exception.uuid, named.uuid);
  assert.equal(exception.properties[LINKED_EVENT_NAME], 'checkout_failed');
  assert.equal(exception.properties[LINKED_EVENT_UUID], named.uuid);
  assert.equal(exception.properties.cart, 3);
  assert.equal(exception.properties.$exception_level, 'warning');
  for (const key of ['exception.type', 'exception.message', 'exception.stacktrace']) assert.ok(!(key in exception.properties), key);
  assert.deepEqual(cymbalProblems(exception.properties), []);
  assert.equal((exception.properties.$exception_list as Array<{ value: string }>)[0]?.value, 'card declined');

  // Personless: both share the one fresh id, so they are still one (anonymous) actor.
  const [a, b] = map({ eventName: 'checkout_failed', attributes: { 'exception.message': 'x' } }) as [CaptureEvent, CaptureEvent];
  assert.equal(a.distinct_id, b.distinct_id);
  assert.deepEqual([a.options.process_person_profile, b.options.process_person_profile], [false, false]);

  // With posthog.uuid the named event keeps it; the linked one gets its own.
  const uuid = '0190f3c4-aaaa-7bbb-8ccc-0123456789ab';
  const [withUuid, linked] = map({ eventName: 'checkout_failed', attributes: { 'posthog.uuid': uuid, 'exception.message': 'x' } }) as [CaptureEvent, CaptureEvent];
  assert.equal(withUuid.uuid, uuid);
  assert.notEqual(linked.uuid, uuid);
  assert.equal(linked.properties[LINKED_EVENT_UUID], uuid);

  // Deterministic uuids: the two differ, and the same record maps to the same two again.
  const record = recordOf({ eventName: 'checkout_failed', attributes: { 'user.id': 'u', 'exception.message': 'x' } });
  const settings = { ...SETTINGS, deterministicUuids: true };
  const first = mapped(mapRecord(record, settings, NOW)).map((e) => e.uuid);
  assert.notEqual(first[0], first[1]);
  assert.deepEqual(mapped(mapRecord(record, settings, NOW)).map((e) => e.uuid), first);
});

test('a link property an attribute also sets is the link', () => {
  const [named, exception] = map({ eventName: 'e', attributes: { 'exception.message': 'x', [LINKED_EVENT_NAME]: 'mine', [LINKED_EVENT_UUID]: 'mine' } }) as [CaptureEvent, CaptureEvent];
  assert.equal(named.properties[LINKED_EVENT_NAME], 'mine');
  assert.equal(exception.properties[LINKED_EVENT_NAME], 'e');
  assert.equal(exception.properties[LINKED_EVENT_UUID], named.uuid);
});

test('exception attributes without a name, or named `exception` (span.recordException), make one $exception', () => {
  for (const eventName of [undefined, 'exception', '$exception']) {
    const events = map({ ...(eventName ? { eventName } : {}), attributes: { 'exception.type': 'E', 'exception.message': 'm' } });
    assert.deepEqual(
      events.map((e) => e.event),
      ['$exception'],
      String(eventName),
    );
    assert.deepEqual(cymbalProblems(events[0]!.properties), []);
  }
  // An `exception` event without exception attributes stays an ordinary event.
  assert.deepEqual(
    map({ eventName: 'exception', attributes: {} }).map((e) => e.event),
    ['exception'],
  );
});

test('$exception always has a non-empty $exception_list: from the attributes, the stack header or the body', () => {
  const list = (logRecord: Emitted) => map({ eventName: '$exception', ...logRecord })[0]!.properties.$exception_list as Array<{ type: string; value: string; stacktrace?: unknown }>;
  const cases: Array<[Emitted, string, string, boolean]> = [
    [{}, 'Error', '', false],
    [{ body: 'payment service unreachable' }, 'Error', 'payment service unreachable', false],
    [{ body: STACK }, 'TypeError', 'card declined', true],
    [{ body: 'RangeError: too many' }, 'RangeError', 'too many', false],
    [{ attributes: { 'exception.stacktrace': STACK } }, 'TypeError', 'card declined', true],
    [{ attributes: { 'exception.type': 'Only' }, body: 'ignored when attributes say' }, 'Only', '', false],
    [{ body: { structured: true } }, 'Error', '', false],
  ];
  for (const [logRecord, type, value, frames] of cases) {
    const entries = list(logRecord);
    const what = JSON.stringify(logRecord);
    assert.deepEqual(cymbalProblems({ $exception_list: entries }), [], what);
    assert.deepEqual([entries[0]?.type, entries[0]?.value, entries[0]?.stacktrace !== undefined], [type, value, frames], what);
  }
  // A $exception_list attribute is replaced: error tracking gets the one the mapping builds.
  const replaced = list({ attributes: { $exception_list: 'not a list', 'exception.message': 'real' } });
  assert.equal(replaced[0]?.value, 'real');
  assert.deepEqual(cymbalProblems({ $exception_list: list({ attributes: { $exception_list: [{ type: 5 }] } }) }), []);
});

test('$identify, $create_alias and $merge_dangerously without a distinct id are refused, never sent personless', () => {
  for (const event of ['$identify', '$create_alias', '$merge_dangerously']) {
    assert.match(invalidReason({ eventName: event, attributes: { alias: 'a' } }), new RegExp(`^\\${event} without a distinct id`));
    const [sent] = map({ eventName: event, attributes: { 'posthog.distinct_id': 'u-1', alias: 'a' } });
    assert.equal(sent?.distinct_id, 'u-1');
    assert.equal(sent?.options.process_person_profile, undefined);
    // Person processing turned off: PostHog would drop it too.
    assert.match(invalidReason({ eventName: event, attributes: { 'posthog.distinct_id': 'u-1', 'posthog.process_person_profile': false } }), /process_person_profile false/);
  }
  // The request identity and the resource's id count as ids.
  assert.equal(map({ eventName: '$identify' }, { identity: { distinctId: 'from-request' } })[0]?.distinct_id, 'from-request');
});

test('$groupidentify without a distinct id is sent as $<group_type>_<group_key>, as posthog-node does', () => {
  const [event] = map({ eventName: '$groupidentify', attributes: { $group_type: 'company', $group_key: 'acme', $group_set: { plan: 'pro' } } });
  assert.equal(event?.distinct_id, '$company_acme');
  assert.equal(event?.options.process_person_profile, undefined);
  assert.deepEqual([event?.properties.$group_type, event?.properties.$group_key, event?.properties.$group_set], ['company', 'acme', { plan: 'pro' }]);
  assert.equal(map({ eventName: '$groupidentify', attributes: { $group_type: 'team', $group_key: 42 } })[0]?.distinct_id, '$team_42');
  assert.equal(map({ eventName: '$groupidentify', attributes: { 'user.id': 'u-9', $group_type: 'team', $group_key: 'k' } })[0]?.distinct_id, 'u-9');
  assert.match(invalidReason({ eventName: '$groupidentify', attributes: { $group_type: 'company' } }), /needs \$group_type and \$group_key/);
});

test('sessions: PostHog attributes, then the request identity, then session.id only when it is a UUIDv7', () => {
  const sessionOf = (attributes: Emitted['attributes'], identity?: RecordOrigin['identity']) => map({ eventName: 'e', attributes }, identity ? { identity } : undefined)[0]!;
  const request = { sessionId: 'ph-request-session', windowId: 'ph-request-window' };
  // The request identity (posthog-js's headers) outranks OpenTelemetry's session.id, even a UUIDv7 one.
  assert.equal(sessionOf({ 'session.id': V7_SESSION }, request).session_id, 'ph-request-session');
  assert.equal(sessionOf({ 'window.id': V7_SESSION }, request).window_id, 'ph-request-window');
  // PostHog's own attributes outrank the request.
  assert.equal(sessionOf({ 'posthog.session_id': 'explicit' }, request).session_id, 'explicit');
  assert.equal(sessionOf({ $session_id: 'legacy' }, request).session_id, 'legacy');
  // Without a request: a UUIDv7 session.id is used, anything else stays a property only.
  assert.equal(sessionOf({ 'session.id': V7_SESSION }).session_id, V7_SESSION);
  const express = sessionOf({ 'session.id': 's%3Aabc.def' });
  assert.equal(express.session_id, undefined);
  assert.equal(express.properties['session.id'], 's%3Aabc.def');
  assert.equal(sessionOf({ 'session.id': '3b241101-e2bb-4255-8caf-4136c566a962' }).session_id, undefined, 'a UUIDv4 is no PostHog session');
});

test('a value that cannot be converted is sent as "[unserializable]" and counted; the rest of the record goes on', () => {
  const record = recordOf({ eventName: 'e', attributes: { ok: 1, text: 'kept' } });
  const attributes = record.attributes as Record<string, unknown>;
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const ownToJSON = Object.assign([1, 2], {
    toJSON() {
      throw new Error('no');
    },
  });
  attributes.revoked = proxy;
  attributes.nested = { inner: proxy, fine: true };
  attributes.array = ownToJSON;
  attributes.big = Object.assign([3], { toJSON: () => 10n });
  Object.defineProperty(attributes, 'getter', {
    enumerable: true,
    configurable: true,
    get() {
      throw new Error('getter');
    },
  });
  attributes.objectToJSON = {
    toJSON() {
      throw new Error('no');
    },
  };
  const outcome = mapRecord(record, SETTINGS, NOW);
  const [event] = mapped(outcome);
  assert.deepEqual(event?.properties, {
    otel_scope_name: 'app',
    ok: 1,
    text: 'kept',
    revoked: UNSERIALIZABLE,
    nested: { inner: UNSERIALIZABLE, fine: true },
    array: UNSERIALIZABLE,
    big: '10',
    getter: UNSERIALIZABLE,
    objectToJSON: UNSERIALIZABLE,
    $geoip_disable: true,
  });
  assert.equal((outcome as Extract<MappingOutcome, { kind: 'mapped' }>).unconvertible, 5);
  // An array with a toJSON of its own that works is converted through it, as JSON.stringify does.
  (attributes as Record<string, unknown>).array = Object.assign([1, 2], { toJSON: () => 'two items' });
  attributes.revoked = 'fine now';
  delete attributes.getter;
  delete attributes.nested;
  delete attributes.objectToJSON;
  const again = mapRecord(record, SETTINGS, NOW);
  assert.equal(mapped(again)[0]?.properties.array, 'two items');
  assert.equal((again as Extract<MappingOutcome, { kind: 'mapped' }>).unconvertible, 0);
});

test('lone surrogates: typed fields and property strings go out well-formed; escaped backslashes stay as they are', () => {
  const lone = 'cut \ud83d';
  const [event] = map({
    eventName: `checkout ${lone}`,
    body: `body ${lone}`,
    attributes: {
      'posthog.distinct_id': `user ${lone}`,
      'posthog.session_id': `session ${lone}`,
      'posthog.window_id': `window \udc00 low`,
      'posthog.product_tour_id': `tour ${lone}`,
      [`key ${lone}`]: `value ${lone}`,
      list: [`item ${lone}`],
      nested: { deep: `\ude00 lone low` },
      backslash: 'a literal \\ud800 stays',
      pair: 'an emoji 🎉 stays',
    },
  });
  const fixed = 'cut \ufffd';
  assert.equal(event?.event, `checkout ${fixed}`);
  assert.equal(event?.distinct_id, `user ${fixed}`);
  assert.equal(event?.session_id, `session ${fixed}`);
  assert.equal(event?.window_id, 'window \ufffd low');
  assert.equal(event?.options.product_tour_id, `tour ${fixed}`);
  assert.equal(event?.properties.body, `body ${fixed}`);
  assert.equal(event?.properties[`key ${fixed}`], `value ${fixed}`);
  assert.deepEqual(event?.properties.list, [`item ${fixed}`]);
  assert.deepEqual(event?.properties.nested, { deep: '\ufffd lone low' });
  assert.equal(event?.properties.backslash, 'a literal \\ud800 stays');
  assert.equal(event?.properties.pair, 'an emoji 🎉 stays');
});

test('recordToEvent gives the first event, and throws for a record PostHog would discard', () => {
  assert.equal(recordToEvent(recordOf({ eventName: 'e', attributes: { 'exception.message': 'x' } }), SETTINGS, NOW).event, 'e');
  assert.throws(() => recordToEvent(recordOf({ eventName: '$identify' }), SETTINGS, NOW), /without a distinct id/);
  // The record's context plays no part in the mapping (identity comes through the origin).
  assert.equal(recordToEvent(recordOf({ eventName: 'e', context: ROOT_CONTEXT }), SETTINGS, NOW).timestamp, isoTimestamp(NOW));
});

test('isoTimestamp matches Date#toISOString, fractional milliseconds and second boundaries included', () => {
  const cases = [1, 999, 1000, 1000.999, 86_399_999.5, Date.UTC(2026, 10, 22, 23, 59, 59, 999), Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
  // Consecutive values in one second exercise the reused prefix; random ones the recomputation.
  for (let i = 0; i < 2000; i++) cases.push(Date.UTC(2026, 0, 1) + i * 7.3);
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 48271) % 2147483647;
    cases.push((seed / 2147483647) * 2.5e12);
  }
  for (const ms of cases) assert.equal(isoTimestamp(ms), new Date(ms).toISOString(), String(ms));
});

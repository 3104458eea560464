// Unit tests of the record → events mapping on records made by the real OpenTelemetry SDK. A record
// is captured as the SDK hands it to processors; tests that need values the SDK refuses to store
// put them on the record afterwards, as a processor placed before ours can.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SeverityNumber } from '@opentelemetry/api';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { CaptureEvent } from '../../src/capture/types.ts';
import type { MappingSettings } from '../../src/config/sections.ts';
import {
  isoTimestamp,
  LINKED_EVENT_NAME,
  LINKED_EVENT_UUID,
  mapRecord,
  recordToEvent,
  type MappingOutcome,
  type RecordOrigin,
} from '../../src/mapping/record-to-event.ts';
import { UNSERIALIZABLE } from '../../src/mapping/json-safe.ts';
import { cymbalProblems } from '../support/cymbal-schema.ts';
import { mappedEvents, recordOf as sdkRecordOf, type Emitted } from '../support/log-records.ts';

const SETTINGS: MappingSettings = { disableGeoip: true, resourceAttributes: 'default', logEventName: 'log' };
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const TIME = new Date(NOW);
const V7_SESSION = '0190f3c4-aaaa-7bbb-8ccc-0123456789ab';

/** The record the SDK builds for `logRecord`, as our processor receives it. */
function recordOf(logRecord: Emitted): ReadableLogRecord {
  return sdkRecordOf({ timestamp: TIME, ...logRecord });
}

function map(logRecord: Emitted, origin?: RecordOrigin): CaptureEvent[] {
  return mappedEvents(mapRecord(recordOf(logRecord), SETTINGS, NOW, origin));
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
    attributes: {
      'user.id': 'u-1',
      'posthog.session_id': 's-1',
      'exception.type': 'TypeError',
      'exception.message': 'card declined',
      'exception.stacktrace': STACK,
      cart: 3,
    },
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
  const [withUuid, linked] = map({ eventName: 'checkout_failed', attributes: { 'posthog.uuid': uuid, 'exception.message': 'x' } }) as [
    CaptureEvent,
    CaptureEvent,
  ];
  assert.equal(withUuid.uuid, uuid);
  assert.notEqual(linked.uuid, uuid);
  assert.equal(linked.properties[LINKED_EVENT_UUID], uuid);

  // Deterministic uuids: the two differ, and the same record maps to the same two again.
  const record = recordOf({ eventName: 'checkout_failed', attributes: { 'user.id': 'u', 'exception.message': 'x' } });
  const settings = { ...SETTINGS, deterministicUuids: true };
  const first = mappedEvents(mapRecord(record, settings, NOW)).map((e) => e.uuid);
  assert.notEqual(first[0], first[1]);
  assert.deepEqual(
    mappedEvents(mapRecord(record, settings, NOW)).map((e) => e.uuid),
    first,
  );
});

test('a named event with a posthog.uuid: its linked $exception gets a uuid derived from it, the same on every export', () => {
  const logRecord: Emitted = {
    eventName: 'checkout_failed',
    attributes: { 'posthog.uuid': '0190F3C4-AAAA-7BBB-8CCC-0123456789AB', 'exception.message': 'declined' },
  };
  const [named, exception] = map(logRecord);
  assert.equal(named?.uuid, '0190f3c4-aaaa-7bbb-8ccc-0123456789ab');
  assert.equal(exception?.properties[LINKED_EVENT_UUID], named?.uuid);
  assert.notEqual(exception?.uuid, named?.uuid);
  // Exported again (a second processor, a replay): PostHog dedupes both events.
  assert.deepEqual(
    map(logRecord).map((e) => e.uuid),
    [named?.uuid, exception?.uuid],
  );
  // Another given uuid, another exception uuid.
  assert.notEqual(
    map({ ...logRecord, attributes: { ...logRecord.attributes, 'posthog.uuid': '0190f3c4-aaaa-7bbb-8ccc-0123456789ac' } })[1]?.uuid,
    exception?.uuid,
  );
});

test('a link property an attribute also sets is the link', () => {
  const [named, exception] = map({
    eventName: 'e',
    attributes: { 'exception.message': 'x', [LINKED_EVENT_NAME]: 'mine', [LINKED_EVENT_UUID]: 'mine' },
  }) as [CaptureEvent, CaptureEvent];
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
  const list = (logRecord: Emitted) =>
    map({ eventName: '$exception', ...logRecord })[0]!.properties.$exception_list as Array<{
      type: string;
      value: string;
      stacktrace?: unknown;
    }>;
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

test('a $exception with a 3 MB message stays small enough to send: its value is cut as error tracking cuts it', () => {
  const outcome = mapRecord(
    recordOf({ attributes: { 'exception.type': 'Error', 'exception.message': 'm'.repeat(3_000_000), 'exception.stacktrace': STACK } }),
    SETTINGS,
    NOW,
  );
  const [event] = mappedEvents(outcome);
  assert.equal(event?.event, '$exception');
  assert.ok((outcome as Extract<MappingOutcome, { kind: 'mapped' }>).events[0]!.json.length < 20_000);
  assert.equal((event?.properties.$exception_list as Array<{ value: string }>)[0]?.value.length, 10_000);
  assert.deepEqual(cymbalProblems(event!.properties), []);
});

test('error-tracking properties set by attributes have the types error tracking reads; a $exception never fails on them', () => {
  const attributes = {
    'exception.message': 'boom',
    $exception_fingerprint: 42,
    $issue_name: ['checkout', 'card'],
    $issue_description: true,
    $exception_handled: 'false',
    $debug_images: 'none',
    kept: 1,
  };
  const exceptionOf = (events: CaptureEvent[]): CaptureEvent => events.find((e) => e.event === '$exception')!;
  /** The record, with a value the SDK would not store put on it: properties are then written one by one. */
  const withOddValue = (eventName: string): ReadableLogRecord => {
    const record = recordOf({ eventName, attributes });
    (record.attributes as Record<string, unknown>).odd = new Map([[1, 2]]);
    return record;
  };
  const cases: Array<[string, ReadableLogRecord]> = [
    ['exception record', recordOf({ eventName: '$exception', attributes })],
    ['linked', recordOf({ eventName: 'checkout_failed', attributes })],
    ['exception record, one by one', withOddValue('$exception')],
    ['linked, one by one', withOddValue('checkout_failed')],
  ];
  for (const [what, record] of cases) {
    const exception = exceptionOf(mappedEvents(mapRecord(record, SETTINGS, NOW)));
    assert.deepEqual(cymbalProblems(exception.properties), [], what);
    assert.equal(exception.properties.$exception_fingerprint, '42', what);
    assert.equal(exception.properties.$issue_name, '["checkout","card"]', what);
    assert.equal(exception.properties.$issue_description, 'true', what);
    // PostHog's own: posthog-node leaves them out of what the caller adds, error tracking derives them.
    assert.ok(!('$exception_handled' in exception.properties), what);
    assert.ok(!('$debug_images' in exception.properties), what);
    assert.equal(exception.properties.kept, 1, what);
  }
  // A named event is no $exception: its properties go as set.
  const named = map({ eventName: 'checkout_failed', attributes }).find((e) => e.event === 'checkout_failed')!;
  assert.equal(named.properties.$exception_fingerprint, 42);
  assert.equal(named.properties.$exception_handled, 'false');
  // Values already of the right type are kept as they are.
  const sound = exceptionOf(map({ eventName: '$exception', attributes: { $exception_fingerprint: 'fp-1', $issue_name: 'Checkout' } }));
  assert.deepEqual([sound.properties.$exception_fingerprint, sound.properties.$issue_name], ['fp-1', 'Checkout']);
  // A value that converts to a string is that string, not its quoted JSON.
  const dated = recordOf({ eventName: '$exception' });
  (dated.attributes as Record<string, unknown>).$issue_name = new Date(0);
  assert.equal(exceptionOf(mappedEvents(mapRecord(dated, SETTINGS, NOW))).properties.$issue_name, '1970-01-01T00:00:00.000Z');
});

test('$identify, $create_alias and $merge_dangerously without a distinct id are refused, never sent personless', () => {
  for (const event of ['$identify', '$create_alias', '$merge_dangerously']) {
    assert.match(invalidReason({ eventName: event, attributes: { alias: 'a' } }), new RegExp(`^\\${event} without a distinct id`));
    const [sent] = map({ eventName: event, attributes: { 'posthog.distinct_id': 'u-1', alias: 'a' } });
    assert.equal(sent?.distinct_id, 'u-1');
    assert.equal(sent?.options.process_person_profile, undefined);
    // Person processing turned off: PostHog would drop it too.
    assert.match(
      invalidReason({ eventName: event, attributes: { 'posthog.distinct_id': 'u-1', 'posthog.process_person_profile': false } }),
      /process_person_profile false/,
    );
  }
  // The request identity and the resource's id count as ids.
  assert.equal(map({ eventName: '$identify' }, { identity: { distinctId: 'from-request' } })[0]?.distinct_id, 'from-request');
});

test('person and group events with a distinct id capture treats as a placeholder are refused: ingestion would discard them', () => {
  // Capture turns person processing off for these ids (trimmed, in any case), and ingestion then drops person events.
  for (const id of [
    'null',
    ' Undefined ',
    'anonymous',
    '0',
    '[object Object]',
    '00000000-0000-0000-0000-000000000000',
    'NaN',
    'guest',
    'distinct_id',
    'email',
  ]) {
    for (const event of ['$identify', '$create_alias', '$merge_dangerously']) {
      const reason = invalidReason({ eventName: event, attributes: { 'posthog.distinct_id': id } });
      assert.match(reason, /is a placeholder id PostHog does not process persons for/, `${event} ${id}`);
    }
    // A $groupidentify is about its group: it takes the group's own id, or is refused without one.
    assert.equal(
      map({ eventName: '$groupidentify', attributes: { 'posthog.distinct_id': id, $group_type: 'company', $group_key: 'acme' } })[0]
        ?.distinct_id,
      '$company_acme',
    );
    assert.match(invalidReason({ eventName: '$groupidentify', attributes: { 'posthog.distinct_id': id } }), /placeholder/);
    // Other events go: capture accepts them, with person processing off.
    assert.equal(map({ eventName: 'signed_up', attributes: { 'posthog.distinct_id': id } })[0]?.distinct_id, id);
  }
  // A number 0 is the id "0" too.
  assert.match(invalidReason({ eventName: '$identify', attributes: { 'user.id': 0 } }), /placeholder/);
  // Ids that only look alike are fine.
  for (const id of ['null-user', 'user-0', 'anonymous1'])
    assert.equal(map({ eventName: '$identify', attributes: { 'posthog.distinct_id': id } })[0]?.distinct_id, id);
});

test('$groupidentify without a distinct id is sent as $<group_type>_<group_key>, as posthog-node does', () => {
  const [event] = map({
    eventName: '$groupidentify',
    attributes: { $group_type: 'company', $group_key: 'acme', $group_set: { plan: 'pro' } },
  });
  assert.equal(event?.distinct_id, '$company_acme');
  assert.equal(event?.options.process_person_profile, undefined);
  assert.deepEqual(
    [event?.properties.$group_type, event?.properties.$group_key, event?.properties.$group_set],
    ['company', 'acme', { plan: 'pro' }],
  );
  assert.equal(map({ eventName: '$groupidentify', attributes: { $group_type: 'team', $group_key: 42 } })[0]?.distinct_id, '$team_42');
  assert.equal(
    map({ eventName: '$groupidentify', attributes: { 'user.id': 'u-9', $group_type: 'team', $group_key: 'k' } })[0]?.distinct_id,
    'u-9',
  );
  assert.match(
    invalidReason({ eventName: '$groupidentify', attributes: { $group_type: 'company' } }),
    /needs \$group_type and \$group_key/,
  );
});

test('sessions: PostHog attributes, then the request identity, then session.id only when it is a UUIDv7', () => {
  const sessionOf = (attributes: Emitted['attributes'], identity?: RecordOrigin['identity']) =>
    map({ eventName: 'e', attributes }, identity ? { identity } : undefined)[0]!;
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
  const [event] = mappedEvents(outcome);
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
  assert.equal(mappedEvents(again)[0]?.properties.array, 'two items');
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

test('generated strings with lone surrogates, wherever a typed field can come from: every typed field goes out well-formed', () => {
  let seed = 7;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const pieces = ['a', 'é', '💥', '\ud83d', '\udca5', '\ud800\ud800', '\\ud800', ' ', '$', '_', '"', '\u0000'];
  const text = (): string => Array.from({ length: 1 + Math.floor(next() * 8) }, () => pieces[Math.floor(next() * pieces.length)]).join('');
  const wellFormed = (value: unknown): boolean =>
    typeof value !== 'string' || (value as unknown as { isWellFormed(): boolean }).isWellFormed();
  for (let i = 0; i < 300; i++) {
    const idKey = ['posthog.distinct_id', 'posthogDistinctId', 'user.id', 'enduser.id'][i % 4]!;
    const cases: Array<[string, Emitted, RecordOrigin | undefined]> = [
      [
        'attributes',
        {
          eventName: text(),
          attributes: {
            [idKey]: text(),
            'posthog.session_id': text(),
            'posthog.window_id': text(),
            'posthog.product_tour_id': text(),
            'exception.message': text(),
          },
        },
        undefined,
      ],
      ['request identity', { eventName: text() }, { identity: { distinctId: text(), sessionId: text(), windowId: text() } }],
      ['group', { eventName: '$groupidentify', attributes: { $group_type: text(), $group_key: text() } }, undefined],
    ];
    for (const [what, logRecord, origin] of cases) {
      const outcome = mapRecord(recordOf(logRecord), SETTINGS, NOW, origin);
      if (outcome.kind === 'invalid') continue;
      for (const event of outcome.events) {
        const sent = JSON.parse(event.json) as CaptureEvent;
        for (const field of ['event', 'distinct_id', 'session_id', 'window_id'] as const)
          assert.ok(wellFormed(sent[field]), `${what}: ${field} ${JSON.stringify(sent[field])}`);
        assert.ok(wellFormed(sent.options.product_tour_id), what);
        assert.ok(!/\\ud[89a-f][0-9a-f]{2}/i.test(event.json.replace(/\\\\/g, '')), `${what}: no lone surrogate escape in ${event.json}`);
        if (sent.event === '$exception') assert.deepEqual(cymbalProblems(sent.properties), [], what);
      }
    }
  }
});

test('attributes whose keys cannot be listed: control attributes are still read, one by one', () => {
  const base = recordOf({ eventName: 'checkout' });
  const values: Record<string, unknown> = {
    'user.id': 'u-1',
    'posthog.uuid': '0190F3C4-AAAA-7BBB-8CCC-0123456789AB',
    'posthog.session_id': 's-1',
    'posthog.process_person_profile': false,
  };
  const attributes = new Proxy(
    {},
    {
      get: (_target, key) => (typeof key === 'string' ? values[key] : undefined),
      ownKeys: () => {
        throw new Error('keys withheld');
      },
    },
  );
  const record = {
    hrTime: base.hrTime,
    hrTimeObserved: base.hrTimeObserved,
    resource: base.resource,
    instrumentationScope: base.instrumentationScope,
    eventName: 'checkout',
    droppedAttributesCount: 0,
    attributes,
  } as unknown as ReadableLogRecord;
  const [event] = mappedEvents(mapRecord(record, SETTINGS, NOW));
  assert.equal(event?.event, 'checkout');
  assert.equal(event?.distinct_id, 'u-1');
  assert.equal(event?.uuid, '0190f3c4-aaaa-7bbb-8ccc-0123456789ab');
  assert.equal(event?.session_id, 's-1');
  assert.equal(event?.options.process_person_profile, false);
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
  // Repeats and fractions of one millisecond exercise the reused text, then a step back in time.
  for (let i = 0; i < 20; i++) cases.push(Date.UTC(2026, 0, 1) + 5 + i * 0.05, Date.UTC(2026, 0, 1) + 5 + Math.floor(i / 4));
  cases.push(Date.UTC(2026, 0, 1) + 4.9, Date.UTC(2025, 11, 31, 23, 59, 59, 999));
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 48271) % 2147483647;
    cases.push((seed / 2147483647) * 2.5e12);
  }
  for (const ms of cases) assert.equal(isoTimestamp(ms), new Date(ms).toISOString(), String(ms));
});

test('uuidDrawn says which uuids were drawn at random: not a given one, nor one derived from it or from the record', () => {
  const drawnOf = (logRecord: Emitted, settings: MappingSettings = SETTINGS): boolean[] => {
    const outcome = mapRecord(recordOf(logRecord), settings, NOW);
    assert.equal(outcome.kind, 'mapped');
    return (outcome as Extract<MappingOutcome, { kind: 'mapped' }>).events.map((event) => event.uuidDrawn);
  };
  const named = { eventName: 'checkout_failed', attributes: { 'exception.message': 'x' } };
  assert.deepEqual(drawnOf({ eventName: 'checkout_completed' }), [true]);
  assert.deepEqual(drawnOf(named), [true, true]);
  assert.deepEqual(drawnOf({ ...named, attributes: { ...named.attributes, 'posthog.uuid': '0190f3c4-aaaa-7bbb-8ccc-0123456789ab' } }), [
    false,
    false,
  ]);
  // Not a uuid: one is drawn in its place.
  assert.deepEqual(drawnOf({ eventName: 'checkout_completed', attributes: { 'posthog.uuid': 'not-a-uuid' } }), [true]);
  assert.deepEqual(drawnOf(named, { ...SETTINGS, deterministicUuids: true }), [false, false]);
});

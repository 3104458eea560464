// Unit tests of who and which session an event belongs to: the distinct id and its precedence,
// personless events, session_id and window_id, and the posthog.* options.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { RecordSource } from '../support/log-records.ts';

const TIME = new Date('2025-01-02T03:04:05.678Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('distinct_id', () => {
  test('precedence: posthog.distinct_id > posthogDistinctId > user.id > enduser.id > resource posthog.distinct_id', () => {
    const resource = resourceFromAttributes({ 'posthog.distinct_id': 'from-resource' });
    const source = new RecordSource({ resource });
    const log = source.logger('app');
    const all: Attributes = { 'posthog.distinct_id': 'ph', posthogDistinctId: 'camel', 'user.id': 'user', 'enduser.id': 'enduser' };
    const chain = ['posthog.distinct_id', 'posthogDistinctId', 'user.id', 'enduser.id'];
    chain.forEach((_, i) => {
      const attributes: Attributes = { case: i };
      for (const key of chain.slice(i)) attributes[key] = all[key];
      log.emit({ eventName: 'e', timestamp: TIME, attributes });
    });
    log.emit({ eventName: 'e', timestamp: TIME, attributes: { case: 4 } });
    log.emit({ eventName: 'e', timestamp: TIME, attributes: { case: 5, 'posthog.distinct_id': '   ', 'user.id': 'after-blank' } });
    const events = source.events();
    assert.deepEqual(
      events.map((e) => [e.properties.case, e.distinct_id, e.options]),
      [
        [0, 'ph', {}],
        [1, 'camel', {}],
        [2, 'user', {}],
        [3, 'enduser', {}],
        [4, 'from-resource', {}],
        [5, 'after-blank', {}],
      ],
    );
    for (const event of events) assert.ok(!('posthog.distinct_id' in event.properties));
  });

  test('number ids become strings', () => {
    const source = new RecordSource();
    source.logger('app').emit({ eventName: 'a', timestamp: TIME, attributes: { 'user.id': 42 } });
    source.logger('app').emit({ eventName: 'b', timestamp: TIME, attributes: { 'posthog.distinct_id': 0 } });
    const events = source.events();
    assert.deepEqual(
      events.map((e) => [e.event, e.distinct_id, e.options]),
      [
        ['a', '42', {}],
        ['b', '0', {}],
      ],
    );
  });

  test('without an id: a fresh UUID per event and process_person_profile false, unless set explicitly', () => {
    const source = new RecordSource();
    const log = source.logger('app');
    log.emit({ eventName: 'anon1', timestamp: TIME });
    log.emit({ eventName: 'anon2', timestamp: TIME });
    log.emit({ eventName: 'explicit_true', timestamp: TIME, attributes: { 'posthog.process_person_profile': 'true' } });
    log.emit({ eventName: 'explicit_false', timestamp: TIME, attributes: { 'posthog.process_person_profile': false } });
    const events = source.events();
    const [a, b] = events;
    for (const event of events) {
      assert.match(event.distinct_id, UUID);
      assert.notEqual(event.distinct_id, event.uuid);
    }
    assert.notEqual(a!.distinct_id, b!.distinct_id);
    assert.equal(new Set(events.map((e) => e.distinct_id)).size, 4);
    assert.deepEqual(
      events.map((e) => [e.event, e.options]),
      [
        ['anon1', { process_person_profile: false }],
        ['anon2', { process_person_profile: false }],
        ['explicit_true', { process_person_profile: true }],
        ['explicit_false', { process_person_profile: false }],
      ],
    );
  });
});

describe('session_id and window_id', () => {
  test('session_id: posthog.session_id > $session_id > session.id / sessionId when UUIDv7; window_id likewise; strings only', () => {
    const V7_SESSION = '0190f3c4-aaaa-7bbb-8ccc-0123456789ab';
    const V7_WINDOW = '0190f3c4-bbbb-7ccc-9ddd-0123456789ab';
    const V4 = '3b241101-e2bb-4255-8caf-4136c566a962';
    const source = new RecordSource();
    const log = source.logger('app');
    const emit = (n: number, attributes: Attributes) =>
      log.emit({ eventName: 'e', timestamp: TIME, attributes: { 'user.id': 'u', n, ...attributes } });
    emit(0, {
      'posthog.session_id': 's-ph',
      sessionId: V7_SESSION,
      'session.id': V7_SESSION,
      'posthog.window_id': 'w-ph',
      'window.id': V7_WINDOW,
    });
    emit(1, { sessionId: V7_SESSION, 'session.id': 'express-session-1', 'window.id': V7_WINDOW });
    emit(2, { 'session.id': V7_SESSION });
    emit(3, { 'posthog.session_id': 12345, 'posthog.window_id': 7 });
    emit(4, { 'posthog.session_id': 12345, 'session.id': V7_SESSION });
    emit(5, {});
    emit(6, { 'session.id': 'express-session-1', sessionId: V4, 'window.id': 'w-app' });
    const events = source.events();
    const ids = events.map((e) => ({
      n: e.properties.n,
      ...('session_id' in e ? { session_id: e.session_id } : {}),
      ...('window_id' in e ? { window_id: e.window_id } : {}),
    }));
    assert.deepEqual(ids, [
      { n: 0, session_id: 's-ph', window_id: 'w-ph' },
      { n: 1, session_id: V7_SESSION, window_id: V7_WINDOW },
      { n: 2, session_id: V7_SESSION },
      { n: 3 },
      { n: 4, session_id: V7_SESSION },
      { n: 5 },
      { n: 6 },
    ]);
    // An application's own session id is no PostHog session: it stays a property.
    assert.equal(events[6]!.properties['session.id'], 'express-session-1');
    // On the wire (the events are parsed from the JSON that is sent) the keys are absent, never null.
    assert.ok(!('session_id' in events[3]!) && !('window_id' in events[3]!) && !('session_id' in events[5]!));
    for (const event of events) {
      assert.ok(!('posthog.session_id' in event.properties) && !('posthog.window_id' in event.properties));
    }
  });

  test('a $session_id / $window_id attribute is lifted to the root and not kept in properties', () => {
    const source = new RecordSource();
    source
      .logger('app')
      .emit({ eventName: 'e', timestamp: TIME, attributes: { 'user.id': 'u', $session_id: 'legacy-s', $window_id: 'legacy-w' } });
    const [event] = source.events();
    assert.equal(event!.session_id, 'legacy-s');
    assert.equal(event!.window_id, 'legacy-w');
    assert.ok(!('$session_id' in event!.properties) && !('$window_id' in event!.properties));
  });
});

describe('options', () => {
  test('posthog.* option attributes are coerced; unset and uncoercible ones are omitted', () => {
    const source = new RecordSource();
    const log = source.logger('app');
    const emit = (n: number, attributes: Attributes) =>
      log.emit({ eventName: 'e', timestamp: TIME, attributes: { 'user.id': 'u', n, ...attributes } });
    emit(0, {});
    emit(1, {
      'posthog.cookieless_mode': true,
      'posthog.disable_skew_correction': false,
      'posthog.process_person_profile': true,
      'posthog.product_tour_id': 'tour-1',
    });
    emit(2, { 'posthog.cookieless_mode': ' TRUE ', 'posthog.disable_skew_correction': 'False', 'posthog.process_person_profile': '1' });
    emit(3, { 'posthog.cookieless_mode': '0', 'posthog.disable_skew_correction': 2, 'posthog.process_person_profile': 0 });
    emit(4, {
      'posthog.cookieless_mode': 'yes',
      'posthog.disable_skew_correction': '',
      'posthog.process_person_profile': [true],
      'posthog.product_tour_id': 42,
    });
    emit(5, { 'posthog.cookieless_mode': NaN, 'posthog.disable_skew_correction': -1, 'posthog.product_tour_id': '' });
    const events = source.events();
    assert.deepEqual(
      events.map((e) => [e.properties.n, e.options]),
      [
        [0, {}],
        [1, { cookieless_mode: true, disable_skew_correction: false, process_person_profile: true, product_tour_id: 'tour-1' }],
        [2, { cookieless_mode: true, disable_skew_correction: false, process_person_profile: true }],
        [3, { cookieless_mode: false, disable_skew_correction: true, process_person_profile: false }],
        [4, {}],
        [5, { disable_skew_correction: true }],
      ],
    );
    for (const event of events) {
      assert.deepEqual(
        Object.keys(event.properties).filter((k) => k.startsWith('posthog.')),
        [],
      );
    }
  });
});

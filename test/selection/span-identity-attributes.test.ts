import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spanIdentityAttributes, withSpanIdentity } from '../../src/selection/span-identity-attributes.ts';

const SESSION = '0190a8c5-5b3c-7d2e-8f00-0123456789ab';
const WINDOW = '0190a8c5-5b3c-7d2e-9f00-0123456789ac';

describe('spanIdentityAttributes', () => {
  test('picks the distinct id, session and window keys the mapping reads, and nothing else', () => {
    const attributes = {
      'http.route': '/pay',
      'enduser.id': 'end',
      'user.id': 7,
      'posthog.distinct_id': 'ph',
      'session.id': SESSION,
      'posthog.window_id': 'w',
      'posthog.event': 'renamed',
    };
    assert.deepEqual(spanIdentityAttributes(attributes), {
      'posthog.distinct_id': 'ph',
      'user.id': 7,
      'enduser.id': 'end',
      'session.id': SESSION,
      'posthog.window_id': 'w',
    });
  });

  test('is undefined for a span with no usable identity', () => {
    assert.equal(spanIdentityAttributes(undefined), undefined);
    assert.equal(spanIdentityAttributes({}), undefined);
    assert.equal(
      spanIdentityAttributes({ 'user.id': ' ', 'enduser.id': 1.5, 'session.id': 3, 'window.id': '', 'http.route': '/' }),
      undefined,
    );
    assert.equal(spanIdentityAttributes({ 'session.id': 'express-session', sessionId: 'rum-1', 'window.id': 'tab-2' }), undefined);
  });
});

describe('withSpanIdentity', () => {
  const span = { 'posthog.distinct_id': 'span-user', 'session.id': SESSION, 'window.id': WINDOW };

  test("adds every kind the event lacks, keeping the event's own attributes", () => {
    assert.deepEqual(withSpanIdentity({ amount: 3 }, span), { amount: 3, ...span });
  });

  test('a kind the event carries under any key is left to the event', () => {
    assert.deepEqual(withSpanIdentity({ 'enduser.id': 'event-user' }, span), {
      'enduser.id': 'event-user',
      'session.id': SESSION,
      'window.id': WINDOW,
    });
    assert.deepEqual(withSpanIdentity({ $session_id: 'event-session', 'user.id': 9 }, span), {
      $session_id: 'event-session',
      'user.id': 9,
      'window.id': WINDOW,
    });
  });

  test('an unusable event value does not count as an identity', () => {
    assert.equal(withSpanIdentity({ 'user.id': '' }, span)['posthog.distinct_id'], 'span-user');
    assert.equal(withSpanIdentity({ sessionId: 5 }, span)['session.id'], SESSION);
    assert.equal(withSpanIdentity({ 'session.id': 'express-session' }, span)['window.id'], WINDOW);
  });

  test("an event value under the same key is kept as the event's property, even when it is no identity", () => {
    const merged = withSpanIdentity({ 'session.id': 'express-session' }, { 'posthog.session_id': 'span-session', 'session.id': SESSION });
    assert.deepEqual(merged, { 'session.id': 'express-session', 'posthog.session_id': 'span-session' });
  });

  test("returns the event's object, uncopied, when it already carries every kind", () => {
    const event = { 'user.id': 'u', 'posthog.session_id': 's', $window_id: 'w' };
    assert.equal(withSpanIdentity(event, span), event);
  });

  test("never changes the event's object", () => {
    const event = Object.freeze({ name: 'x' });
    const merged = withSpanIdentity(event, span);
    assert.notEqual(merged, event);
    assert.deepEqual(event, { name: 'x' });
  });
});

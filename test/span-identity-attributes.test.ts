import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spanIdentityAttributes, withSpanIdentity } from '../src/span-identity-attributes.ts';

describe('spanIdentityAttributes', () => {
  test('picks the distinct id, session and window keys the mapping reads, and nothing else', () => {
    const attributes = {
      'http.route': '/pay',
      'enduser.id': 'end',
      'user.id': 7,
      'posthog.distinct_id': 'ph',
      'session.id': 's',
      'posthog.window_id': 'w',
      'posthog.event': 'renamed',
    };
    assert.deepEqual(spanIdentityAttributes(attributes), { 'posthog.distinct_id': 'ph', 'user.id': 7, 'enduser.id': 'end', 'session.id': 's', 'posthog.window_id': 'w' });
  });

  test('is undefined for a span with no usable identity', () => {
    assert.equal(spanIdentityAttributes(undefined), undefined);
    assert.equal(spanIdentityAttributes({}), undefined);
    assert.equal(spanIdentityAttributes({ 'user.id': ' ', 'enduser.id': 1.5, 'session.id': 3, 'window.id': '', 'http.route': '/' }), undefined);
  });
});

describe('withSpanIdentity', () => {
  const span = { 'posthog.distinct_id': 'span-user', 'session.id': 'span-session', 'window.id': 'span-window' };

  test('adds every kind the event lacks, keeping the event\'s own attributes', () => {
    assert.deepEqual(withSpanIdentity({ amount: 3 }, span), { amount: 3, ...span });
  });

  test('a kind the event carries under any key is left to the event', () => {
    assert.deepEqual(withSpanIdentity({ 'enduser.id': 'event-user' }, span), { 'enduser.id': 'event-user', 'session.id': 'span-session', 'window.id': 'span-window' });
    assert.deepEqual(withSpanIdentity({ $session_id: 'event-session', 'user.id': 9 }, span), { $session_id: 'event-session', 'user.id': 9, 'window.id': 'span-window' });
  });

  test('an unusable event value does not count as an identity', () => {
    assert.equal(withSpanIdentity({ 'user.id': '' }, span)['posthog.distinct_id'], 'span-user');
    assert.equal(withSpanIdentity({ 'session.id': 5 }, span)['session.id'], 'span-session');
  });

  test('returns the event\'s object, uncopied, when it already carries every kind', () => {
    const event = { 'user.id': 'u', 'posthog.session_id': 's', '$window_id': 'w' };
    assert.equal(withSpanIdentity(event, span), event);
  });

  test('never changes the event\'s object', () => {
    const event = Object.freeze({ name: 'x' });
    const merged = withSpanIdentity(event, span);
    assert.notEqual(merged, event);
    assert.deepEqual(event, { name: 'x' });
  });
});

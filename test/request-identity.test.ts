import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import {
  getPostHogIdentity,
  identityFromHeaders,
  mergeIdentities,
  setPostHogIdentity,
  withPostHogIdentity,
} from '../src/request-identity.ts';
import { withPipeline } from './support/pipeline.ts';

describe('mergeIdentities', () => {
  test("the first identity's fields win; the second fills those it lacks", () => {
    assert.deepEqual(mergeIdentities({ distinctId: 'a' }, { distinctId: 'b', sessionId: 's' }), { distinctId: 'a', sessionId: 's' });
    assert.deepEqual(mergeIdentities({ sessionId: 's1' }, { distinctId: 'b', sessionId: 's2', windowId: 'w' }), {
      distinctId: 'b',
      sessionId: 's1',
      windowId: 'w',
    });
  });

  test('either one alone is returned as it is', () => {
    const only = { distinctId: 'a' };
    assert.equal(mergeIdentities(only, undefined), only);
    assert.equal(mergeIdentities(undefined, only), only);
    assert.equal(mergeIdentities(undefined, undefined), undefined);
  });

  test('the first is returned uncopied when the second adds nothing', () => {
    const first = { distinctId: 'a', sessionId: 's' };
    assert.equal(mergeIdentities(first, { distinctId: 'b' }), first);
    assert.equal(mergeIdentities(first, {}), first);
  });
});

describe('identityFromHeaders', () => {
  test('reads posthog-js headers from Node headers and from fetch Headers, trimmed', () => {
    const expected = { distinctId: 'u-1', sessionId: 's-1', windowId: 'w-1' };
    assert.deepEqual(
      identityFromHeaders({ 'x-posthog-distinct-id': ' u-1 ', 'x-posthog-session-id': ['s-1', 's-2'], 'x-posthog-window-id': 'w-1' }),
      expected,
    );
    assert.deepEqual(
      identityFromHeaders(new Headers({ 'X-POSTHOG-DISTINCT-ID': 'u-1', 'X-POSTHOG-SESSION-ID': 's-1', 'X-POSTHOG-WINDOW-ID': 'w-1' })),
      expected,
    );
    assert.deepEqual(identityFromHeaders({ 'x-posthog-distinct-id': '   ' }), {});
  });

  test('an id capture would drop (over 200 bytes, as it counts them) is not taken', () => {
    assert.equal(identityFromHeaders({ 'x-posthog-distinct-id': 'a'.repeat(200) }).distinctId, 'a'.repeat(200));
    assert.equal(identityFromHeaders({ 'x-posthog-distinct-id': 'a'.repeat(201) }).distinctId, undefined);
    // Node reads header bytes as Latin-1: 150 such characters are 300 bytes in UTF-8.
    assert.equal(identityFromHeaders({ 'x-posthog-distinct-id': 'é'.repeat(150) }).distinctId, undefined);
    assert.equal(identityFromHeaders({ 'x-posthog-distinct-id': ` ${'a'.repeat(200)} ` }).distinctId, 'a'.repeat(200));
  });
});

describe('setPostHogIdentity', () => {
  test('an identity set inside another replaces the fields it gives and keeps the others', () => {
    const headers = setPostHogIdentity(ROOT_CONTEXT, { distinctId: 'anon-1', sessionId: 'session-1', windowId: 'window-1' });
    const user = setPostHogIdentity(headers, { distinctId: 'user-42' });
    assert.deepEqual(getPostHogIdentity(user), { distinctId: 'user-42', sessionId: 'session-1', windowId: 'window-1' });
    assert.deepEqual(
      getPostHogIdentity(headers),
      { distinctId: 'anon-1', sessionId: 'session-1', windowId: 'window-1' },
      'the outer context is unchanged',
    );
    assert.deepEqual(getPostHogIdentity(setPostHogIdentity(user, {})), getPostHogIdentity(user), 'an empty identity changes nothing');
  });

  test('a record emitted where the handler identified the user keeps the session of the request', async () => {
    await withPipeline({}, async (p) => {
      const request = setPostHogIdentity(ROOT_CONTEXT, { distinctId: 'anon-1', sessionId: 'session-1' });
      p.logger().emit({ eventName: 'paid', context: setPostHogIdentity(request, { distinctId: 'user-42' }) });
      const [event] = await p.flush();
      assert.equal(event?.distinct_id, 'user-42');
      assert.equal(event?.session_id, 'session-1');
    });
  });
});

describe('identity from odd input', () => {
  test('a missing or malformed identity runs the work without one, never throwing', () => {
    for (const odd of [null, undefined, 'user-1', 42, [] as unknown]) {
      assert.equal(
        withPostHogIdentity(odd as never, () => 'ran'),
        'ran',
        String(odd),
      );
      assert.equal(getPostHogIdentity(setPostHogIdentity(ROOT_CONTEXT, odd as never)), undefined, String(odd));
    }
  });

  test('a whole-number distinct id (a database id) is taken as its decimal text; other values are not ids', () => {
    assert.deepEqual(getPostHogIdentity(setPostHogIdentity(ROOT_CONTEXT, { distinctId: 4711 as never, sessionId: 5 as never })), {
      distinctId: '4711',
    });
    assert.equal(getPostHogIdentity(setPostHogIdentity(ROOT_CONTEXT, { distinctId: 1.5 as never })), undefined);
  });

  test('headers: missing ones give no identity; a plain object is read whatever the case of its names', () => {
    assert.deepEqual(identityFromHeaders(undefined as never), {});
    assert.deepEqual(identityFromHeaders(null as never), {});
    // API Gateway (REST) events keep header names as the browser sent them.
    assert.deepEqual(
      identityFromHeaders({ 'X-POSTHOG-DISTINCT-ID': 'anon-1', 'X-PostHog-Session-Id': 's-1', 'x-posthog-window-id': 'w-1' }),
      { distinctId: 'anon-1', sessionId: 's-1', windowId: 'w-1' },
    );
    assert.deepEqual(identityFromHeaders(new Headers({ 'X-POSTHOG-DISTINCT-ID': 'anon-2' })), { distinctId: 'anon-2' });
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { identityFromHeaders, mergeIdentities } from '../src/request-identity.ts';

describe('mergeIdentities', () => {
  test('the first identity\'s fields win; the second fills those it lacks', () => {
    assert.deepEqual(mergeIdentities({ distinctId: 'a' }, { distinctId: 'b', sessionId: 's' }), { distinctId: 'a', sessionId: 's' });
    assert.deepEqual(mergeIdentities({ sessionId: 's1' }, { distinctId: 'b', sessionId: 's2', windowId: 'w' }), { distinctId: 'b', sessionId: 's1', windowId: 'w' });
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
    assert.deepEqual(identityFromHeaders({ 'x-posthog-distinct-id': ' u-1 ', 'x-posthog-session-id': ['s-1', 's-2'], 'x-posthog-window-id': 'w-1' }), expected);
    assert.deepEqual(identityFromHeaders(new Headers({ 'X-POSTHOG-DISTINCT-ID': 'u-1', 'X-POSTHOG-SESSION-ID': 's-1', 'X-POSTHOG-WINDOW-ID': 'w-1' })), expected);
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

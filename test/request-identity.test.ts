import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeIdentities } from '../src/request-identity.ts';

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

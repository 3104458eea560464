// Unit tests of the uuids events get: UUIDv7 generation and canonical form.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalUuid, uuidv7 } from '../../src/shared/uuid.ts';

describe('uuid', () => {
  test('uuidv7 is canonical, version 7, variant 10, time-ordered and unique', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    for (const id of ids) {
      assert.equal(canonicalUuid(id), id);
      assert.equal(id[14], '7');
      assert.ok('89ab'.includes(id[19]!));
    }
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(parseInt(uuidv7(0x0123456789ab).replace(/-/g, '').slice(0, 12), 16), 0x0123456789ab);
  });
  test('uuidv7 within one millisecond: the same time part, random bits that differ', () => {
    const ids = Array.from({ length: 3000 }, () => uuidv7(1_700_000_000_123));
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) {
      assert.equal(canonicalUuid(id), id);
      assert.equal(id.slice(0, 15), '018bcfe5-687b-7');
      assert.ok('89ab'.includes(id[19]!));
    }
    // Every random hex digit takes more than one value across the ids (a constant digit would be a bug).
    for (const position of [15, 16, 17, 20, 21, 22, 24, 30, 35])
      assert.ok(new Set(ids.map((id) => id[position])).size > 1, `digit ${position}`);
  });
  test('uuidv7 of an unusable time is still a valid uuid', () => {
    for (const time of [Number.NaN, -5, Number.POSITIVE_INFINITY]) {
      const id = uuidv7(time);
      assert.equal(canonicalUuid(id), id);
      assert.equal(id.slice(0, 15), '00000000-0000-7');
    }
  });
  test('canonicalUuid lower-cases and rejects non-uuids', () => {
    assert.equal(canonicalUuid(' 0190F3C4-1111-7222-8333-444455556666 '), '0190f3c4-1111-7222-8333-444455556666');
    for (const bad of ['', 'abc', 42, null, '0190f3c4111172228333444455556666', '0190f3c4-1111-7222-8333-44445555666g']) {
      assert.equal(canonicalUuid(bad), undefined);
    }
  });
});

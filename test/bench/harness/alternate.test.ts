import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alternate, orderFor } from '../../../bench/harness/alternate.ts';

const CONTENDERS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;

describe('orderFor', () => {
  it('rotates the contenders by the run and reverses odd runs', () => {
    assert.deepEqual(orderFor(CONTENDERS, 0), ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.deepEqual(orderFor(CONTENDERS, 1), ['a', 'f', 'e', 'd', 'c', 'b']);
    assert.deepEqual(orderFor(CONTENDERS, 2), ['c', 'd', 'e', 'f', 'a', 'b']);
  });

  it('runs the contenders given as together back to back, the middle one between the others, in every run', () => {
    const together = ['e', 'a', 'c'] as const;
    for (let r = 0; r < 8; r++) {
      const order = orderFor(CONTENDERS, r, together);
      assert.deepEqual([...order].sort(), [...CONTENDERS], `run ${r}: each contender once`);
      const at = order.indexOf('a');
      assert.deepEqual(order.slice(at - 1, at + 2).sort(), ['a', 'c', 'e'], `run ${r}: ${order.join(' ')} has a between c and e`);
    }
  });

  it('moves the group along from run to run, and reverses it on odd runs', () => {
    const together = ['b', 'c'] as const;
    const places = new Set<number>();
    for (let r = 0; r < 5; r++) places.add(Math.min(...together.map((c) => orderFor(CONTENDERS, r, together).indexOf(c))));
    assert.ok(places.size >= 3, `places of the group: ${[...places].join(' ')}`);
    assert.deepEqual(orderFor(CONTENDERS, 0, together), ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.deepEqual(orderFor(CONTENDERS, 1, together), ['a', 'f', 'e', 'd', 'c', 'b']);
  });

  it('ignores members of together that are not contenders', () => {
    assert.deepEqual(orderFor(['a', 'b', 'c'], 0, ['x', 'b', 'c']), ['a', 'b', 'c']);
  });
});

describe('alternate', () => {
  it('runs every contender once per run, in orderFor order', async () => {
    const seen: string[] = [];
    const runs = await alternate(
      3,
      CONTENDERS,
      async (c, r) => {
        seen.push(`${r}${c}`);
        return c;
      },
      ['d', 'b'],
    );
    assert.deepEqual(
      runs,
      [0, 1, 2].map((r) => orderFor(CONTENDERS, r, ['d', 'b'])),
    );
    assert.equal(seen.length, 18);
  });
});

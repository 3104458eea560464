import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimeSlicer } from '../../src/shared/time-slice.ts';

function busy(millis: number): void {
  const end = performance.now() + millis;
  while (performance.now() < end) {
    // Spin: stands for mapping or serialising work.
  }
}

/**
 * Runs `loops` concurrent loops of `items` half-millisecond items on one slicer, pausing before
 * each item, and returns how many items ran in each turn of the event loop.
 */
async function itemsPerTurn(loops: number, items: number): Promise<number[]> {
  const slicer = new TimeSlicer();
  const counts: number[] = [0];
  let running = true;
  // One tick per check phase: items between two ticks ran in the same turn.
  const tick = (): void => {
    counts.push(0);
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const loop = async (): Promise<void> => {
    for (let i = 0; i < items; i++) {
      const pause = slicer.pauseIfDue();
      if (pause) await pause;
      busy(0.5);
      counts[counts.length - 1]!++;
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));
  running = false;
  return counts;
}

test('loops sharing a slicer hold the event loop one slice per turn between them, not one each', async () => {
  const counts = await itemsPerTurn(3, 40);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    120,
  );
  // A 2 ms slice fits four half-millisecond items, plus the one that crosses the limit. A slow
  // machine only lowers the count; separate slices would allow about five per loop, fifteen here.
  const most = Math.max(...counts);
  assert.ok(most <= 6, `at most one slice of work per turn (counts per turn: ${counts.join(' ')})`);
});

test('a loop alone yields once its slice is used up, and resumes in a later turn', async () => {
  const counts = await itemsPerTurn(1, 30);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    30,
  );
  assert.ok(Math.max(...counts) <= 6, `counts per turn: ${counts.join(' ')}`);
});

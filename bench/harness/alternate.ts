// Runs every contender of a scenario once per run, in an order that changes from run to run, so no
// contender always runs first, or always right after the same one, on a machine whose load drifts.

/**
 * The contenders in the order of run r: rotated by r, reversed on odd runs. Those in `together`
 * run back to back, in that order or reversed, where the first of them would run: a ratio between
 * two of them then compares processes run seconds apart, not minutes.
 */
export function orderFor<T>(contenders: readonly T[], r: number, together: readonly T[] = []): T[] {
  const block = together.filter((c) => contenders.includes(c));
  const units: T[][] = [];
  for (const c of contenders) {
    if (!block.includes(c)) units.push([c]);
    else if (c === block[0]) units.push(block);
  }
  const rotated = units.map((_, i) => units[(i + r) % units.length]!);
  const ordered = r % 2 === 1 ? rotated.reverse().map((unit) => [...unit].reverse()) : rotated;
  return ordered.flat();
}

/** `runs` runs of every contender, each run in the order orderFor gives; results per run, in that order. */
export async function alternate<C, R>(
  runs: number,
  contenders: readonly C[],
  runOne: (contender: C, run: number) => Promise<R>,
  together: readonly C[] = [],
): Promise<R[][]> {
  const all: R[][] = [];
  for (let r = 0; r < runs; r++) {
    const run: R[] = [];
    for (const contender of orderFor(contenders, r, together)) run.push(await runOne(contender, r));
    all.push(run);
  }
  return all;
}

// Runs every contender of a scenario once per run, in an order that changes from run to run, so no
// contender always runs first, or always right after the same one, on a machine whose load drifts.

/** The contenders in the order of run r: rotated by r, reversed on odd runs. */
export function orderFor<T>(contenders: readonly T[], r: number): T[] {
  const rotated = contenders.map((_, i) => contenders[(i + r) % contenders.length]!);
  return r % 2 === 1 ? rotated.reverse() : rotated;
}

/** `runs` runs of every contender, each run in the order orderFor gives; results per run, in that order. */
export async function alternate<C, R>(
  runs: number,
  contenders: readonly C[],
  runOne: (contender: C, run: number) => Promise<R>,
): Promise<R[][]> {
  const all: R[][] = [];
  for (let r = 0; r < runs; r++) {
    const run: R[] = [];
    for (const contender of orderFor(contenders, r)) run.push(await runOne(contender, r));
    all.push(run);
  }
  return all;
}

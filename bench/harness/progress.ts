// One line of progress on the console while the suites run.

export function progress(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** `n` with `digits` decimals; 'n/a' when it is not a number. */
export function fixed(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

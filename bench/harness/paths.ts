// Where results go. bench/results/ holds what is committed: compact summaries (Markdown) and the
// chart. bench/results/raw/ (gitignored) holds the bulky rest: every run's figures as JSON, CPU
// profiles, and the output of quick runs.

import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export const resultsDir = join(benchDir, 'results');
export const rawDir = join(resultsDir, 'raw');

/** Both folders, created if missing. */
export function ensureResultDirs(): void {
  mkdirSync(rawDir, { recursive: true });
}

/** A path as the repository's root sees it, for messages. */
export function shown(path: string): string {
  return relative(join(benchDir, '..'), path);
}

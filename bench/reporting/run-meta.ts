// What a run was measured on: the machine, Node, the code's commit, the command and its sizes.

import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunConfig } from '../harness/run-config.ts';
import { BATCH_SIZE } from '../workload/records.ts';
import type { RunMeta } from './results.ts';

/** The commit of the code measured: BENCH_SRC_COMMIT (set when running from a snapshot), else git's HEAD. */
export function srcCommit(): string {
  if (process.env.BENCH_SRC_COMMIT) return process.env.BENCH_SRC_COMMIT;
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: dirname(fileURLToPath(import.meta.url)),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    const root = git('rev-parse', '--show-toplevel');
    const dirty = git('-C', root, 'status', '--porcelain', '--', 'src');
    return dirty ? `${head} (src modified)` : head;
  } catch {
    return 'unknown';
  }
}

const loadAverage = () => loadavg().map((x) => Math.round(x * 100) / 100);

export function runMeta(config: RunConfig): RunMeta {
  const { only, chart: _chart, ...sizes } = config;
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
    command: ['node bench/run.ts', ...process.argv.slice(2)].join(' '),
    srcCommit: srcCommit(),
    ...sizes,
    only: [...only],
    batchSize: BATCH_SIZE,
    durationSeconds: 0,
    loadAverageAtStart: loadAverage(),
    loadAverageAtEnd: [],
  };
}

/** Stamps the run's length and the load at its end. */
export function finishMeta(meta: RunMeta, startedAt: number): void {
  meta.durationSeconds = Math.round((performance.now() - startedAt) / 1000);
  meta.loadAverageAtEnd = loadAverage();
}

// The flags of `node bench/run.ts`, and the sizes a full or a quick run uses.
//
//   node bench/run.ts [--quick] [--runs N] [--records N] [--only 1,2,3,4,5,6] [--outage SECONDS]
//                     [--rate N] [--contexts fresh|pooled] [--no-chart]

import { parseArgs } from 'node:util';
import type { ContextMode } from '../workload/trace-contexts.ts';

export interface RunConfig {
  quick: boolean;
  /** Records per end-to-end run (scenarios 1 and 6), per emit-cost round and per loop-delay backlog. */
  records: number;
  /** Runs per scenario; each contender's figure is the median over them. */
  runs: number;
  outageSeconds: number;
  outageWarmSeconds: number;
  outageRate: number;
  emitRounds: number;
  steadySeconds: number;
  steadyRate: number;
  /** Scenarios to run: 1 steady, 2 emit, 3 span events, 4 loop delay, 5 outage, 6 burst. */
  only: Set<number>;
  /** The workload's trace contexts: fresh per request (default), or 1,000 cycled (the earlier workload). */
  contexts: ContextMode;
  chart: boolean;
}

export const SCENARIOS = [1, 2, 3, 4, 5, 6] as const;

/** A full run with the default sizes: the one whose summary and chart are committed. */
export function isFullRun(config: RunConfig): boolean {
  const full = parseRunConfig([]);
  return (
    !config.quick &&
    config.records === full.records &&
    config.runs >= full.runs &&
    config.outageSeconds === full.outageSeconds &&
    config.steadyRate === full.steadyRate &&
    config.contexts === full.contexts &&
    SCENARIOS.every((s) => config.only.has(s))
  );
}

export function parseRunConfig(argv: string[]): RunConfig {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      outage: { type: 'string' },
      runs: { type: 'string' },
      records: { type: 'string' },
      only: { type: 'string' },
      rate: { type: 'string' },
      contexts: { type: 'string', default: 'fresh' },
      'no-chart': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = args.quick ?? false;
  const config: RunConfig = {
    quick,
    records: Number(args.records ?? (quick ? 10_000 : 100_000)),
    runs: Number(args.runs ?? (quick ? 3 : 5)),
    outageSeconds: Number(args.outage ?? (quick ? 5 : 60)),
    outageWarmSeconds: quick ? 2 : 5,
    outageRate: 2_000,
    emitRounds: quick ? 2 : 5,
    steadySeconds: quick ? 2 : 5,
    steadyRate: Number(args.rate ?? 10_000),
    only: new Set((args.only ?? SCENARIOS.join(',')).split(',').map((s) => Number(s.trim()))),
    contexts: args.contexts as ContextMode,
    chart: !(args['no-chart'] ?? false),
  };
  for (const [key, value] of Object.entries({
    records: config.records,
    runs: config.runs,
    outage: config.outageSeconds,
    rate: config.steadyRate,
  })) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${key} must be a positive number`);
  }
  if (config.contexts !== 'fresh' && config.contexts !== 'pooled') throw new Error('--contexts is fresh or pooled');
  for (const scenario of config.only) {
    if (!(SCENARIOS as readonly number[]).includes(scenario))
      throw new Error(`--only takes scenario numbers among ${SCENARIOS.join(', ')}`);
  }
  return config;
}

// Scenario 2 across runs: one process per run, the contenders taking turns inside it (see
// scenarios/emit-cost.ts), then the medians and ratios.

import { orderFor } from '../harness/alternate.ts';
import { runChild } from '../harness/processes.ts';
import { fixed, progress } from '../harness/progress.ts';
import type { RunConfig } from '../harness/run-config.ts';
import { median } from '../harness/statistics.ts';
import type { EmitContender, EmitCostResult } from '../scenarios/emit-cost.ts';

export interface EmitCostRatios {
  oursVsStock: number;
  oursOverNoopNs: number;
  stockOverNoopNs: number;
}

export interface EmitCostSummary {
  runs: EmitCostResult[][];
  perContender: Record<string, { nsPerEmit: number }>;
  ratioRuns: EmitCostRatios[];
  ratios: EmitCostRatios;
}

const CONTENDERS: EmitContender[] = ['ours', 'stock-noop', 'noop-processor'];

export async function runEmitCostSuite(config: RunConfig, sinkUrl: string): Promise<EmitCostSummary> {
  const runs: EmitCostResult[][] = [];
  for (let r = 0; r < config.runs; r++) {
    const run = await runChild<EmitCostResult[]>(
      {
        scenario: 'emit-cost',
        contenders: orderFor(CONTENDERS, r),
        records: config.records,
        sinkUrl,
        rounds: config.emitRounds,
        contexts: config.contexts,
      },
      ['--expose-gc'],
    );
    for (const result of run)
      progress(`  s2 run ${r + 1}/${config.runs} ${result.contender.padEnd(16)} ${fixed(result.nsPerEmit, 0).padStart(6)} ns/emit`);
    runs.push(run);
  }
  const get = (run: EmitCostResult[], c: EmitContender) => run.find((x) => x.contender === c)!;
  const perContender = Object.fromEntries(CONTENDERS.map((c) => [c, { nsPerEmit: median(runs.map((run) => get(run, c).nsPerEmit)) }]));
  const ratioRuns = runs.map((run) => ({
    oursVsStock: get(run, 'ours').nsPerEmit / get(run, 'stock-noop').nsPerEmit,
    oursOverNoopNs: get(run, 'ours').nsPerEmit - get(run, 'noop-processor').nsPerEmit,
    stockOverNoopNs: get(run, 'stock-noop').nsPerEmit - get(run, 'noop-processor').nsPerEmit,
  }));
  return {
    runs,
    perContender,
    ratioRuns,
    ratios: {
      oursVsStock: median(ratioRuns.map((r) => r.oursVsStock)),
      oursOverNoopNs: median(ratioRuns.map((r) => r.oursOverNoopNs)),
      stockOverNoopNs: median(ratioRuns.map((r) => r.stockOverNoopNs)),
    },
  };
}

// Scenario 3 across runs: each contender in a fresh process per run, alternating, then the medians.

import { alternate } from '../harness/alternate.ts';
import { runChild } from '../harness/processes.ts';
import { fixed, progress } from '../harness/progress.ts';
import type { RunConfig } from '../harness/run-config.ts';
import { median } from '../harness/statistics.ts';
import type { SpanContender, SpanCostResult } from '../scenarios/span-cost.ts';

export interface SpanCostSummary {
  runs: SpanCostResult[][];
  perContender: Record<string, { nsPerSpan: number }>;
  ratioRuns: { oursVsNone: number; onEndNsPerSpan: number }[];
  ratios: { oursVsNone: number; onEndNsPerSpan: number };
}

const CONTENDERS: SpanContender[] = ['ours', 'none'];

export async function runSpanCostSuite(config: RunConfig, sinkUrl: string): Promise<SpanCostSummary> {
  const runs = await alternate(config.runs, CONTENDERS, async (contender, r) => {
    const result = await runChild<SpanCostResult>(
      { scenario: 'span-cost', contender, records: config.records, sinkUrl, rounds: config.emitRounds },
      ['--expose-gc'],
    );
    progress(`  s3 run ${r + 1}/${config.runs} ${contender.padEnd(16)} ${fixed(result.nsPerSpan, 0).padStart(6)} ns/span`);
    return result;
  });
  const get = (run: SpanCostResult[], c: SpanContender) => run.find((x) => x.contender === c)!;
  const perContender = Object.fromEntries(CONTENDERS.map((c) => [c, { nsPerSpan: median(runs.map((run) => get(run, c).nsPerSpan)) }]));
  const ratioRuns = runs.map((run) => ({
    oursVsNone: get(run, 'ours').nsPerSpan / get(run, 'none').nsPerSpan,
    onEndNsPerSpan: get(run, 'ours').nsPerSpan - get(run, 'none').nsPerSpan,
  }));
  return {
    runs,
    perContender,
    ratioRuns,
    ratios: { oursVsNone: median(ratioRuns.map((r) => r.oursVsNone)), onEndNsPerSpan: median(ratioRuns.map((r) => r.onEndNsPerSpan)) },
  };
}

// The shape of a run's results: bench/results/raw/latest.json, read back by the chart.

import type { CorrectnessResult } from '../scenarios/correctness.ts';
import type { OutageResult } from '../scenarios/outage.ts';
import type { ContextMode } from '../workload/trace-contexts.ts';
import type { EmitCostSummary } from '../suites/emit-cost.ts';
import type { EndToEndSummary } from '../suites/end-to-end-summary.ts';
import type { LoopDelaySummary } from '../suites/loop-delay.ts';
import type { SpanCostSummary } from '../suites/span-cost.ts';

export interface Goal {
  /** The scenario's number and name, e.g. '1. steady'. */
  scenario: string;
  goal: string;
  measured: string;
  met: boolean;
}

export interface RunMeta {
  date: string;
  node: string;
  v8: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  command: string;
  /** Commit of the code measured. */
  srcCommit: string;
  quick: boolean;
  records: number;
  runs: number;
  outageSeconds: number;
  outageWarmSeconds: number;
  outageRate: number;
  emitRounds: number;
  steadySeconds: number;
  steadyRate: number;
  only: number[];
  contexts: ContextMode;
  batchSize: number;
  durationSeconds: number;
  /** os.loadavg() (1, 5, 15 min): other work on the machine at the start and end of the run. */
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
}

export interface BenchResults {
  meta: RunMeta;
  correctness?: CorrectnessResult;
  /** Scenario 1. */
  steady?: EndToEndSummary;
  /** Scenario 6. */
  burst?: EndToEndSummary;
  emitCost?: EmitCostSummary;
  spanCost?: SpanCostSummary;
  loopDelay?: LoopDelaySummary;
  outage?: OutageResult;
  goals: Goal[];
}

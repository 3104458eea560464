// Scenario 4 across runs: each contender in a fresh process per run, alternating, then the medians
// and ratios to OTLP http/json.

import { alternate } from '../harness/alternate.ts';
import { runChild } from '../harness/processes.ts';
import { fixed, progress } from '../harness/progress.ts';
import type { RunConfig } from '../harness/run-config.ts';
import { median } from '../harness/statistics.ts';
import type { LoopDelayContender, LoopDelayResult } from '../scenarios/loop-delay.ts';

export interface LoopDelayContenderSummary {
  steadyP50Ms: number;
  steadyP99Ms: number;
  steadyMaxMs: number;
  steadyAllDelivered: boolean;
  backlogP99Ms?: number;
  backlogMaxMs?: number;
  backlogDrainMs?: number;
  backlogAllDelivered?: boolean;
}

export interface LoopDelayRatios {
  oursGzipVsOtlpSteadyP99: number;
  oursGzipVsOtlpBacklogP99: number;
  oursVsOtlpSteadyP99: number;
  oursVsOtlpBacklogP99: number;
}

export interface LoopDelaySummary {
  runs: LoopDelayResult[][];
  perContender: Record<string, LoopDelayContenderSummary>;
  /** oursGzip…: the goal's row (gzip batches); ours…: the default codec (zstd). */
  ratioRuns: LoopDelayRatios[];
  ratios: LoopDelayRatios;
}

// ours-gzip is the goal's row (the goal asks for gzip batches); ours shows the default codec.
const CONTENDERS: LoopDelayContender[] = ['ours-gzip', 'ours', 'otlp-http', 'noop-processor'];

export async function runLoopDelaySuite(config: RunConfig, sinkUrl: string): Promise<LoopDelaySummary> {
  const runs = await alternate(config.runs, CONTENDERS, async (contender, r) => {
    const result = await runChild<LoopDelayResult>({
      scenario: 'loop-delay',
      contender,
      records: config.records,
      sinkUrl,
      steadySeconds: config.steadySeconds,
      rate: config.steadyRate,
      contexts: config.contexts,
    });
    const backlog = result.backlog ? `; backlog p99 ${fixed(result.backlog.p99Ms, 2)} ms, max ${fixed(result.backlog.maxMs, 1)} ms` : '';
    progress(
      `  s4 run ${r + 1}/${config.runs} ${contender.padEnd(16)} steady p99 ${fixed(result.steady.p99Ms, 2)} ms, max ${fixed(result.steady.maxMs, 1)} ms${backlog}`,
    );
    return result;
  });
  const get = (run: LoopDelayResult[], c: LoopDelayContender) => run.find((x) => x.contender === c)!;
  const perContender = Object.fromEntries(
    CONTENDERS.map((c) => {
      const rs = runs.map((run) => get(run, c));
      const backlog = rs.map((x) => x.backlog).filter((b) => b !== undefined);
      const summary: LoopDelayContenderSummary = {
        steadyP99Ms: median(rs.map((x) => x.steady.p99Ms)),
        steadyMaxMs: median(rs.map((x) => x.steady.maxMs)),
        steadyP50Ms: median(rs.map((x) => x.steady.p50Ms)),
        steadyAllDelivered: rs.every((x) => x.steady.delivered === x.steady.emitted),
        ...(backlog.length > 0
          ? {
              backlogP99Ms: median(backlog.map((b) => b.p99Ms)),
              backlogMaxMs: median(backlog.map((b) => b.maxMs)),
              backlogDrainMs: median(backlog.map((b) => b.drainMs)),
              backlogAllDelivered: backlog.every((b) => b.delivered === b.records),
            }
          : {}),
      };
      return [c, summary];
    }),
  );
  const steady = (run: LoopDelayResult[], c: LoopDelayContender) => get(run, c).steady.p99Ms;
  const backlog = (run: LoopDelayResult[], c: LoopDelayContender) => get(run, c).backlog?.p99Ms ?? Number.NaN;
  const ratioRuns: LoopDelayRatios[] = runs.map((run) => ({
    oursGzipVsOtlpSteadyP99: steady(run, 'ours-gzip') / steady(run, 'otlp-http'),
    oursGzipVsOtlpBacklogP99: backlog(run, 'ours-gzip') / backlog(run, 'otlp-http'),
    oursVsOtlpSteadyP99: steady(run, 'ours') / steady(run, 'otlp-http'),
    oursVsOtlpBacklogP99: backlog(run, 'ours') / backlog(run, 'otlp-http'),
  }));
  const ratioOf = (k: keyof LoopDelayRatios) => median(ratioRuns.map((r) => r[k]));
  const ratios: LoopDelayRatios = {
    oursGzipVsOtlpSteadyP99: ratioOf('oursGzipVsOtlpSteadyP99'),
    oursGzipVsOtlpBacklogP99: ratioOf('oursGzipVsOtlpBacklogP99'),
    oursVsOtlpSteadyP99: ratioOf('oursVsOtlpSteadyP99'),
    oursVsOtlpBacklogP99: ratioOf('oursVsOtlpBacklogP99'),
  };
  return { runs, perContender, ratioRuns, ratios };
}

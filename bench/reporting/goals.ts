// The goals, judged from one run: each ratio is the median of the per-run ratios (ours ÷ the
// other, measured side by side within a run), shown with their range.

import { sumValues } from '../harness/statistics.ts';
import type { EndToEndSummary } from '../suites/end-to-end-summary.ts';
import type { BenchResults, Goal } from './results.ts';

const ratio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');
const micros = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : 'n/a');

interface RatioGoal {
  /** Key in EndToEndSummary.ratios. */
  key: string;
  goal: string;
  /** Met when the ratio is at least (min) or at most (max) the bound. */
  min?: number;
  max?: number;
  /** Per-record figure of ours and the other contender shown beside the ratio, with its unit. */
  figure?: { of: 'cpuMicrosPerRecord' | 'v8HelpersCpuMicrosPerRecord' | 'recordsPerSec'; other: string; unit: string };
}

function judge(scenario: string, s: EndToEndSummary, g: RatioGoal): Goal {
  const x = s.ratios[g.key] ?? Number.NaN;
  const met = Number.isFinite(x) && (g.min === undefined || x >= g.min) && (g.max === undefined || x <= g.max);
  let measured = ratio(x);
  if (g.figure) {
    const ours = s.perContender.ours?.[g.figure.of];
    const other = s.perContender[g.figure.other]?.[g.figure.of];
    const digits = g.figure.of === 'recordsPerSec' ? 0 : 2;
    const show = (v: number | undefined) =>
      digits === 0 && v !== undefined && Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : micros(v);
    measured += ` (${show(ours)} vs ${show(other)} ${g.figure.unit})`;
  }
  // The spread says how far one run's verdict can be trusted.
  const perRun = s.ratioRuns.map((r) => r[g.key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (perRun.length > 1) measured += `; per run ${Math.min(...perRun).toFixed(2)}–${Math.max(...perRun).toFixed(2)}×`;
  return { scenario, goal: g.goal, measured, met };
}

function delivery(scenario: string, s: EndToEndSummary, records: number): Goal {
  const lost = Object.entries(s.perContender)
    .filter(([, v]) => !v.allDelivered)
    .map(([k]) => k);
  return {
    scenario,
    goal: `every contender delivers all ${records.toLocaleString('en-US')} records`,
    measured: lost.length === 0 ? 'all delivered' : `not delivered: ${lost.join(', ')}`,
    met: lost.length === 0,
  };
}

const PROTO = 'otlp-proto';
const helpersGoal: RatioGoal = {
  key: `oursVs_${PROTO}_v8Helpers`,
  goal: "V8 helper (GC) CPU per record ≤ OTLP http/protobuf's",
  max: 1,
  figure: { of: 'v8HelpersCpuMicrosPerRecord', other: PROTO, unit: 'µs/record' },
};

const BURST_GOALS: RatioGoal[] = [
  {
    key: `oursVs_${PROTO}_throughput`,
    goal: 'records/s ≥ 1.05 × OTLP http/protobuf',
    min: 1.05,
    figure: { of: 'recordsPerSec', other: PROTO, unit: 'records/s' },
  },
  {
    key: `oursVs_${PROTO}_cpu`,
    goal: 'CPU per record ≤ 1.0 × OTLP http/protobuf',
    max: 1,
    figure: { of: 'cpuMicrosPerRecord', other: PROTO, unit: 'µs/record' },
  },
  helpersGoal,
];

const STEADY_GOALS: RatioGoal[] = [
  {
    key: `oursVs_${PROTO}_throughput`,
    goal: 'records/s ≥ 1.15 × OTLP http/protobuf',
    min: 1.15,
    figure: { of: 'recordsPerSec', other: PROTO, unit: 'records/s' },
  },
  {
    key: 'oursVs_bound_throughput',
    goal: 'records/s ≥ 0.97 × the bound',
    min: 0.97,
    figure: { of: 'recordsPerSec', other: 'bound', unit: 'records/s' },
  },
  {
    key: `oursVs_${PROTO}_cpu`,
    goal: 'CPU per record ≤ 0.85 × OTLP http/protobuf',
    max: 0.85,
    figure: { of: 'cpuMicrosPerRecord', other: PROTO, unit: 'µs/record' },
  },
  helpersGoal,
];

export function evaluateGoals(results: BenchResults): Goal[] {
  const goals: Goal[] = [];
  const records = results.meta.records;
  const burst = results.burst;
  if (burst) {
    for (const g of BURST_GOALS) goals.push(judge('6. burst', burst, g));
    goals.push(delivery('6. burst', burst, records));
  }
  const steady = results.steady;
  if (steady) {
    for (const g of STEADY_GOALS) goals.push(judge('1. steady', steady, g));
    goals.push(delivery('1. steady', steady, records));
  }
  const e = results.emitCost;
  if (e)
    goals.push({
      scenario: '2. emit',
      goal: 'ns per emit ≤ 1.1 × stock BatchLogRecordProcessor',
      measured: ratio(e.ratios.oursVsStock),
      met: e.ratios.oursVsStock <= 1.1,
    });
  const l = results.loopDelay;
  if (l) {
    const p99 = l.perContender['ours-gzip']?.steadyP99Ms ?? Number.NaN;
    goals.push({
      scenario: '4. loop delay',
      goal: 'p99 event-loop delay ≤ 5 ms (steady export, ours with gzip batches)',
      measured: `${micros(p99)} ms`,
      met: p99 <= 5,
    });
  }
  const o = results.outage;
  if (o) {
    goals.push({
      scenario: '5. outage',
      goal: 'memory bounded: pending never above the configured caps (queue + retry buffer + one batch)',
      measured: `max pending ${o.maxPending.toLocaleString('en-US')} ≤ ${o.pendingCap.toLocaleString('en-US')}; heap max ${o.memory.outageMaxHeapMiB} MiB`,
      met: o.checks.pendingWithinCaps,
    });
    goals.push({
      scenario: '5. outage',
      goal: `memory flat during the outage (2nd-half live heap max ≤ 1.2 × 1st half; live: after a full GC, every ${Math.round(o.memory.outageLiveIntervalMs / 100) / 10} s)`,
      measured: `live heap max ${o.memory.outageFirstHalfMaxLiveHeapMiB} → ${o.memory.outageSecondHalfMaxLiveHeapMiB} MiB (1st → 2nd half)`,
      met: o.checks.heapFlat,
    });
    goals.push({
      scenario: '5. outage',
      goal: 'everything kept is delivered after recovery',
      measured: `pending ${o.statsFinal.pending}, delivered ${o.statsFinal.delivered} = sink ${sumValues(o.sink.events)}`,
      met: o.checks.nothingPending && o.checks.sinkMatchesDelivered && o.checks.accountingHolds,
    });
  }
  return goals;
}

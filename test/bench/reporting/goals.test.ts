import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateGoals } from '../../../bench/reporting/goals.ts';
import type { BenchResults } from '../../../bench/reporting/results.ts';
import type { EndToEndContenderSummary, EndToEndSummary } from '../../../bench/suites/end-to-end-summary.ts';

function contender(recordsPerSec: number, cpu: number, helpers: number): EndToEndContenderSummary {
  return {
    recordsPerSec,
    cpuMicrosPerRecord: cpu,
    mainThreadCpuMicrosPerRecord: cpu - helpers,
    v8HelpersCpuMicrosPerRecord: helpers,
    gcPauseMicrosPerRecord: 1,
    markCompacts: 1,
    libuvPoolCpuMicrosPerRecord: 0,
    wallMs: 1_000,
    minRecordsPerSec: recordsPerSec,
    maxRecordsPerSec: recordsPerSec,
    delivered: [100],
    allDelivered: true,
    sinkCpuMs: 0,
    requests: 1,
    wireBytesPerRecord: 60,
    encoding: 'zstd',
  };
}

function summary(ratios: Record<string, number>, lost: string[] = []): EndToEndSummary {
  const perContender = { ours: contender(120, 10, 3), 'otlp-proto': contender(100, 11, 3.5), bound: contender(122, 9.5, 3) };
  for (const c of lost) perContender[c as keyof typeof perContender].allDelivered = false;
  return { runs: [], perContender, ratioRuns: [], ratios, fastestAlternative: 'otlp-proto', fastestAlternativeRuns: 5 };
}

function results(steady: EndToEndSummary, burst: EndToEndSummary): BenchResults {
  return { meta: { records: 100 } as BenchResults['meta'], steady, burst, goals: [] };
}

const metBy = (goals: ReturnType<typeof evaluateGoals>, scenario: string) =>
  goals.filter((g) => g.scenario === scenario).map((g) => [g.goal, g.met]);

test('the goals are judged on the per-run ratio medians, at their bounds', () => {
  const steady = summary({
    'oursVs_otlp-proto_throughput': 1.15,
    oursVs_bound_throughput: 0.97,
    'oursVs_otlp-proto_cpu': 0.85,
    'oursVs_otlp-proto_v8Helpers': 1,
  });
  const burst = summary({ 'oursVs_otlp-proto_throughput': 1.05, 'oursVs_otlp-proto_cpu': 1, 'oursVs_otlp-proto_v8Helpers': 1 });
  const goals = evaluateGoals(results(steady, burst));
  assert.ok(
    goals.every((g) => g.met),
    JSON.stringify(goals, null, 2),
  );
  assert.equal(goals.length, 9);
});

test('a ratio on the wrong side of its bound, or a lost record, is not met', () => {
  const steady = summary(
    {
      'oursVs_otlp-proto_throughput': 1.14,
      oursVs_bound_throughput: 0.98,
      'oursVs_otlp-proto_cpu': 0.86,
      'oursVs_otlp-proto_v8Helpers': 0.9,
    },
    ['bound'],
  );
  const burst = summary({ 'oursVs_otlp-proto_throughput': 1.2, 'oursVs_otlp-proto_cpu': 1.01, 'oursVs_otlp-proto_v8Helpers': 1.2 });
  const goals = evaluateGoals(results(steady, burst));
  assert.deepEqual(metBy(goals, '1. steady'), [
    ['records/s ≥ 1.15 × OTLP http/protobuf', false],
    ['records/s ≥ 0.97 × the bound', true],
    ['CPU per record ≤ 0.85 × OTLP http/protobuf', false],
    ["V8 helper (GC) CPU per record ≤ OTLP http/protobuf's", true],
    ['every contender delivers all 100 records', false],
  ]);
  assert.deepEqual(metBy(goals, '6. burst'), [
    ['records/s ≥ 1.05 × OTLP http/protobuf', true],
    ['CPU per record ≤ 1.0 × OTLP http/protobuf', false],
    ["V8 helper (GC) CPU per record ≤ OTLP http/protobuf's", false],
    ['every contender delivers all 100 records', true],
  ]);
  const steadyCpu = goals.find((g) => g.scenario === '1. steady' && g.goal.startsWith('CPU'));
  assert.equal(steadyCpu?.measured, '0.86× (10.00 vs 11.00 µs/record)');
});

test('a ratio the run could not compute is not met', () => {
  const goals = evaluateGoals(results(summary({}), summary({})));
  assert.ok(goals.filter((g) => !g.goal.startsWith('every')).every((g) => !g.met && g.measured.startsWith('n/a')));
});

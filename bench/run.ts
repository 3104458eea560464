// Benchmark orchestrator: `npm run bench` (full) or `npm run bench:quick`.
//
//   node bench/run.ts [--quick] [--outage SECONDS] [--runs N] [--records N] [--only 1,2,3,4,5]
//                     [--rate N] [--no-chart]
//
// Starts the sink in its own process, then runs every contender of every scenario in a fresh
// child process (bench/child.ts), alternating the order of contenders from run to run. Prints a
// table of ratios (median over runs of the side-by-side ratio within each run) and writes the raw
// figures to bench/results/latest.json (plus latest.md, and chart.svg through bench/chart.ts).

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { CorrectnessResult } from './correctness.ts';
import type { EmitContender, EmitCostResult } from './emit-cost.ts';
import { max, median, min } from './harness.ts';
import type { LoopDelayContender, LoopDelayResult } from './loop-delay.ts';
import type { OutageResult } from './outage.ts';
import type { SinkStats } from './sink.ts';
import { runChild, startSink } from './processes.ts';
import { renderMarkdown, type BenchResults, type Goal } from './report.ts';
import type { SpanContender, SpanCostResult } from './span-cost.ts';
import type { ThroughputContender, ThroughputResult } from './throughput.ts';
import { BATCH_SIZE } from './workload.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    outage: { type: 'string' },
    runs: { type: 'string' },
    records: { type: 'string' },
    only: { type: 'string' },
    rate: { type: 'string' },
    'no-chart': { type: 'boolean', default: false },
  },
  strict: true,
});

const quick = args.quick ?? false;
const config = {
  quick,
  records: Number(args.records ?? (quick ? 10_000 : 100_000)),
  runs: Number(args.runs ?? (quick ? 3 : 5)),
  outageSeconds: Number(args.outage ?? (quick ? 5 : 60)),
  outageWarmSeconds: quick ? 2 : 5,
  outageRate: 2_000,
  emitRounds: quick ? 2 : 5,
  steadySeconds: quick ? 2 : 5,
  steadyRate: Number(args.rate ?? 10_000),
  only: new Set((args.only ?? '1,2,3,4,5').split(',').map((s) => Number(s.trim()))),
};
for (const [key, value] of Object.entries({ records: config.records, runs: config.runs, outage: config.outageSeconds, rate: config.steadyRate })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${key} must be a positive number`);
}

/** The contenders in the order of run r: rotated by r, reversed on odd runs. */
function orderFor<T>(contenders: readonly T[], r: number): T[] {
  const rotated = contenders.map((_, i) => contenders[(i + r) % contenders.length]!);
  return r % 2 === 1 ? rotated.reverse() : rotated;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The commit of the code measured: BENCH_SRC_COMMIT (set when running from a snapshot), else git's HEAD. */
function srcCommit(): string {
  if (process.env.BENCH_SRC_COMMIT) return process.env.BENCH_SRC_COMMIT;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head} (src modified)` : head;
  } catch {
    return 'unknown';
  }
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  mkdirSync(resultsDir, { recursive: true });
  const cpu = cpus()[0]?.model ?? 'unknown';
  log(`bench: node ${process.version}, ${cpu} × ${cpus().length}, ${config.quick ? 'quick' : 'full'}: ${config.records} records, ${config.runs} runs`);
  const sink = await startSink();
  const sinkUrl = sink.url;
  const started = performance.now();
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      v8: process.versions.v8,
      cpu,
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      platform: `${process.platform} ${process.arch}`,
      command: ['node bench/run.ts', ...process.argv.slice(2)].join(' '),
      srcCommit: srcCommit(),
      ...config,
      only: [...config.only],
      batchSize: BATCH_SIZE,
      durationSeconds: 0,
      loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
      loadAverageAtEnd: [],
    },
    goals: [],
  };

  try {
    log('correctness: ours and posthog-node (v1) against the strict fake capture server…');
    const correctness = await runChild<CorrectnessResult>({ scenario: 'correctness', records: 2_000 });
    results.correctness = correctness;
    const encodings = (counts: Record<string, number>) => Object.keys(counts).join('/') || 'none';
    log(`  ${correctness.ok ? 'ok' : 'PROBLEM'}: ours ${correctness.ours.accepted}/${correctness.records} accepted (${encodings(correctness.ours.encodings)}), ${correctness.ours.invalid} invalid requests; posthog-node ${correctness.posthogNode.accepted}/${correctness.records} (${encodings(correctness.posthogNode.encodings)}), ${correctness.posthogNode.invalid} invalid; same event values: ${correctness.sameValues}`);

    if (config.only.has(1)) {
      const contenders: ThroughputContender[] = ['ours', 'ours-gzip', 'ours-before-send', 'otlp-http', 'otlp-proto', 'posthog-node', 'floor', 'stock-noop', 'bound'];
      const runs: ThroughputResult[][] = [];
      for (let r = 0; r < config.runs; r++) {
        const order = orderFor(contenders, r);
        const run: ThroughputResult[] = [];
        for (const contender of order) {
          const result = await runChild<ThroughputResult>({ scenario: 'throughput', contender, records: config.records, sinkUrl });
          run.push(result);
          const lost = result.delivered === config.records ? '' : `  DELIVERED ${result.delivered}/${config.records}`;
          const encoding = result.sink ? `  ${encodingLabel([result.sink])}` : '';
          log(`  s1 run ${r + 1}/${config.runs} ${contender.padEnd(14)} ${fmt(result.recordsPerSec, 0).padStart(8)} rec/s  ${fmt(result.cpuMicrosPerRecord, 2).padStart(7)} µs CPU/rec${encoding}${lost}`);
        }
        runs.push(run);
      }
      results.throughput = summarizeThroughput(runs, contenders);
    }

    if (config.only.has(2)) {
      const contenders: EmitContender[] = ['ours', 'stock-noop', 'noop-processor'];
      const runs: EmitCostResult[][] = [];
      for (let r = 0; r < config.runs; r++) {
        // One process per run, the contenders taking turns inside it (see emit-cost.ts).
        const run = await runChild<EmitCostResult[]>({ scenario: 'emit-cost', contenders: orderFor(contenders, r), records: config.records, sinkUrl, rounds: config.emitRounds }, ['--expose-gc']);
        for (const result of run) log(`  s2 run ${r + 1}/${config.runs} ${result.contender.padEnd(14)} ${fmt(result.nsPerEmit, 0).padStart(6)} ns/emit`);
        runs.push(run);
      }
      results.emitCost = summarizeEmitCost(runs, contenders);
    }

    if (config.only.has(3)) {
      const contenders: SpanContender[] = ['ours', 'none'];
      const runs: SpanCostResult[][] = [];
      for (let r = 0; r < config.runs; r++) {
        const run: SpanCostResult[] = [];
        for (const contender of orderFor(contenders, r)) {
          const result = await runChild<SpanCostResult>({ scenario: 'span-cost', contender, records: config.records, sinkUrl, rounds: config.emitRounds }, ['--expose-gc']);
          run.push(result);
          log(`  s3 run ${r + 1}/${config.runs} ${contender.padEnd(14)} ${fmt(result.nsPerSpan, 0).padStart(6)} ns/span`);
        }
        runs.push(run);
      }
      results.spanCost = summarizeSpanCost(runs, contenders);
    }

    if (config.only.has(4)) {
      // ours-gzip is the goal's row (the issue asks for gzip batches); ours shows the default codec.
      const contenders: LoopDelayContender[] = ['ours-gzip', 'ours', 'otlp-http', 'noop-processor'];
      const runs: LoopDelayResult[][] = [];
      for (let r = 0; r < config.runs; r++) {
        const run: LoopDelayResult[] = [];
        for (const contender of orderFor(contenders, r)) {
          const result = await runChild<LoopDelayResult>({
            scenario: 'loop-delay',
            contender,
            records: config.records,
            sinkUrl,
            steadySeconds: config.steadySeconds,
            rate: config.steadyRate,
          });
          run.push(result);
          const backlog = result.backlog ? `; backlog p99 ${fmt(result.backlog.p99Ms, 2)} ms, max ${fmt(result.backlog.maxMs, 1)} ms` : '';
          log(`  s4 run ${r + 1}/${config.runs} ${contender.padEnd(14)} steady p99 ${fmt(result.steady.p99Ms, 2)} ms, max ${fmt(result.steady.maxMs, 1)} ms${backlog}`);
        }
        runs.push(run);
      }
      results.loopDelay = summarizeLoopDelay(runs, contenders);
    }

    if (config.only.has(5)) {
      log(`  s5: ${config.outageWarmSeconds} s healthy, ${config.outageSeconds} s of 503 at ${config.outageRate} rec/s, then recovery…`);
      const outage = await runChild<OutageResult>(
        { scenario: 'outage', sinkUrl, rate: config.outageRate, warmSeconds: config.outageWarmSeconds, outageSeconds: config.outageSeconds, maxDrainSeconds: 120 },
        ['--expose-gc'],
      );
      results.outage = outage;
      const sinkEvents = Object.values(outage.sink.events).reduce((a, b) => a + b, 0);
      log(`  s5 emitted ${outage.emitted}, delivered ${outage.statsFinal.delivered} (sink accepted ${sinkEvents}, ${encodingLabel([outage.sink])}), dropped ${JSON.stringify(outage.statsFinal.dropped)}, drain ${outage.drainMs === undefined ? 'n/a' : `${fmt(outage.drainMs, 0)} ms`}, max heap ${outage.memory.outageMaxHeapMiB} MiB`);
    }
  } finally {
    sink.child.disconnect();
  }

  results.goals = evaluateGoals(results, config.records);
  results.meta.durationSeconds = Math.round((performance.now() - started) / 1000);
  results.meta.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  const markdown = renderMarkdown(results);
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(resultsDir, 'latest.md'), markdown);
  log('');
  log(markdown);
  log(`raw figures: ${join('bench', 'results', 'latest.json')} (${results.meta.durationSeconds} s)`);
  if (!args['no-chart']) {
    const { writeChart } = await import('./chart.ts');
    log(`chart: ${writeChart(join(resultsDir, 'latest.json'), join(resultsDir, 'chart.svg'))}`);
  }
}

/** Content encodings the sink saw, summed over its readings: 'zstd', or 'gzip 195 / identity 1' when mixed. */
function encodingLabel(sinks: readonly SinkStats[]): string {
  const counts: Record<string, number> = {};
  for (const sink of sinks) {
    for (const byEncoding of Object.values(sink.encodings ?? {})) {
      for (const [encoding, n] of Object.entries(byEncoding)) counts[encoding] = (counts[encoding] ?? 0) + n;
    }
  }
  const entries = Object.entries(counts);
  if (entries.length === 0) return 'none';
  if (entries.length === 1) return entries[0]![0];
  return entries.map(([encoding, n]) => `${encoding} ${n}`).join(' / ');
}

/** The most frequent value. */
function mode(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
}

function summarizeThroughput(runs: ThroughputResult[][], contenders: ThroughputContender[]): NonNullable<BenchResults['throughput']> {
  const get = (run: ThroughputResult[], c: ThroughputContender) => run.find((x) => x.contender === c)!;
  // "The fastest alternative" is what a user would pick instead: never our own rows, nor the floor.
  const alternatives: ThroughputContender[] = ['otlp-http', 'otlp-proto', 'posthog-node'];
  const perContender = Object.fromEntries(
    contenders.map((c) => {
      const rs = runs.map((run) => get(run, c));
      return [
        c,
        {
          recordsPerSec: median(rs.map((x) => x.recordsPerSec)),
          cpuMicrosPerRecord: median(rs.map((x) => x.cpuMicrosPerRecord)),
          mainThreadCpuMicrosPerRecord: median(rs.map((x) => x.mainThreadCpuMicrosPerRecord ?? Number.NaN)),
          v8HelpersCpuMicrosPerRecord: median(rs.map((x) => ((x.threadGroupCpuMs?.v8Helpers ?? Number.NaN) * 1000) / x.records)),
          libuvPoolCpuMicrosPerRecord: median(rs.map((x) => ((x.threadGroupCpuMs?.libuvPool ?? Number.NaN) * 1000) / x.records)),
          wallMs: median(rs.map((x) => x.wallMs)),
          minRecordsPerSec: min(rs.map((x) => x.recordsPerSec)),
          maxRecordsPerSec: max(rs.map((x) => x.recordsPerSec)),
          delivered: rs.map((x) => x.delivered),
          allDelivered: rs.every((x) => x.delivered === x.records),
          sinkCpuMs: median(rs.map((x) => x.sink?.cpuMs ?? 0)),
          requests: median(rs.map((x) => Object.values(x.sink?.requests ?? {}).reduce((a, b) => a + b, 0))),
          wireBytesPerRecord: median(rs.map((x) => (x.sink?.wireBytes ?? x.floorSplit?.wireBytes ?? 0) / x.records)),
          ...(rs.every((x) => x.phases !== undefined)
            ? {
                phases: {
                  emittingMs: median(rs.map((x) => x.phases!.emitting.wallMs)),
                  emittingBusy: median(rs.map((x) => x.phases!.emitting.mainThreadBusy)),
                  flushingMs: median(rs.map((x) => x.phases!.flushing.wallMs)),
                  flushingBusy: median(rs.map((x) => x.phases!.flushing.mainThreadBusy)),
                },
              }
            : {}),
          encoding: c === 'floor' ? 'gzip (level 6, not sent)' : c === 'stock-noop' ? 'none (not sent)' : encodingLabel(rs.map((x) => x.sink).filter((x) => x !== undefined)),
        },
      ];
    }),
  );
  const ratioRuns = runs.map((run) => {
    const ours = get(run, 'ours');
    const oursGzip = get(run, 'ours-gzip');
    const floor = get(run, 'floor');
    const fastest = alternatives.map((c) => get(run, c)).reduce((a, b) => (b.recordsPerSec > a.recordsPerSec ? b : a));
    // The goal's ratios use ours with its default codec; ours-gzip's are for information.
    const ratios: Record<string, number> = {
      oursVsFastestAlternativeThroughput: ours.recordsPerSec / fastest.recordsPerSec,
      oursVsFloorCpu: ours.cpuMicrosPerRecord / floor.cpuMicrosPerRecord,
      oursGzipVsFastestAlternativeThroughput: oursGzip.recordsPerSec / fastest.recordsPerSec,
      oursGzipVsFloorCpu: oursGzip.cpuMicrosPerRecord / floor.cpuMicrosPerRecord,
    };
    const split = floor.floorSplit;
    if (split) {
      const floorGzip1 = split.stringifyMicrosPerRecord + split.gzipFastestMicrosPerRecord;
      const floorZstd1 = split.stringifyMicrosPerRecord + split.zstdMicrosPerRecord;
      ratios.oursVsFloorFastestGzipCpu = ours.cpuMicrosPerRecord / floorGzip1;
      ratios.oursGzipVsFloorFastestGzipCpu = oursGzip.cpuMicrosPerRecord / floorGzip1;
      ratios.oursVsFloorZstdCpu = ours.cpuMicrosPerRecord / floorZstd1;
    }
    // Per-row "ours ÷ it": every alternative, and ours-gzip (what the default codec gains over gzip).
    for (const c of [...alternatives, 'ours-gzip' as const, 'ours-before-send' as const, 'stock-noop' as const, 'bound' as const]) {
      ratios[`oursVs_${c}_throughput`] = ours.recordsPerSec / get(run, c).recordsPerSec;
      ratios[`oursVs_${c}_cpu`] = ours.cpuMicrosPerRecord / get(run, c).cpuMicrosPerRecord;
    }
    return { ...ratios, fastestAlternative: fastest.contender };
  });
  const ratioKeys = Object.keys(ratioRuns[0] ?? {}).filter((k) => k !== 'fastestAlternative');
  const ratios = Object.fromEntries(ratioKeys.map((k) => [k, median(ratioRuns.map((r) => (r as unknown as Record<string, number>)[k]!))]));
  const floors = runs.map((run) => get(run, 'floor').floorSplit).filter((x) => x !== undefined);
  const floorSplit =
    floors.length > 0
      ? {
          stringifyMicrosPerRecord: median(floors.map((x) => x.stringifyMicrosPerRecord)),
          gzipMicrosPerRecord: median(floors.map((x) => x.gzipMicrosPerRecord)),
          gzipFastestMicrosPerRecord: median(floors.map((x) => x.gzipFastestMicrosPerRecord)),
          zstdMicrosPerRecord: median(floors.map((x) => x.zstdMicrosPerRecord)),
          wireBytesPerRecord: median(floors.map((x) => x.wireBytes / runs[0]![0]!.records)),
          wireBytesFastestPerRecord: median(floors.map((x) => x.wireBytesFastest / runs[0]![0]!.records)),
          wireBytesZstdPerRecord: median(floors.map((x) => x.wireBytesZstd / runs[0]![0]!.records)),
        }
      : undefined;
  const fastestAlternative = mode(ratioRuns.map((r) => r.fastestAlternative));
  const fastestAlternativeRuns = ratioRuns.filter((r) => r.fastestAlternative === fastestAlternative).length;
  return { runs, perContender, ...(floorSplit ? { floorSplit } : {}), ratioRuns, ratios, fastestAlternative, fastestAlternativeRuns };
}

function summarizeEmitCost(runs: EmitCostResult[][], contenders: EmitContender[]): NonNullable<BenchResults['emitCost']> {
  const get = (run: EmitCostResult[], c: EmitContender) => run.find((x) => x.contender === c)!;
  const perContender = Object.fromEntries(contenders.map((c) => [c, { nsPerEmit: median(runs.map((run) => get(run, c).nsPerEmit)) }]));
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

function summarizeSpanCost(runs: SpanCostResult[][], contenders: SpanContender[]): NonNullable<BenchResults['spanCost']> {
  const get = (run: SpanCostResult[], c: SpanContender) => run.find((x) => x.contender === c)!;
  const perContender = Object.fromEntries(contenders.map((c) => [c, { nsPerSpan: median(runs.map((run) => get(run, c).nsPerSpan)) }]));
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

function summarizeLoopDelay(runs: LoopDelayResult[][], contenders: LoopDelayContender[]): NonNullable<BenchResults['loopDelay']> {
  const get = (run: LoopDelayResult[], c: LoopDelayContender) => run.find((x) => x.contender === c)!;
  const perContender = Object.fromEntries(
    contenders.map((c) => {
      const rs = runs.map((run) => get(run, c));
      const backlog = rs.map((x) => x.backlog).filter((b) => b !== undefined);
      return [
        c,
        {
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
        },
      ];
    }),
  );
  const steady = (run: LoopDelayResult[], c: LoopDelayContender) => get(run, c).steady.p99Ms;
  const backlog = (run: LoopDelayResult[], c: LoopDelayContender) => get(run, c).backlog?.p99Ms ?? Number.NaN;
  const ratioRuns = runs.map((run) => ({
    oursGzipVsOtlpSteadyP99: steady(run, 'ours-gzip') / steady(run, 'otlp-http'),
    oursGzipVsOtlpBacklogP99: backlog(run, 'ours-gzip') / backlog(run, 'otlp-http'),
    oursVsOtlpSteadyP99: steady(run, 'ours') / steady(run, 'otlp-http'),
    oursVsOtlpBacklogP99: backlog(run, 'ours') / backlog(run, 'otlp-http'),
  }));
  const ratioKeys = ['oursGzipVsOtlpSteadyP99', 'oursGzipVsOtlpBacklogP99', 'oursVsOtlpSteadyP99', 'oursVsOtlpBacklogP99'] as const;
  const ratios = Object.fromEntries(ratioKeys.map((k) => [k, median(ratioRuns.map((r) => r[k]))])) as Record<(typeof ratioKeys)[number], number>;
  return { runs, perContender, ratioRuns, ratios };
}

function evaluateGoals(results: BenchResults, records: number): Goal[] {
  const goals: Goal[] = [];
  const t = results.throughput;
  if (t) {
    const x = t.ratios.oursVsFastestAlternativeThroughput!;
    goals.push({ scenario: 1, goal: 'records/s ≥ 1.5 × the fastest alternative (ours with its default zstd)', measured: `${fmt(x, 2)}×`, met: x >= 1.5 });
    const c = t.ratios.oursVsFloorCpu!;
    goals.push({ scenario: 1, goal: 'CPU per record ≤ 1.3 × the floor (stringify + gzip level 6; ours with its default zstd)', measured: `${fmt(c, 2)}×`, met: c <= 1.3 });
    const lost = Object.entries(t.perContender).filter(([, v]) => !v.allDelivered).map(([k]) => k);
    goals.push({ scenario: 1, goal: `every contender delivers all ${records} records`, measured: lost.length === 0 ? 'all delivered' : `not delivered: ${lost.join(', ')}`, met: lost.length === 0 });
  }
  const e = results.emitCost;
  if (e) goals.push({ scenario: 2, goal: 'ns per emit ≤ 1.1 × stock BatchLogRecordProcessor', measured: `${fmt(e.ratios.oursVsStock, 2)}×`, met: e.ratios.oursVsStock <= 1.1 });
  const l = results.loopDelay;
  if (l) {
    const p99 = l.perContender['ours-gzip']?.steadyP99Ms ?? Number.NaN;
    goals.push({ scenario: 4, goal: 'p99 event-loop delay ≤ 5 ms (steady export, ours with gzip batches)', measured: `${fmt(p99, 2)} ms`, met: p99 <= 5 });
  }
  const o = results.outage;
  if (o) {
    goals.push({
      scenario: 5,
      goal: 'memory bounded: pending never above the configured caps (queue + retry buffer + one batch)',
      measured: `max pending ${o.maxPending.toLocaleString('en-US')} ≤ ${o.pendingCap.toLocaleString('en-US')}; heap max ${o.memory.outageMaxHeapMiB} MiB`,
      met: o.checks.pendingWithinCaps,
    });
    goals.push({
      scenario: 5,
      goal: `memory flat during the outage (2nd-half live heap max ≤ 1.2 × 1st half; live: after a full GC, every ${Math.round(o.memory.outageLiveIntervalMs / 100) / 10} s)`,
      measured: `live heap max ${o.memory.outageFirstHalfMaxLiveHeapMiB} → ${o.memory.outageSecondHalfMaxLiveHeapMiB} MiB (1st → 2nd half)`,
      met: o.checks.heapFlat,
    });
    const kept = o.checks.nothingPending && o.checks.sinkMatchesDelivered && o.checks.accountingHolds;
    goals.push({
      scenario: 5,
      goal: 'everything kept is delivered after recovery',
      measured: `pending ${o.statsFinal.pending}, delivered ${o.statsFinal.delivered} = sink ${Object.values(o.sink.events).reduce((a, b) => a + b, 0)}`,
      met: kept,
    });
  }
  return goals;
}

await main();

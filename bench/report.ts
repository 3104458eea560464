// The shape of bench/results/latest.json, and its rendering as Markdown tables.

import type { CorrectnessResult } from './correctness.ts';
import type { EmitCostResult } from './emit-cost.ts';
import type { LoopDelayResult } from './loop-delay.ts';
import type { OutageResult } from './outage.ts';
import type { SpanCostResult } from './span-cost.ts';
import type { ThroughputResult } from './throughput.ts';

export interface Goal {
  scenario: number;
  goal: string;
  measured: string;
  met: boolean;
}

export interface ThroughputSummary {
  recordsPerSec: number;
  cpuMicrosPerRecord: number;
  mainThreadCpuMicrosPerRecord: number;
  /** V8's helper threads (parallel and concurrent GC, background compilation), µs/record; NaN off Linux. */
  v8HelpersCpuMicrosPerRecord: number;
  /** libuv's thread pool (zlib and zstd compression), µs/record; NaN off Linux. */
  libuvPoolCpuMicrosPerRecord: number;
  wallMs: number;
  minRecordsPerSec: number;
  maxRecordsPerSec: number;
  delivered: number[];
  allDelivered: boolean;
  sinkCpuMs: number;
  requests: number;
  /** Body bytes per record as sent (the floor: its gzip output). */
  wireBytesPerRecord: number;
  /** Content-Encoding of the requests the sink received, e.g. 'zstd' (counts when mixed). */
  encoding: string;
  /** Log pipelines: while the producer emits, then while the flush exports what is queued (medians). */
  phases?: { emittingMs: number; emittingBusy: number; flushingMs: number; flushingBusy: number };
}

export interface LoopDelaySummary {
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

export interface BenchResults {
  meta: {
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
    batchSize: number;
    durationSeconds: number;
    /** os.loadavg() (1, 5, 15 min): other work on the machine at the start and end of the run. */
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  correctness?: CorrectnessResult;
  throughput?: {
    runs: ThroughputResult[][];
    perContender: Record<string, ThroughputSummary>;
    /** Median over runs of the floor's CPU split. */
    floorSplit?: {
      stringifyMicrosPerRecord: number;
      gzipMicrosPerRecord: number;
      gzipFastestMicrosPerRecord: number;
      /** zstd level 1, our default codec (untimed reference pass). */
      zstdMicrosPerRecord: number;
      wireBytesPerRecord: number;
      wireBytesFastestPerRecord: number;
      wireBytesZstdPerRecord: number;
    };
    ratioRuns: Record<string, number | string>[];
    ratios: Record<string, number>;
    /** Fastest of the alternatives (not ours, not the floor) in most runs, and in how many. */
    fastestAlternative: string;
    fastestAlternativeRuns: number;
  };
  emitCost?: {
    runs: EmitCostResult[][];
    perContender: Record<string, { nsPerEmit: number }>;
    ratioRuns: { oursVsStock: number; oursOverNoopNs: number; stockOverNoopNs: number }[];
    ratios: { oursVsStock: number; oursOverNoopNs: number; stockOverNoopNs: number };
  };
  spanCost?: {
    runs: SpanCostResult[][];
    perContender: Record<string, { nsPerSpan: number }>;
    ratioRuns: { oursVsNone: number; onEndNsPerSpan: number }[];
    ratios: { oursVsNone: number; onEndNsPerSpan: number };
  };
  loopDelay?: {
    runs: LoopDelayResult[][];
    perContender: Record<string, LoopDelaySummary>;
    /** oursGzip…: the goal's row (gzip batches); ours…: the default codec (zstd). */
    ratioRuns: LoopDelayRatios[];
    ratios: LoopDelayRatios;
  };
  outage?: OutageResult;
  goals: Goal[];
}

const f = (n: number | undefined, digits = 1): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

/** A Markdown table; `align` has one letter per column, l or r (default: the first left, the rest right). */
function table(head: string[], rows: string[][], align?: string): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rule = head.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? ':---' : '---:'));
  return [line(head), line(rule), ...rows.map(line)].join('\n');
}

export const CONTENDER_LABELS: Record<string, string> = {
  ours: 'ours (PostHogLogRecordProcessor, default zstd)',
  'ours-gzip': 'ours with gzip',
  'ours-before-send': 'ours with a beforeSend hook',
  'otlp-http': 'OTLP http/json + BLRP',
  'otlp-proto': 'OTLP http/protobuf + BLRP',
  'posthog-node': 'posthog-node (capture v1)',
  floor: 'floor: JSON.stringify + gzip',
  'stock-noop': 'stock BLRP + no-op exporter',
  bound: 'bound: BLRP + our mapping, zstd, one POST per batch',
  'noop-processor': 'SDK + processor that does nothing',
  none: 'no span processor',
};

const label = (c: string) => CONTENDER_LABELS[c] ?? c;

export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(`Node ${m.node} (V8 ${m.v8}), ${m.cpu} × ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}. Code measured: ${m.srcCommit}. ${m.date}.`);
  out.push(`Load average (1/5/15 min) at start ${m.loadAverageAtStart.join(' / ')}, at end ${m.loadAverageAtEnd.join(' / ')}.`);
  out.push(`${m.quick ? 'Quick' : 'Full'} run: ${m.records.toLocaleString('en-US')} records, median of ${m.runs} runs; ratios are medians of the per-run side-by-side ratios.`);

  if (r.goals.length > 0) {
    out.push('\n### Goals\n');
    out.push(table(['scenario', 'goal', 'measured', 'met'], r.goals.map((g) => [String(g.scenario), g.goal, g.measured, g.met ? 'yes' : '**no**']), 'lllr'));
  }

  const t = r.throughput;
  if (t) {
    out.push(`\n### 1. Throughput and CPU per record, end to end (${m.records.toLocaleString('en-US')} records, 512-record batches)\n`);
    const ours = t.perContender.ours;
    const rows = Object.entries(t.perContender).map(([c, s]) => {
      const tr = c === 'ours' ? '1.00×' : c === 'floor' ? '–' : `${f(t.ratios[`oursVs_${c}_throughput`], 2)}×`;
      const cr = c === 'ours' ? '1.00×' : c === 'floor' ? `${f(t.ratios.oursVsFloorCpu, 2)}×` : `${f(t.ratios[`oursVs_${c}_cpu`], 2)}×`;
      return [
        label(c),
        f(s.recordsPerSec, 0),
        `${f(s.minRecordsPerSec, 0)}–${f(s.maxRecordsPerSec, 0)}`,
        f(s.cpuMicrosPerRecord, 2),
        f(s.mainThreadCpuMicrosPerRecord, 2),
        f(s.v8HelpersCpuMicrosPerRecord, 2),
        f(s.libuvPoolCpuMicrosPerRecord, 2),
        tr,
        cr,
        c === 'floor' || c === 'stock-noop' ? '–' : f(s.requests, 0),
        s.encoding ?? 'n/a',
        c === 'stock-noop' ? '–' : f(s.wireBytesPerRecord, 1),
        s.allDelivered ? 'all' : s.delivered.join('/'),
      ];
    });
    out.push(table(['contender', 'records/s', 'range', 'CPU µs/record', 'of which main thread', 'V8 helpers', 'libuv pool', 'ours ÷ it (records/s)', 'ours ÷ it (CPU/record)', 'requests', 'encoding', 'wire bytes/record', 'delivered'], rows, 'lrrrrrrrrrlrr'));
    out.push('\n"ours" is our processor with its defaults (zstd level 1); "ours with gzip" sets POSTHOG_CAPTURE_COMPRESSION=gzip (level 1); every alternative sends gzip. The *ours ÷ it* columns compare the default.');
    const sdk = t.perContender['stock-noop'];
    const floorRow = t.perContender.floor;
    if (sdk && floorRow && ours) {
      out.push(
        `\n"stock BLRP + no-op exporter" is the SDK and its batch processor with an exporter that discards each batch: what any exporter behind them pays before doing anything. It takes ${f(sdk.cpuMicrosPerRecord, 2)} µs CPU/record (${f(sdk.cpuMicrosPerRecord / floorRow.cpuMicrosPerRecord, 2)}× the floor's ${f(floorRow.cpuMicrosPerRecord, 2)}), and runs at ${f(sdk.recordsPerSec, 0)} records/s with nothing sent. Ours spends ${f(ours.cpuMicrosPerRecord - sdk.cpuMicrosPerRecord, 2)} µs/record above it (medians).`,
      );
    }
    const bound = t.perContender.bound;
    const fastestRow = t.fastestAlternative === undefined ? undefined : t.perContender[t.fastestAlternative];
    if (bound && ours && floorRow && fastestRow) {
      out.push(
        `\n"bound" is a limit, not an alternative: the batch processor, then an exporter that does only what no design of ours can skip. It maps with our mapping, writes the request body into one buffer, compresses it with our codec (zstd level 1) and POSTs it, one request per batch, acknowledged when the sink answers. It keeps no per-event results, retries, checks or counters. It runs at ${f(bound.recordsPerSec, 0)} records/s (${f(bound.recordsPerSec / fastestRow.recordsPerSec, 2)}× the fastest alternative's median) for ${f(bound.cpuMicrosPerRecord, 2)} µs CPU/record (${f(bound.cpuMicrosPerRecord / floorRow.cpuMicrosPerRecord, 2)}× the floor). Ours reaches ${f(t.ratios.oursVs_bound_throughput, 2)}× its records/s at ${f(t.ratios.oursVs_bound_cpu, 2)}× its CPU per record: the difference is what delivery bookkeeping costs.`,
      );
    }
    const phased = Object.entries(t.perContender).filter(([c, s]) => s.phases !== undefined && c !== 'stock-noop');
    if (phased.length > 0) {
      out.push('\nThe timed window in two phases: while the producer emits, and then while the flush exports what is still queued. *Busy* is the share of the phase the main thread ran (event-loop utilisation).\n');
      out.push(
        table(
          ['contender', 'emitting ms', 'busy', 'flushing ms', 'busy'],
          phased.map(([c, s]) => [label(c), f(s.phases!.emittingMs, 0), `${f(100 * s.phases!.emittingBusy, 0)} %`, f(s.phases!.flushingMs, 0), `${f(100 * s.phases!.flushingBusy, 0)} %`]),
          'lrrrr',
        ),
      );
    }
    const fastest = t.fastestAlternative === undefined ? 'the fastest alternative' : `the fastest alternative (${label(t.fastestAlternative)}, fastest in ${t.fastestAlternativeRuns} of ${t.runs.length} runs)`;
    if (ours) out.push(`\nOurs (default zstd) vs ${fastest}: **${f(t.ratios.oursVsFastestAlternativeThroughput, 2)}×** the records/s; CPU per record **${f(t.ratios.oursVsFloorCpu, 2)}×** the floor.`);
    const hooked = t.perContender['ours-before-send'];
    if (hooked && ours) {
      out.push(
        `"ours with a beforeSend hook" sets one property to undefined in every event: the hook gets a plain object parsed from the event's JSON, and what it returns is serialised again. It takes ${f(hooked.cpuMicrosPerRecord - ours.cpuMicrosPerRecord, 2)} µs/record more than ours (medians); ours without the hook runs at ${f(t.ratios['oursVs_ours-before-send_throughput'], 2)}× its records/s.`,
      );
    }
    if (t.perContender['ours-gzip']) out.push(`For information, ours with gzip: ${f(t.ratios.oursGzipVsFastestAlternativeThroughput, 2)}× the fastest alternative's records/s; CPU per record ${f(t.ratios.oursGzipVsFloorCpu, 2)}× the floor.`);
    const split = t.floorSplit;
    if (split) {
      out.push(`The floor's CPU per record splits into JSON.stringify ${f(split.stringifyMicrosPerRecord, 2)} µs and gzip (default level 6) ${f(split.gzipMicrosPerRecord, 2)} µs, ${f(split.wireBytesPerRecord, 1)} bytes/record.`);
      out.push(
        `At gzip level 1 the same batches cost ${f(split.gzipFastestMicrosPerRecord, 2)} µs/record for ${f(split.wireBytesFastestPerRecord, 1)} bytes/record; against a floor of JSON.stringify + gzip level 1, ours with gzip is ${f(t.ratios.oursGzipVsFloorFastestGzipCpu, 2)}× in CPU per record.`,
      );
      if (split.zstdMicrosPerRecord !== undefined) {
        out.push(
          `At zstd level 1 the same batches cost ${f(split.zstdMicrosPerRecord, 2)} µs/record for ${f(split.wireBytesZstdPerRecord, 1)} bytes/record; against a floor of JSON.stringify + zstd level 1 (our default codec), ours is ${f(t.ratios.oursVsFloorZstdCpu, 2)}× in CPU per record.`,
        );
      }
    }
  }

  const e = r.emitCost;
  if (e) {
    out.push('\n### 2. Hot path: `logger.emit()`\n');
    out.push(
      table(
        ['contender', 'ns/emit', 'ours ÷ it'],
        Object.entries(e.perContender).map(([c, s]) => [label(c), f(s.nsPerEmit, 0), c === 'ours' ? '1.00×' : c === 'stock-noop' ? `${f(e.ratios.oursVsStock, 2)}×` : '–']),
      ),
    );
    out.push(`\nAbove the SDK's own record building (a processor that does nothing): ours adds ${f(e.ratios.oursOverNoopNs, 0)} ns per emit, the stock batch processor ${f(e.ratios.stockOverNoopNs, 0)} ns.`);
  }

  const s = r.spanCost;
  if (s) {
    out.push('\n### 3. `PostHogSpanEventProcessor.onEnd` (spans with 3 events)\n');
    out.push(table(['contender', 'ns/span', 'ours ÷ it'], Object.entries(s.perContender).map(([c, x]) => [label(c), f(x.nsPerSpan, 0), c === 'ours' ? '1.00×' : `${f(s.ratios.oursVsNone, 2)}×`])));
    out.push(`\nonEnd adds ${f(s.ratios.onEndNsPerSpan, 0)} ns per span (${f(s.ratios.onEndNsPerSpan / 3, 0)} ns per span event).`);
  }

  const l = r.loopDelay;
  if (l) {
    out.push(`\n### 4. Event-loop delay while exporting (monitorEventLoopDelay, resolution 1 ms)\n`);
    out.push(
      table(
        ['contender', `steady ${m.steadyRate.toLocaleString('en-US')} rec/s: p50 ms`, 'p99 ms', 'max ms', `backlog of ${m.records.toLocaleString('en-US')}: p99 ms`, 'max ms', 'drain ms'],
        Object.entries(l.perContender).map(([c, x]) => [label(c), f(x.steadyP50Ms, 2), f(x.steadyP99Ms, 2), f(x.steadyMaxMs, 1), f(x.backlogP99Ms, 2), f(x.backlogMaxMs, 1), f(x.backlogDrainMs, 0)]),
      ),
    );
    out.push('\nThe goal (gzip batches, as the issue states it) is measured on "ours with gzip"; "ours" is the same processor with its default zstd.');
    out.push(`Ours with gzip ÷ OTLP http/json, p99: steady ${f(l.ratios.oursGzipVsOtlpSteadyP99, 2)}×, backlog ${f(l.ratios.oursGzipVsOtlpBacklogP99, 2)}×. Ours (default zstd) ÷ OTLP http/json: steady ${f(l.ratios.oursVsOtlpSteadyP99, 2)}×, backlog ${f(l.ratios.oursVsOtlpBacklogP99, 2)}×.`);
  }

  const o = r.outage;
  if (o) {
    out.push(`\n### 5. ${o.outageSeconds} s capture outage (503) at ${o.rate.toLocaleString('en-US')} records/s, default settings (zstd)\n`);
    const sinkEvents = Object.values(o.sink.events).reduce((a, b) => a + b, 0);
    out.push(
      table(
        ['figure', 'value'],
        [
          ['records emitted', o.emitted.toLocaleString('en-US')],
          ['heapUsed max: healthy / outage / final (after GC)', `${o.memory.healthyMaxHeapMiB} / ${o.memory.outageMaxHeapMiB} / ${o.memory.finalHeapMiB} (${o.memory.finalHeapAfterGcMiB}) MiB`],
          ['rss max: healthy / outage / final', `${o.memory.healthyMaxRssMiB} / ${o.memory.outageMaxRssMiB} / ${o.memory.finalRssMiB} MiB`],
          ['heapUsed max, outage 1st half → 2nd half', `${o.memory.outageFirstHalfMaxHeapMiB} → ${o.memory.outageSecondHalfMaxHeapMiB} MiB`],
          [`live heap (after a full GC, every ${f(o.memory.outageLiveIntervalMs / 1000, 2).replace(/\.?0+$/, '')} s of the outage)`, o.memory.outageLiveHeapMiB.map((x) => x.heapMiB).join(', ') + ' MiB'],
          ['pending: max during the run / at recovery / default cap', `${o.maxPending.toLocaleString('en-US')} / ${o.statsAtRecovery.pending.toLocaleString('en-US')} / ${o.pendingCap.toLocaleString('en-US')}`],
          ['retry buffer at recovery (getStats().retryBuffered)', String((o.statsAtRecovery as { retryBuffered?: number }).retryBuffered ?? 'n/a')],
          ['time to drain after recovery', o.drainMs === undefined ? 'did not drain' : `${f(o.drainMs, 0)} ms`],
          ['getStats() after recovery + forceFlush', `\`${JSON.stringify(o.statsFinal)}\``],
          ['sink: events accepted / requests answered 503', `${sinkEvents.toLocaleString('en-US')} / ${o.sink.rejected503.toLocaleString('en-US')}`],
          ['sink: accepted requests by encoding', Object.entries(o.sink.encodings?.v1 ?? {}).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ') || 'none'],
          ['checks', Object.entries(o.checks).map(([k, v]) => `${k} ${v ? 'yes' : '**no**'}`).join(', ')],
        ],
        'll',
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

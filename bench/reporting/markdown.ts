// A run's results as Markdown: the goals, then one section per scenario.

import { sumValues } from '../harness/statistics.ts';
import type { EndToEndSummary } from '../suites/end-to-end-summary.ts';
import { label } from './labels.ts';
import type { BenchResults } from './results.ts';

const f = (n: number | undefined, digits = 1): string =>
  n === undefined || !Number.isFinite(n)
    ? 'n/a'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const times = (n: number | undefined) => `${f(n, 2)}×`;

/** A Markdown table; `align` has one letter per column, l or r (default: the first left, the rest right). */
function table(head: string[], rows: string[][], align?: string): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rule = head.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? ':---' : '---:'));
  return [line(head), line(rule), ...rows.map(line)].join('\n');
}

/** The contenders' table of scenario 1 or 6, and its phases. */
function endToEndTables(t: EndToEndSummary): string[] {
  const out: string[] = [];
  const ratioOf = (c: string, figure: string) => (c === 'ours' ? '1.00×' : c === 'floor' ? '–' : times(t.ratios[`oursVs_${c}_${figure}`]));
  const rows = Object.entries(t.perContender).map(([c, s]) => [
    label(c),
    f(s.recordsPerSec, 0),
    `${f(s.minRecordsPerSec, 0)}–${f(s.maxRecordsPerSec, 0)}`,
    f(s.cpuMicrosPerRecord, 2),
    f(s.mainThreadCpuMicrosPerRecord, 2),
    f(s.gcPauseMicrosPerRecord, 2),
    f(s.v8HelpersCpuMicrosPerRecord, 2),
    f(s.libuvPoolCpuMicrosPerRecord, 2),
    ratioOf(c, 'throughput'),
    c === 'floor' ? times(t.ratios.oursVsFloorCpu) : ratioOf(c, 'cpu'),
    ratioOf(c, 'v8Helpers'),
    c === 'floor' || c === 'stock-noop' ? '–' : f(s.requests, 0),
    s.encoding,
    c === 'stock-noop' ? '–' : f(s.wireBytesPerRecord, 1),
    s.allDelivered ? 'all' : s.delivered.join('/'),
  ]);
  out.push(
    table(
      [
        'contender',
        'records/s',
        'range',
        'CPU µs/record',
        'main thread',
        'of which GC pauses',
        'V8 helpers (GC)',
        'libuv pool',
        'ours ÷ it: records/s',
        'CPU',
        'V8 helpers',
        'requests',
        'encoding',
        'wire bytes/record',
        'delivered',
      ],
      rows,
      'lrrrrrrrrrrrlrr',
    ),
  );
  const phased = Object.entries(t.perContender).filter(([c, s]) => s.phases !== undefined && c !== 'stock-noop');
  if (phased.length > 0) {
    out.push(
      "\nThe timed window in two phases: while the producer emits, and then while the flush exports what is still queued. *Busy* is the share of the phase the main thread ran (event-loop utilisation); *V8 helpers* is the CPU of V8's helper threads in the phase, per record of the run (garbage collection, and the optimising compiler's background work).\n",
    );
    out.push(
      table(
        ['contender', 'emitting ms', 'busy', 'V8 helpers µs/record', 'flushing ms', 'busy', 'V8 helpers µs/record'],
        phased.map(([c, s]) => [
          label(c),
          f(s.phases!.emittingMs, 0),
          `${f(100 * s.phases!.emittingBusy, 0)} %`,
          f(s.phases!.emittingV8HelpersMicrosPerRecord, 2),
          f(s.phases!.flushingMs, 0),
          `${f(100 * s.phases!.flushingBusy, 0)} %`,
          f(s.phases!.flushingV8HelpersMicrosPerRecord, 2),
        ]),
        'lrrrrrr',
      ),
    );
  }
  return out;
}

/** The notes under the table: the references, the hook, the codecs, the floor. */
function endToEndNotes(t: EndToEndSummary): string[] {
  const out: string[] = [];
  const ours = t.perContender.ours;
  const proto = t.perContender['otlp-proto'];
  if (ours && proto) {
    out.push(
      `\nOurs ÷ OTLP http/protobuf: **${times(t.ratios['oursVs_otlp-proto_throughput'])}** the records/s, **${times(t.ratios['oursVs_otlp-proto_cpu'])}** its CPU per record, **${times(t.ratios['oursVs_otlp-proto_v8Helpers'])}** its V8 helper (GC) CPU per record (${f(ours.v8HelpersCpuMicrosPerRecord, 2)} against ${f(proto.v8HelpersCpuMicrosPerRecord, 2)} µs).`,
    );
  }
  const sdk = t.perContender['stock-noop'];
  if (sdk && ours) {
    out.push(
      `\n"stock BLRP + no-op exporter" is the SDK and its batch processor with an exporter that discards each batch: what any exporter behind them pays before doing anything. It takes ${f(sdk.cpuMicrosPerRecord, 2)} µs CPU/record (V8 helpers ${f(sdk.v8HelpersCpuMicrosPerRecord, 2)}) and runs at ${f(sdk.recordsPerSec, 0)} records/s with nothing sent. Ours spends ${f(ours.cpuMicrosPerRecord - sdk.cpuMicrosPerRecord, 2)} µs/record above it (medians).`,
    );
  }
  const bound = t.perContender.bound;
  if (bound && ours) {
    out.push(
      `\n"bound" is a limit, not an alternative: the batch processor, then an exporter that maps with our mapping, writes the request body into one buffer, compresses it with our codec (zstd level 1) and POSTs it, one request per batch, acknowledged when the sink answers, and does nothing else (no per-event results, retries, checks or counters). It runs at ${f(bound.recordsPerSec, 0)} records/s for ${f(bound.cpuMicrosPerRecord, 2)} µs CPU/record. Ours reaches ${times(t.ratios.oursVs_bound_throughput)} its records/s at ${times(t.ratios.oursVs_bound_cpu)} its CPU per record: the difference is what delivery bookkeeping costs.`,
    );
  }
  if (t.fastestAlternative !== '' && ours) {
    out.push(
      `\nFastest alternative: ${label(t.fastestAlternative)}, in ${t.fastestAlternativeRuns} of ${t.runs.length} runs; ours ran at ${times(t.ratios.oursVsFastestAlternativeThroughput)} the fastest alternative's records/s of each run.`,
    );
  }
  const hooked = t.perContender['ours-before-send'];
  if (hooked && ours) {
    out.push(
      `"ours with a beforeSend hook" sets one property to undefined in every event: the hook gets a plain object parsed from the event's JSON, and what it returns is serialised again. It takes ${f(hooked.cpuMicrosPerRecord - ours.cpuMicrosPerRecord, 2)} µs/record more than ours (medians); ours without the hook runs at ${times(t.ratios['oursVs_ours-before-send_throughput'])} its records/s.`,
    );
  }
  if (t.perContender['ours-gzip'])
    out.push(
      `Ours with gzip: ours (zstd) runs at ${times(t.ratios['oursVs_ours-gzip_throughput'])} its records/s, for ${times(t.ratios['oursVs_ours-gzip_cpu'])} its CPU per record.`,
    );
  const split = t.floorSplit;
  if (split) {
    out.push(
      `The floor (JSON.stringify + gzip level 6 of ready-made events, no pipeline, nothing sent) splits into JSON.stringify ${f(split.stringifyMicrosPerRecord, 2)} µs and gzip ${f(split.gzipMicrosPerRecord, 2)} µs per record, ${f(split.wireBytesPerRecord, 1)} bytes/record; ours uses ${times(t.ratios.oursVsFloorCpu)} its CPU per record.`,
    );
    out.push(
      `The same batches cost ${f(split.gzipFastestMicrosPerRecord, 2)} µs/record at gzip level 1 (${f(split.wireBytesFastestPerRecord, 1)} bytes/record) and ${f(split.zstdMicrosPerRecord, 2)} µs/record at zstd level 1 (${f(split.wireBytesZstdPerRecord, 1)} bytes/record); against JSON.stringify + zstd level 1, ours is ${times(t.ratios.oursVsFloorZstdCpu)} in CPU per record, and ours with gzip ${times(t.ratios.oursGzipVsFloorFastestGzipCpu)} against JSON.stringify + gzip level 1.`,
    );
  }
  return out;
}

export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(
    `Node ${m.node} (V8 ${m.v8}), ${m.cpu} × ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}. Code measured: ${m.srcCommit}. ${m.date}.`,
  );
  out.push(`Load average (1/5/15 min) at start ${m.loadAverageAtStart.join(' / ')}, at end ${m.loadAverageAtEnd.join(' / ')}.`);
  out.push(
    `${m.quick ? 'Quick' : 'Full'} run (\`${m.command}\`, ${m.durationSeconds} s): ${m.records.toLocaleString('en-US')} records, median of ${m.runs} runs; ratios are medians of the per-run side-by-side ratios. Trace contexts: ${m.contexts === 'pooled' ? '1,000 built up front and cycled (the earlier workload)' : 'fresh per request, 1–3 records per request'}.`,
  );

  if (r.goals.length > 0) {
    out.push('\n### Goals\n');
    out.push(
      table(
        ['scenario', 'goal', 'measured', 'met'],
        r.goals.map((g) => [g.scenario, g.goal, g.measured, g.met ? 'met' : '**not met**']),
        'lllr',
      ),
    );
  }

  const steady = r.steady;
  if (steady) {
    out.push(
      `\n### 1. Steady flow: throughput and CPU per record, end to end (${m.records.toLocaleString('en-US')} records, 512-record batches)\n`,
    );
    out.push(...endToEndTables(steady), ...endToEndNotes(steady));
  }

  const burst = r.burst;
  if (burst) {
    out.push(`\n### 6. Burst: ${m.records.toLocaleString('en-US')} records in one synchronous loop, then forceFlush()\n`);
    out.push(...endToEndTables(burst), ...endToEndNotes(burst));
  }

  const e = r.emitCost;
  if (e) {
    out.push('\n### 2. Hot path: `logger.emit()`\n');
    out.push(
      table(
        ['contender', 'ns/emit', 'ours ÷ it'],
        Object.entries(e.perContender).map(([c, s]) => [
          label(c),
          f(s.nsPerEmit, 0),
          c === 'ours' ? '1.00×' : c === 'stock-noop' ? times(e.ratios.oursVsStock) : '–',
        ]),
      ),
    );
    out.push(
      `\nAbove the SDK's own record building (a processor that does nothing): ours adds ${f(e.ratios.oursOverNoopNs, 0)} ns per emit, the stock batch processor ${f(e.ratios.stockOverNoopNs, 0)} ns.`,
    );
  }

  const s = r.spanCost;
  if (s) {
    out.push('\n### 3. `PostHogSpanEventProcessor.onEnd` (spans with 3 events)\n');
    out.push(
      table(
        ['contender', 'ns/span', 'ours ÷ it'],
        Object.entries(s.perContender).map(([c, x]) => [label(c), f(x.nsPerSpan, 0), c === 'ours' ? '1.00×' : times(s.ratios.oursVsNone)]),
      ),
    );
    out.push(`\nonEnd adds ${f(s.ratios.onEndNsPerSpan, 0)} ns per span (${f(s.ratios.onEndNsPerSpan / 3, 0)} ns per span event).`);
  }

  const l = r.loopDelay;
  if (l) {
    out.push(`\n### 4. Event-loop delay while exporting (monitorEventLoopDelay, resolution 1 ms)\n`);
    out.push(
      table(
        [
          'contender',
          `steady ${m.steadyRate.toLocaleString('en-US')} rec/s: p50 ms`,
          'p99 ms',
          'max ms',
          `backlog of ${m.records.toLocaleString('en-US')}: p99 ms`,
          'max ms',
          'drain ms',
        ],
        Object.entries(l.perContender).map(([c, x]) => [
          label(c),
          f(x.steadyP50Ms, 2),
          f(x.steadyP99Ms, 2),
          f(x.steadyMaxMs, 1),
          f(x.backlogP99Ms, 2),
          f(x.backlogMaxMs, 1),
          f(x.backlogDrainMs, 0),
        ]),
      ),
    );
    out.push('\nThe goal (gzip batches) is measured on "ours with gzip"; "ours" is the same processor with its default zstd.');
    out.push(
      `Ours with gzip ÷ OTLP http/json, p99: steady ${times(l.ratios.oursGzipVsOtlpSteadyP99)}, backlog ${times(l.ratios.oursGzipVsOtlpBacklogP99)}. Ours (default zstd) ÷ OTLP http/json: steady ${times(l.ratios.oursVsOtlpSteadyP99)}, backlog ${times(l.ratios.oursVsOtlpBacklogP99)}.`,
    );
  }

  const o = r.outage;
  if (o) {
    out.push(
      `\n### 5. ${o.outageSeconds} s capture outage (503) at ${o.rate.toLocaleString('en-US')} records/s, default settings (zstd)\n`,
    );
    out.push(
      table(
        ['figure', 'value'],
        [
          ['records emitted', o.emitted.toLocaleString('en-US')],
          [
            'heapUsed max: healthy / outage / final (after GC)',
            `${o.memory.healthyMaxHeapMiB} / ${o.memory.outageMaxHeapMiB} / ${o.memory.finalHeapMiB} (${o.memory.finalHeapAfterGcMiB}) MiB`,
          ],
          ['rss max: healthy / outage / final', `${o.memory.healthyMaxRssMiB} / ${o.memory.outageMaxRssMiB} / ${o.memory.finalRssMiB} MiB`],
          [
            'heapUsed max, outage 1st half → 2nd half',
            `${o.memory.outageFirstHalfMaxHeapMiB} → ${o.memory.outageSecondHalfMaxHeapMiB} MiB`,
          ],
          [
            `live heap (after a full GC, every ${f(o.memory.outageLiveIntervalMs / 1000, 2).replace(/\.?0+$/, '')} s of the outage)`,
            o.memory.outageLiveHeapMiB.map((x) => x.heapMiB).join(', ') + ' MiB',
          ],
          [
            'pending: max during the run / at recovery / default cap',
            `${o.maxPending.toLocaleString('en-US')} / ${o.statsAtRecovery.pending.toLocaleString('en-US')} / ${o.pendingCap.toLocaleString('en-US')}`,
          ],
          [
            'retry buffer at recovery (getStats().retryBuffered)',
            String((o.statsAtRecovery as { retryBuffered?: number }).retryBuffered ?? 'n/a'),
          ],
          ['time to drain after recovery', o.drainMs === undefined ? 'did not drain' : `${f(o.drainMs, 0)} ms`],
          ['getStats() after recovery + forceFlush', `\`${JSON.stringify(o.statsFinal)}\``],
          [
            'sink: events accepted / requests answered 503',
            `${sumValues(o.sink.events).toLocaleString('en-US')} / ${o.sink.rejected503.toLocaleString('en-US')}`,
          ],
          [
            'sink: accepted requests by encoding',
            Object.entries(o.sink.encodings?.v1 ?? {})
              .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
              .join(', ') || 'none',
          ],
          [
            'checks',
            Object.entries(o.checks)
              .map(([k, v]) => `${k} ${v ? 'yes' : '**no**'}`)
              .join(', '),
          ],
        ],
        'll',
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

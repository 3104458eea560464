// Medians of each end-to-end contender over its runs, and ours ÷ each other contender, taken
// within each run (measured minutes apart on the same machine) and then as a median over the runs.

import { max, median, min, mode } from '../harness/statistics.ts';
import { encodingLabel } from '../reporting/encoding-label.ts';
import type { EndToEndContender, EndToEndResult } from '../scenarios/end-to-end.ts';

export interface EndToEndContenderSummary {
  recordsPerSec: number;
  cpuMicrosPerRecord: number;
  mainThreadCpuMicrosPerRecord: number;
  /** V8's helper threads (parallel and concurrent GC, background compilation), µs/record; NaN off Linux. */
  v8HelpersCpuMicrosPerRecord: number;
  /** The garbage collector's pauses on the main thread, µs/record (part of the main thread's CPU). */
  gcPauseMicrosPerRecord: number;
  /** Full (mark-compact) collections in the timed window. */
  markCompacts: number;
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
  /** While the producer emits, then while the flush exports what is queued (medians). */
  phases?: {
    emittingMs: number;
    emittingBusy: number;
    /** V8 helper CPU in the phase, µs per record of the run (the two add up to the whole window's). */
    emittingV8HelpersMicrosPerRecord?: number;
    flushingMs: number;
    flushingBusy: number;
    flushingV8HelpersMicrosPerRecord?: number;
  };
}

export interface EndToEndSummary {
  runs: EndToEndResult[][];
  perContender: Record<string, EndToEndContenderSummary>;
  /** Median over runs of the floor's CPU split (steady only). */
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
  /**
   * Per run: `oursVs_<contender>_<figure>` = ours ÷ that contender, for throughput, cpu,
   * v8Helpers and gcPause; floor ratios; and the fastest alternative of the run.
   */
  ratioRuns: Record<string, number | string>[];
  /** Medians of ratioRuns. */
  ratios: Record<string, number>;
  /** Fastest of the alternatives (not ours, not a reference) in most runs, and in how many. */
  fastestAlternative: string;
  fastestAlternativeRuns: number;
}

/** What a user would pick instead: never our own rows, nor a reference. */
export const ALTERNATIVES: readonly EndToEndContender[] = ['otlp-http', 'otlp-proto', 'posthog-node'];

const perRecord = (ms: number | undefined, records: number) => ((ms ?? Number.NaN) * 1000) / records;

/** The figures ours is divided by each other contender's, per run. */
export const RATIO_FIGURES = {
  throughput: (x: EndToEndResult) => x.recordsPerSec,
  cpu: (x: EndToEndResult) => x.cpuMicrosPerRecord,
  v8Helpers: (x: EndToEndResult) => perRecord(x.threadGroupCpuMs?.v8Helpers, x.records),
  gcPause: (x: EndToEndResult) => perRecord(x.gc.pauseMs, x.records),
} as const;

function summarizeContender(c: EndToEndContender, rs: EndToEndResult[]): EndToEndContenderSummary {
  const phased = rs.every((x) => x.phases !== undefined);
  return {
    recordsPerSec: median(rs.map((x) => x.recordsPerSec)),
    cpuMicrosPerRecord: median(rs.map((x) => x.cpuMicrosPerRecord)),
    mainThreadCpuMicrosPerRecord: median(rs.map((x) => x.mainThreadCpuMicrosPerRecord ?? Number.NaN)),
    v8HelpersCpuMicrosPerRecord: median(rs.map(RATIO_FIGURES.v8Helpers)),
    gcPauseMicrosPerRecord: median(rs.map(RATIO_FIGURES.gcPause)),
    markCompacts: median(rs.map((x) => x.gc.markCompacts)),
    libuvPoolCpuMicrosPerRecord: median(rs.map((x) => perRecord(x.threadGroupCpuMs?.libuvPool, x.records))),
    wallMs: median(rs.map((x) => x.wallMs)),
    minRecordsPerSec: min(rs.map((x) => x.recordsPerSec)),
    maxRecordsPerSec: max(rs.map((x) => x.recordsPerSec)),
    delivered: rs.map((x) => x.delivered),
    allDelivered: rs.every((x) => x.delivered === x.records),
    sinkCpuMs: median(rs.map((x) => x.sink?.cpuMs ?? 0)),
    requests: median(rs.map((x) => Object.values(x.sink?.requests ?? {}).reduce((a, b) => a + b, 0))),
    wireBytesPerRecord: median(rs.map((x) => (x.sink?.wireBytes ?? x.floorSplit?.wireBytes ?? 0) / x.records)),
    ...(phased
      ? {
          phases: {
            emittingMs: median(rs.map((x) => x.phases!.emitting.wallMs)),
            emittingBusy: median(rs.map((x) => x.phases!.emitting.mainThreadBusy)),
            flushingMs: median(rs.map((x) => x.phases!.flushing.wallMs)),
            flushingBusy: median(rs.map((x) => x.phases!.flushing.mainThreadBusy)),
            emittingV8HelpersMicrosPerRecord: median(rs.map((x) => perRecord(x.phases!.emitting.v8HelpersMs, x.records))),
            flushingV8HelpersMicrosPerRecord: median(rs.map((x) => perRecord(x.phases!.flushing.v8HelpersMs, x.records))),
          },
        }
      : {}),
    encoding:
      c === 'floor'
        ? 'gzip (level 6, not sent)'
        : c === 'stock-noop'
          ? 'none (not sent)'
          : encodingLabel(rs.map((x) => x.sink).filter((x) => x !== undefined)),
  };
}

function ratiosOfRun(run: EndToEndResult[], contenders: readonly EndToEndContender[]): Record<string, number | string> {
  const get = (c: EndToEndContender) => run.find((x) => x.contender === c)!;
  const ours = get('ours');
  const ratios: Record<string, number | string> = {};
  for (const c of contenders) {
    if (c === 'ours' || c === 'floor') continue;
    for (const [figure, of] of Object.entries(RATIO_FIGURES)) ratios[`oursVs_${c}_${figure}`] = of(ours) / of(get(c));
  }
  const alternatives = ALTERNATIVES.filter((c) => contenders.includes(c)).map(get);
  if (alternatives.length > 0) {
    const fastest = alternatives.reduce((a, b) => (b.recordsPerSec > a.recordsPerSec ? b : a));
    ratios.oursVsFastestAlternativeThroughput = ours.recordsPerSec / fastest.recordsPerSec;
    ratios.fastestAlternative = fastest.contender;
  }
  if (contenders.includes('floor')) {
    const floor = get('floor');
    ratios.oursVsFloorCpu = ours.cpuMicrosPerRecord / floor.cpuMicrosPerRecord;
    const split = floor.floorSplit;
    if (split) {
      ratios.oursVsFloorZstdCpu = ours.cpuMicrosPerRecord / (split.stringifyMicrosPerRecord + split.zstdMicrosPerRecord);
      if (contenders.includes('ours-gzip')) {
        const oursGzip = get('ours-gzip');
        ratios.oursGzipVsFloorCpu = oursGzip.cpuMicrosPerRecord / floor.cpuMicrosPerRecord;
        ratios.oursGzipVsFloorFastestGzipCpu =
          oursGzip.cpuMicrosPerRecord / (split.stringifyMicrosPerRecord + split.gzipFastestMicrosPerRecord);
      }
    }
  }
  return ratios;
}

export function summarizeEndToEnd(runs: EndToEndResult[][], contenders: readonly EndToEndContender[]): EndToEndSummary {
  const perContender = Object.fromEntries(
    contenders.map((c) => [
      c,
      summarizeContender(
        c,
        runs.map((run) => run.find((x) => x.contender === c)!),
      ),
    ]),
  );
  const ratioRuns = runs.map((run) => ratiosOfRun(run, contenders));
  const ratioKeys = Object.keys(ratioRuns[0] ?? {}).filter((k) => k !== 'fastestAlternative');
  const ratios = Object.fromEntries(ratioKeys.map((k) => [k, median(ratioRuns.map((r) => r[k] as number))]));
  const records = runs[0]?.[0]?.records ?? Number.NaN;
  const floors = runs.flatMap((run) => run.filter((x) => x.contender === 'floor').map((x) => x.floorSplit)).filter((x) => x !== undefined);
  const floorSplit: EndToEndSummary['floorSplit'] =
    floors.length > 0
      ? {
          stringifyMicrosPerRecord: median(floors.map((x) => x.stringifyMicrosPerRecord)),
          gzipMicrosPerRecord: median(floors.map((x) => x.gzipMicrosPerRecord)),
          gzipFastestMicrosPerRecord: median(floors.map((x) => x.gzipFastestMicrosPerRecord)),
          zstdMicrosPerRecord: median(floors.map((x) => x.zstdMicrosPerRecord)),
          wireBytesPerRecord: median(floors.map((x) => x.wireBytes / records)),
          wireBytesFastestPerRecord: median(floors.map((x) => x.wireBytesFastest / records)),
          wireBytesZstdPerRecord: median(floors.map((x) => x.wireBytesZstd / records)),
        }
      : undefined;
  const fastest = ratioRuns.map((r) => r.fastestAlternative).filter((x) => typeof x === 'string');
  const fastestAlternative = fastest.length > 0 ? mode(fastest) : '';
  return {
    runs,
    perContender,
    ...(floorSplit ? { floorSplit } : {}),
    ratioRuns,
    ratios,
    fastestAlternative,
    fastestAlternativeRuns: fastest.filter((x) => x === fastestAlternative).length,
  };
}

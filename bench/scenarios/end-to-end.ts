// Scenarios 1 (steady) and 6 (burst), one contender in this (fresh) process: emit → batch → map →
// serialize → compress → POST, end to end, timed from the first emit until the sink has
// acknowledged everything.
//   steady  the producer emits one batch's worth of records (512), then yields to the event loop,
//           so the exporter runs alongside it as it would in an application
//   burst   the producer emits every record in one synchronous loop, then calls forceFlush(): the
//           batch processor drains the whole queue, each batch waiting for the one before
// Compression: ours with its default (zstd level 1), ours-gzip (gzip level 1), every alternative gzip.
// Queues are sized to the run, so no contender drops for lack of room. A short warm-up through a
// throw-away instance of the same pipeline comes first (JIT, connection pool), emitted as in the
// steady scenario; the sink's counters are reset after it.

import type { EventLoopUtilization } from 'node:perf_hooks';
import type { PostHogStats } from '../../src/delivery/ledger.ts';
import { runFloor, type FloorSplit } from '../contenders/floor.ts';
import { blrpSettings, buildLogPipeline, plainStats, type LogContender } from '../contenders/log-pipelines.ts';
import { captureRecord, posthogNodeClient, posthogNodeSettings } from '../contenders/posthog-node.ts';
import type { SinkStats } from '../harness/sink.ts';
import { sinkControl } from '../harness/sink-control.ts';
import { sumValues } from '../harness/statistics.ts';
import { threadGroupCpuMs, threadNanos, timed, type ThreadTimes, type Timing } from '../harness/timing.ts';
import { yieldToLoop } from '../harness/waiting.ts';
import { BATCH_SIZE, logRecord } from '../workload/records.ts';

export type EndToEndContender =
  'ours' | 'ours-gzip' | 'ours-before-send' | 'otlp-http' | 'otlp-proto' | 'posthog-node' | 'floor' | 'stock-noop' | 'bound';

export type Producer = 'steady' | 'burst';

export interface EndToEndJob {
  producer: Producer;
  contender: EndToEndContender;
  records: number;
  sinkUrl: string;
}

export interface EndToEndResult extends Timing {
  producer: Producer;
  contender: EndToEndContender;
  records: number;
  recordsPerSec: number;
  cpuMicrosPerRecord: number;
  /** Main JS thread's share of the CPU (the rest ran on libuv's pool and V8's helper threads). */
  mainThreadCpuMicrosPerRecord?: number;
  /** Events the sink counted during the measured part (the floor and the no-op exporter send nothing: their own count). */
  delivered: number;
  sink?: SinkStats;
  /** Ours only: the processor's getStats() after the flush. */
  stats?: PostHogStats;
  /** Floor only: CPU split between JSON.stringify and gzip, µs per record. */
  floorSplit?: FloorSplit;
  settings: Record<string, unknown>;
  heapUsedAfterMiB: number;
  /** Pipelines: the timed window split where the producer's last emit returns. */
  phases?: { emitting: Phase; flushing: Phase };
}

export interface Phase {
  wallMs: number;
  /** Share of the phase the main thread was running (performance.eventLoopUtilization()). */
  mainThreadBusy: number;
  /** CPU of V8's helper threads (GC) in the phase, ms (Linux only). */
  v8HelpersMs?: number;
}

// Long enough for the exporters' per-batch code to reach the optimising compiler's top tier before
// the timed window: with 2 batches, and again with 100, its background work on that code landed in
// the window (BENCHMARKS.md).
const WARMUP_RECORDS = 300 * BATCH_SIZE;

/** What each contender is configured to send (the sink's per-encoding counts show what it did send). */
const COMPRESSION: Record<EndToEndContender, string> = {
  ours: 'default: zstd level 1',
  'ours-gzip': 'gzip level 1 (POSTHOG_CAPTURE_COMPRESSION=gzip)',
  'ours-before-send': 'default: zstd level 1',
  'otlp-http': "gzip (compression: 'gzip', zlib default level)",
  'otlp-proto': "gzip (compression: 'gzip', zlib default level)",
  'posthog-node': 'gzip (disableCompression: false)',
  floor: 'zlib.gzipSync, default level (6); not sent',
  'stock-noop': 'none: the exporter discards each batch',
  bound: 'zstd level 1, our codec',
};

/** What a contender run measures; runEndToEnd derives the per-record figures. */
type Outcome = Timing & Pick<EndToEndResult, 'sink' | 'stats' | 'floorSplit' | 'phases' | 'settings'> & { sent?: number };

/** Emits records [from, from + count) one batch at a time, yielding between batches. */
async function emitSteadily(emit: (i: number) => void, from: number, count: number): Promise<void> {
  const end = from + count;
  for (let i = from; i < end;) {
    const stop = Math.min(end, i + BATCH_SIZE);
    for (; i < stop; i++) emit(i);
    await yieldToLoop();
  }
}

/** Emits records [from, from + count) in one synchronous loop. */
function emitAtOnce(emit: (i: number) => void, from: number, count: number): void {
  const end = from + count;
  for (let i = from; i < end; i++) emit(i);
}

function emitAs(producer: Producer): (emit: (i: number) => void, from: number, count: number) => Promise<void> {
  return producer === 'steady' ? emitSteadily : async (emit, from, count) => emitAtOnce(emit, from, count);
}

/** Times `emit` then `flush`, and the main thread's busy share in each phase. */
async function timedInPhases(
  emit: () => Promise<void>,
  flush: () => Promise<void>,
): Promise<Timing & { phases: { emitting: Phase; flushing: Phase } }> {
  let start = performance.eventLoopUtilization();
  let emitted = start;
  let flushed = start;
  let threads: (ThreadTimes | undefined)[] = [];
  const timing = await timed(async () => {
    start = performance.eventLoopUtilization();
    threads = [threadNanos()];
    await emit();
    emitted = performance.eventLoopUtilization();
    threads.push(threadNanos());
    await flush();
    flushed = performance.eventLoopUtilization();
    threads.push(threadNanos());
  });
  const phase = (from: EventLoopUtilization, to: EventLoopUtilization, i: number): Phase => {
    const d = performance.eventLoopUtilization(to, from);
    const [before, after] = [threads[i], threads[i + 1]];
    return {
      wallMs: d.idle + d.active,
      mainThreadBusy: d.utilization,
      ...(before && after ? { v8HelpersMs: threadGroupCpuMs(before, after).v8Helpers } : {}),
    };
  };
  return { ...timing, phases: { emitting: phase(start, emitted, 0), flushing: phase(emitted, flushed, 1) } };
}

async function runLogContender(job: EndToEndJob, contender: LogContender): Promise<Outcome> {
  const settings = blrpSettings(job.records + WARMUP_RECORDS);
  // Warm-up on a throw-away pipeline: same code paths, its own connections.
  const warm = buildLogPipeline(contender, job.sinkUrl, settings);
  await emitSteadily((i) => warm.logger.emit(logRecord(i)), job.records, WARMUP_RECORDS);
  await warm.shutdown();
  await sinkControl.reset(job.sinkUrl);

  const pipeline = buildLogPipeline(contender, job.sinkUrl, settings);
  const logger = pipeline.logger;
  const emit = emitAs(job.producer);
  const timing = await timedInPhases(
    () => emit((i) => logger.emit(logRecord(i)), 0, job.records),
    () => pipeline.flush(),
  );
  const stats = pipeline.ours ? plainStats(pipeline.ours.getStats()) : undefined;
  const sink = await sinkControl.stats(job.sinkUrl);
  const discarded = pipeline.noopExported?.();
  await pipeline.shutdown();
  return {
    ...timing,
    sink,
    ...(stats ? { stats } : {}),
    ...(discarded !== undefined ? { sent: discarded } : {}),
    settings: { ...settings, compression: COMPRESSION[job.contender] },
  };
}

async function runPostHogNode(job: EndToEndJob): Promise<Outcome> {
  const settings = posthogNodeSettings(job.sinkUrl, job.records + WARMUP_RECORDS);
  const warm = posthogNodeClient(settings);
  await emitSteadily(captureRecord(warm), job.records, WARMUP_RECORDS);
  await warm.shutdown(120_000);
  await sinkControl.reset(job.sinkUrl);

  const client = posthogNodeClient(settings);
  const capture = captureRecord(client);
  const emit = emitAs(job.producer);
  // shutdown() is posthog-node's flush: it returns once every queued event has been sent.
  const timing = await timedInPhases(
    () => emit(capture, 0, job.records),
    () => client.shutdown(120_000),
  );
  const sink = await sinkControl.stats(job.sinkUrl);
  return {
    ...timing,
    sink,
    settings: { ...settings, host: '(sink)', captureMode: process.env.POSTHOG_CAPTURE_MODE, compression: COMPRESSION['posthog-node'] },
  };
}

export async function runEndToEnd(job: EndToEndJob): Promise<EndToEndResult> {
  let outcome: Outcome;
  let delivered: number;
  switch (job.contender) {
    case 'ours':
    case 'ours-gzip':
    case 'ours-before-send':
    case 'otlp-http':
    case 'otlp-proto':
    case 'bound':
      outcome = await runLogContender(job, job.contender);
      delivered = sumValues(outcome.sink?.events);
      break;
    case 'stock-noop':
      outcome = await runLogContender(job, job.contender);
      delivered = outcome.sent ?? 0;
      break;
    case 'posthog-node':
      outcome = await runPostHogNode(job);
      delivered = sumValues(outcome.sink?.events);
      break;
    case 'floor':
      outcome = {
        ...(await runFloor(job.records, WARMUP_RECORDS)),
        settings: {
          batchSize: BATCH_SIZE,
          compression: COMPRESSION.floor,
          references: 'gzip level 1 and zstd level 1, untimed',
          post: false,
        },
      };
      delivered = outcome.sent ?? 0;
      break;
  }
  const { sent: _sent, ...rest } = outcome;
  return {
    producer: job.producer,
    contender: job.contender,
    records: job.records,
    recordsPerSec: job.records / (outcome.wallMs / 1000),
    cpuMicrosPerRecord: (outcome.cpuMs * 1000) / job.records,
    ...(outcome.mainThreadCpuMs !== undefined ? { mainThreadCpuMicrosPerRecord: (outcome.mainThreadCpuMs * 1000) / job.records } : {}),
    delivered,
    heapUsedAfterMiB: Math.round(process.memoryUsage().heapUsed / 1048576),
    ...rest,
  };
}

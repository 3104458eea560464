// Scenario 1, one contender in this (fresh) process: emit → batch → map → serialize → compress →
// POST, end to end, timed from the first emit until everything is acknowledged by the sink.
// Compression: ours with its default (zstd level 1), ours-gzip (gzip level 1), every alternative gzip.
//
// The producer emits one batch's worth of records (512), then yields to the event loop, so the
// exporter runs alongside it as it would in an application. Queues are sized to the run, so no
// contender drops for lack of room. A short warm-up through a throw-away instance of the same
// pipeline comes first (JIT, connection pool); the sink's counters are reset after it.

import type { EventLoopUtilization } from 'node:perf_hooks';
import { constants, gzipSync, zstdCompressSync, type ZstdOptions } from 'node:zlib';
import { PostHog } from 'posthog-node';
import { cpuMicros, sinkControl, timed, yieldToLoop, type Timing } from './harness.ts';
import { blrpSettings, buildLogPipeline, plainStats, type LogContender } from './pipelines.ts';
import type { SinkStats } from './sink.ts';
import { BATCH_SIZE, BENCH_API_KEY, captureEvent, distinctId, eventName, eventProperties, logRecord } from './workload.ts';
import type { PostHogStats } from '../src/delivery/ledger.ts';

export type ThroughputContender = 'ours' | 'ours-gzip' | 'ours-before-send' | 'otlp-http' | 'otlp-proto' | 'posthog-node' | 'floor' | 'stock-noop' | 'bound';

export interface ThroughputJob {
  contender: ThroughputContender;
  records: number;
  sinkUrl: string;
}

export interface ThroughputResult extends Timing {
  contender: ThroughputContender;
  records: number;
  recordsPerSec: number;
  cpuMicrosPerRecord: number;
  /** Main JS thread's share of the CPU (the rest ran on libuv's pool and V8's helper threads). */
  mainThreadCpuMicrosPerRecord?: number;
  /** Events the sink counted during the measured part (the floor sends nothing: its own count). */
  delivered: number;
  sink?: SinkStats;
  /** Ours only: the processor's getStats() after the flush. */
  stats?: PostHogStats;
  /** Floor only: CPU split between JSON.stringify and gzip, µs per record. */
  floorSplit?: {
    stringifyMicrosPerRecord: number;
    gzipMicrosPerRecord: number;
    wireBytes: number;
    jsonBytes: number;
    /** The same batches gzipped at level 1 (Z_BEST_SPEED), untimed pass after the measured one. */
    gzipFastestMicrosPerRecord: number;
    wireBytesFastest: number;
    /** The same batches through zstd level 1 (our default codec), untimed pass after the measured one. */
    zstdMicrosPerRecord: number;
    wireBytesZstd: number;
  };
  settings: Record<string, unknown>;
  heapUsedAfterMiB: number;
  /** Log pipelines: the timed window split where the producer's last emit returns. */
  phases?: { emitting: Phase; flushing: Phase };
}

export interface Phase {
  wallMs: number;
  /** Share of the phase the main thread was running (performance.eventLoopUtilization()). */
  mainThreadBusy: number;
}

const WARMUP_RECORDS = 2 * BATCH_SIZE;

const ZSTD_LEVEL_1: ZstdOptions = { params: { [constants.ZSTD_c_compressionLevel]: 1 } };

/** What each contender is configured to send (the sink's per-encoding counts show what it did send). */
const COMPRESSION: Record<ThroughputContender, string> = {
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

/** What a contender run measures; runThroughput derives the per-record figures. */
type Outcome = Omit<ThroughputResult, 'contender' | 'records' | 'recordsPerSec' | 'cpuMicrosPerRecord' | 'mainThreadCpuMicrosPerRecord' | 'delivered' | 'heapUsedAfterMiB'>;

/** Emits records [from, from + count), one batch at a time, yielding between batches. */
async function emitLogs(emit: (i: number) => void, from: number, count: number): Promise<void> {
  const end = from + count;
  for (let i = from; i < end; ) {
    const stop = Math.min(end, i + BATCH_SIZE);
    for (; i < stop; i++) emit(i);
    await yieldToLoop();
  }
}

async function runLogContender(job: ThroughputJob, contender: LogContender): Promise<Outcome & { sent?: number }> {
  const settings = blrpSettings(job.records + WARMUP_RECORDS);
  // Warm-up on a throw-away pipeline: same code paths, its own connections.
  const warm = buildLogPipeline(contender, job.sinkUrl, settings);
  await emitLogs((i) => warm.logger.emit(logRecord(i)), job.records, WARMUP_RECORDS);
  await warm.shutdown();
  await sinkControl.reset(job.sinkUrl);

  const pipeline = buildLogPipeline(contender, job.sinkUrl, settings);
  const logger = pipeline.logger;
  let start = performance.eventLoopUtilization();
  let emitted = start;
  const timing = await timed(async () => {
    start = performance.eventLoopUtilization();
    await emitLogs((i) => logger.emit(logRecord(i)), 0, job.records);
    emitted = performance.eventLoopUtilization();
    await pipeline.flush();
  });
  const phase = (from: EventLoopUtilization, to: EventLoopUtilization): Phase => {
    const d = performance.eventLoopUtilization(to, from);
    return { wallMs: d.idle + d.active, mainThreadBusy: d.utilization };
  };
  const phases = { emitting: phase(start, emitted), flushing: phase(emitted, performance.eventLoopUtilization()) };
  const stats = pipeline.ours ? plainStats(pipeline.ours.getStats()) : undefined;
  const sink = await sinkControl.stats(job.sinkUrl);
  const discarded = pipeline.noopExported?.();
  await pipeline.shutdown();
  return {
    ...timing,
    sink,
    ...(stats ? { stats } : {}),
    ...(discarded !== undefined ? { sent: discarded } : {}),
    phases,
    settings: { ...settings, compression: COMPRESSION[job.contender] },
  };
}

async function runPostHogNode(job: ThroughputJob): Promise<Outcome> {
  process.env.POSTHOG_CAPTURE_MODE = 'v1';
  const settings = {
    host: job.sinkUrl,
    flushAt: BATCH_SIZE,
    maxBatchSize: BATCH_SIZE,
    maxQueueSize: job.records + WARMUP_RECORDS,
    flushInterval: 1_000,
    requestTimeout: 10_000,
    disableGeoip: true,
    disableCompression: false,
  };
  const make = () => new PostHog(BENCH_API_KEY, settings);
  const capture = (client: PostHog) => (i: number) =>
    client.capture({ distinctId: distinctId(i), event: eventName(i), properties: eventProperties(i), timestamp: new Date() });

  const warm = make();
  await emitLogs(capture(warm), job.records, WARMUP_RECORDS);
  await warm.shutdown(120_000);
  await sinkControl.reset(job.sinkUrl);

  const client = make();
  const emit = capture(client);
  const timing = await timed(async () => {
    await emitLogs(emit, 0, job.records);
    await client.shutdown(120_000);
  });
  const sink = await sinkControl.stats(job.sinkUrl);
  return { ...timing, sink, settings: { ...settings, host: '(sink)', captureMode: process.env.POSTHOG_CAPTURE_MODE, compression: COMPRESSION['posthog-node'] } };
}

/**
 * The floor: JSON.stringify and gzip (default level, as the issue defines it) of the same v1 events
 * in 512-event batches, nothing else. Untimed reference passes follow: gzip level 1 and zstd level 1.
 */
async function runFloor(job: ThroughputJob): Promise<Outcome & { sent: number }> {
  const now = Date.now();
  const warmEvents = Array.from({ length: WARMUP_RECORDS }, (_, k) => captureEvent(job.records + k, now));
  for (let i = 0; i < warmEvents.length; i += BATCH_SIZE) {
    const json = JSON.stringify({ created_at: new Date().toISOString(), batch: warmEvents.slice(i, i + BATCH_SIZE) });
    gzipSync(json);
    gzipSync(json, { level: constants.Z_BEST_SPEED });
    zstdCompressSync(json, ZSTD_LEVEL_1);
  }
  const events = Array.from({ length: job.records }, (_, i) => captureEvent(i, now));
  let stringifyMicros = 0;
  let gzipMicros = 0;
  let wireBytes = 0;
  let jsonBytes = 0;
  let sent = 0;
  const timing = await timed(async () => {
    for (let i = 0; i < events.length; i += BATCH_SIZE) {
      const batch = events.slice(i, i + BATCH_SIZE);
      const c0 = cpuMicros();
      const json = JSON.stringify({ created_at: new Date().toISOString(), batch });
      const c1 = cpuMicros();
      const body = gzipSync(json);
      const c2 = cpuMicros();
      stringifyMicros += c1 - c0;
      gzipMicros += c2 - c1;
      jsonBytes += json.length;
      wireBytes += body.length;
      sent += batch.length;
    }
  });
  // For reference, outside the timed window: the same batches at gzip level 1 and at zstd level 1,
  // the levels our exporter uses.
  let fastestMicros = 0;
  let wireBytesFastest = 0;
  let zstdMicros = 0;
  let wireBytesZstd = 0;
  for (let i = 0; i < events.length; i += BATCH_SIZE) {
    const json = JSON.stringify({ created_at: new Date().toISOString(), batch: events.slice(i, i + BATCH_SIZE) });
    const c0 = cpuMicros();
    wireBytesFastest += gzipSync(json, { level: constants.Z_BEST_SPEED }).length;
    const c1 = cpuMicros();
    wireBytesZstd += zstdCompressSync(json, ZSTD_LEVEL_1).length;
    const c2 = cpuMicros();
    fastestMicros += c1 - c0;
    zstdMicros += c2 - c1;
  }
  return {
    ...timing,
    sent,
    floorSplit: {
      stringifyMicrosPerRecord: stringifyMicros / job.records,
      gzipMicrosPerRecord: gzipMicros / job.records,
      wireBytes,
      jsonBytes,
      gzipFastestMicrosPerRecord: fastestMicros / job.records,
      wireBytesFastest,
      zstdMicrosPerRecord: zstdMicros / job.records,
      wireBytesZstd,
    },
    settings: { batchSize: BATCH_SIZE, compression: COMPRESSION.floor, references: 'gzip level 1 and zstd level 1, untimed', post: false },
  };
}

export async function runThroughput(job: ThroughputJob): Promise<ThroughputResult> {
  let outcome: Outcome & { sent?: number };
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
      outcome = await runFloor(job);
      delivered = outcome.sent ?? 0;
      break;
  }
  const { sent: _sent, ...rest } = outcome;
  return {
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

function sumValues(record: Record<string, number> | undefined): number {
  let total = 0;
  for (const v of Object.values(record ?? {})) total += v;
  return total;
}

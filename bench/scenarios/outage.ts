// Scenario 5: our pipeline, with its default settings (zstd included), through a capture outage under
// steady load.
//   healthy  `warmSeconds` at `rate` records/s against a sink that answers 200
//   outage   `outageSeconds` more at the same rate while the sink answers 503 to everything
//   recovery the sink answers 200 again and the producer stops; we time how long until nothing
//            is pending (getStats().pending === 0), then forceFlush and read the final counters.
// heapUsed / rss are sampled every 250 ms throughout, with the processor's counters.

import { BATCH_DEFAULTS, DELIVERY_DEFAULTS } from '../../src/config/defaults.ts';
import { totalDropped, type PostHogStats } from '../../src/delivery/ledger.ts';
import { buildLogPipeline, plainStats } from '../contenders/log-pipelines.ts';
import type { SinkStats } from '../harness/sink.ts';
import { sinkControl } from '../harness/sink-control.ts';
import { sleep } from '../harness/waiting.ts';
import { logRecord } from '../workload/records.ts';

function mib(bytes: number): number {
  return Math.round((bytes / (1024 * 1024)) * 10) / 10;
}

export interface OutageJob {
  sinkUrl: string;
  rate: number;
  warmSeconds: number;
  outageSeconds: number;
  /** Give up waiting for the drain after this long. */
  maxDrainSeconds: number;
}

export interface MemorySample {
  t: number;
  phase: 'healthy' | 'outage' | 'recovery';
  heapUsedMiB: number;
  rssMiB: number;
  pending: number;
  delivered: number;
  dropped: number;
}

export interface OutageResult {
  rate: number;
  warmSeconds: number;
  outageSeconds: number;
  emitted: number;
  /** ms from the sink's recovery until getStats().pending reached 0 (undefined: not within maxDrainSeconds). */
  drainMs: number | undefined;
  statsAtRecovery: PostHogStats;
  statsFinal: PostHogStats;
  sink: SinkStats;
  memory: {
    healthyMaxHeapMiB: number;
    healthyMaxRssMiB: number;
    outageMaxHeapMiB: number;
    outageMaxRssMiB: number;
    outageFirstHalfMaxHeapMiB: number;
    outageSecondHalfMaxHeapMiB: number;
    /**
     * Live heap: heapUsed right after a full GC, forced a dozen times during the outage (every 5 s
     * of a 60 s one; with --expose-gc).
     * heapUsed between collections also counts garbage not yet collected, and so moves with when V8
     * chooses to collect; the live heap is what the outage itself keeps.
     */
    outageLiveHeapMiB: { t: number; heapMiB: number }[];
    /** How often the live heap was read during the outage. */
    outageLiveIntervalMs: number;
    outageFirstHalfMaxLiveHeapMiB: number;
    outageSecondHalfMaxLiveHeapMiB: number;
    finalHeapMiB: number;
    finalRssMiB: number;
    /** After forceFlush and a full GC (when --expose-gc is on). */
    finalHeapAfterGcMiB: number;
  };
  checks: {
    /** Nothing left in queues or retries after recovery + forceFlush. */
    nothingPending: boolean;
    /** selected === delivered + dropped + pending. */
    accountingHolds: boolean;
    /** The sink accepted exactly the events the processor counts as delivered. */
    sinkMatchesDelivered: boolean;
    /** Pending events never exceeded the configured caps: batch queue + retry buffer + one batch in flight. */
    pendingWithinCaps: boolean;
    /** Live heap in the second half of the outage stayed within 1.2 × the first half's peak (no sustained growth). */
    heapFlat: boolean;
  };
  /** Highest getStats().pending seen, and the caps it is held to by default. */
  maxPending: number;
  pendingCap: number;
  samples: MemorySample[];
  settings: Record<string, unknown>;
}

export async function runOutage(job: OutageJob): Promise<OutageResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  await sinkControl.outage(job.sinkUrl, false);
  await sinkControl.reset(job.sinkUrl);
  // Default settings on purpose: queue 2048, batch 512, 1 s delay, the exporter's retry policy.
  const pipeline = buildLogPipeline('ours', job.sinkUrl);
  const processor = pipeline.ours!;
  const logger = pipeline.logger;
  const samples: MemorySample[] = [];
  let phase: MemorySample['phase'] = 'healthy';
  let emitted = 0;
  const start = performance.now();
  const seconds = () => (performance.now() - start) / 1000;
  const sample = () => {
    const m = process.memoryUsage();
    const s = processor.getStats();
    samples.push({
      t: Math.round(seconds() * 100) / 100,
      phase,
      heapUsedMiB: mib(m.heapUsed),
      rssMiB: mib(m.rss),
      pending: s.pending,
      delivered: s.delivered,
      dropped: totalDropped(s),
    });
  };
  const sampler = setInterval(sample, 250);
  const live: { t: number; heapMiB: number }[] = [];
  let liveSampler: NodeJS.Timeout | undefined;
  const producerStart = performance.now();
  const producer = setInterval(() => {
    const due = Math.floor(((performance.now() - producerStart) / 1000) * job.rate);
    for (; emitted < due; emitted++) logger.emit(logRecord(emitted));
  }, 10);

  await sleep(job.warmSeconds * 1000);
  await sinkControl.outage(job.sinkUrl, true);
  phase = 'outage';
  const outageStart = seconds();
  // About a dozen readings whatever the outage's length (every 5 s of a 60 s one), so each half has some.
  const liveIntervalMs = Math.max(250, (job.outageSeconds * 1000) / 12);
  if (gc !== undefined) {
    liveSampler = setInterval(() => {
      gc();
      live.push({ t: Math.round(seconds() * 100) / 100, heapMiB: mib(process.memoryUsage().heapUsed) });
    }, liveIntervalMs);
  }
  await sleep(job.outageSeconds * 1000);
  clearInterval(producer);
  if (liveSampler !== undefined) clearInterval(liveSampler);
  await sinkControl.outage(job.sinkUrl, false);
  phase = 'recovery';
  const statsAtRecovery = plainStats(processor.getStats());
  const recoveredAt = performance.now();
  let drainMs: number | undefined;
  while (performance.now() - recoveredAt < job.maxDrainSeconds * 1000) {
    if (processor.getStats().pending === 0) {
      drainMs = performance.now() - recoveredAt;
      break;
    }
    await sleep(10);
  }
  await pipeline.flush();
  sample();
  clearInterval(sampler);
  const statsFinal = plainStats(processor.getStats());
  const sink = await sinkControl.stats(job.sinkUrl);
  const afterFlush = process.memoryUsage();
  gc?.();
  const afterGc = process.memoryUsage();
  await pipeline.shutdown();

  const of = (p: MemorySample['phase'], key: 'heapUsedMiB' | 'rssMiB', from = 0, to = Infinity) =>
    Math.max(0, ...samples.filter((s) => s.phase === p && s.t >= from && s.t < to).map((s) => s[key]));
  const mid = outageStart + job.outageSeconds / 2;
  const firstHalf = of('outage', 'heapUsedMiB', 0, mid);
  const secondHalf = of('outage', 'heapUsedMiB', mid);
  const liveFirst = live.filter((x) => x.t < mid).map((x) => x.heapMiB);
  const liveSecond = live.filter((x) => x.t >= mid).map((x) => x.heapMiB);
  // Judged on the live heap only when both halves have readings (NaN, shown as n/a, otherwise).
  const liveJudged = liveFirst.length > 0 && liveSecond.length > 0;
  const liveFirstHalf = liveJudged ? Math.max(...liveFirst) : Number.NaN;
  const liveSecondHalf = liveJudged ? Math.max(...liveSecond) : Number.NaN;
  const sinkEvents = Object.values(sink.events).reduce((a, b) => a + b, 0);
  const maxPending = Math.max(0, ...samples.map((x) => x.pending));
  const pendingCap = BATCH_DEFAULTS.maxQueueSize + DELIVERY_DEFAULTS.retryBuffer.maxEvents + BATCH_DEFAULTS.maxExportBatchSize;
  return {
    rate: job.rate,
    warmSeconds: job.warmSeconds,
    outageSeconds: job.outageSeconds,
    emitted,
    drainMs,
    statsAtRecovery,
    statsFinal,
    sink,
    memory: {
      healthyMaxHeapMiB: of('healthy', 'heapUsedMiB'),
      healthyMaxRssMiB: of('healthy', 'rssMiB'),
      outageMaxHeapMiB: of('outage', 'heapUsedMiB'),
      outageMaxRssMiB: of('outage', 'rssMiB'),
      outageFirstHalfMaxHeapMiB: firstHalf,
      outageSecondHalfMaxHeapMiB: secondHalf,
      outageLiveHeapMiB: live,
      outageLiveIntervalMs: liveIntervalMs,
      outageFirstHalfMaxLiveHeapMiB: liveFirstHalf,
      outageSecondHalfMaxLiveHeapMiB: liveSecondHalf,
      finalHeapMiB: mib(afterFlush.heapUsed),
      finalRssMiB: mib(afterFlush.rss),
      finalHeapAfterGcMiB: mib(afterGc.heapUsed),
    },
    checks: {
      nothingPending: statsFinal.pending === 0,
      accountingHolds: statsFinal.selected === statsFinal.delivered + totalDropped(statsFinal) + statsFinal.pending,
      sinkMatchesDelivered: sinkEvents === statsFinal.delivered,
      pendingWithinCaps: maxPending <= pendingCap,
      // Without readings of the live heap in both halves (no --expose-gc), heapUsed, garbage included, stands in.
      heapFlat: liveJudged ? liveSecondHalf <= liveFirstHalf * 1.2 : secondHalf <= firstHalf * 1.2,
    },
    maxPending,
    pendingCap,
    samples,
    settings: {
      processor: `defaults (maxQueueSize ${BATCH_DEFAULTS.maxQueueSize}, maxExportBatchSize ${BATCH_DEFAULTS.maxExportBatchSize}, scheduledDelayMillis ${BATCH_DEFAULTS.scheduledDelayMillis}, retry buffer ${DELIVERY_DEFAULTS.retryBuffer.maxEvents} events, exporter retry defaults)`,
      compression: 'default (zstd level 1)',
      sink503: 'every capture request, no Retry-After',
    },
  };
}

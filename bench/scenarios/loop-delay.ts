// Scenario 4: event-loop delay (perf_hooks.monitorEventLoopDelay, resolution 1 ms) while a pipeline
// exports 512-record batches. Two phases, each on a fresh pipeline:
//   steady   a producer emits at a fixed rate (timer every 10 ms) for a while; the histogram covers
//            the time after a 1 s warm-up, while batches are exported as they fill.
//   backlog  `records` records are queued first, then the histogram covers forceFlush(): the
//            exporter sends batch after batch with nothing else running.
// Contenders: ours with gzip (the goal's row: the issue asks for gzip batches), ours with its default
// zstd, the OTLP http/json exporter (gzip), and (steady only) the SDK with a processor that does
// nothing, which shows what the producer alone costs the loop.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { blrpSettings, buildLogPipeline } from '../contenders/log-pipelines.ts';
import { sinkControl } from '../harness/sink-control.ts';
import { sleep } from '../harness/waiting.ts';
import { logRecord } from '../workload/records.ts';

export type LoopDelayContender = 'ours-gzip' | 'ours' | 'otlp-http' | 'noop-processor';

export interface LoopDelayJob {
  contender: LoopDelayContender;
  /** Backlog size (phase 2). */
  records: number;
  sinkUrl: string;
  steadySeconds: number;
  /** Records per second in the steady phase. */
  rate: number;
}

export interface DelaySummary {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  samples: number;
}

export interface LoopDelayResult {
  contender: LoopDelayContender;
  steady: DelaySummary & { rate: number; seconds: number; emitted: number; delivered: number };
  backlog?: DelaySummary & { records: number; drainMs: number; delivered: number };
}

function summary(h: IntervalHistogram): DelaySummary {
  const ms = (ns: number) => Math.round((ns / 1e6) * 1000) / 1000;
  return {
    p50Ms: ms(h.percentile(50)),
    p90Ms: ms(h.percentile(90)),
    p99Ms: ms(h.percentile(99)),
    maxMs: ms(h.max),
    meanMs: ms(h.mean),
    samples: h.count,
  };
}

function delivered(events: Record<string, number>): number {
  return Object.values(events).reduce((a, b) => a + b, 0);
}

async function steadyPhase(job: LoopDelayJob): Promise<LoopDelayResult['steady']> {
  await sinkControl.reset(job.sinkUrl);
  const pipeline = buildLogPipeline(job.contender, job.sinkUrl, blrpSettings(Math.ceil(job.rate * (job.steadySeconds + 2)) + 1024));
  const logger = pipeline.logger;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const warmupMs = 1_000;
  const totalMs = warmupMs + job.steadySeconds * 1_000;
  let emitted = 0;
  let measuring = false;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      const due = Math.floor((Math.min(elapsed, totalMs) / 1000) * job.rate);
      for (; emitted < due; emitted++) logger.emit(logRecord(emitted));
      if (elapsed >= warmupMs && !measuring) {
        measuring = true;
        histogram.enable();
      }
      if (elapsed >= totalMs) {
        clearInterval(timer);
        histogram.disable();
        resolve();
      }
    }, 10);
  });
  await pipeline.flush();
  const sink = await sinkControl.stats(job.sinkUrl);
  await pipeline.shutdown();
  return {
    ...summary(histogram),
    rate: job.rate,
    seconds: job.steadySeconds,
    emitted,
    delivered: job.contender === 'noop-processor' ? emitted : delivered(sink.events),
  };
}

async function backlogPhase(job: LoopDelayJob): Promise<NonNullable<LoopDelayResult['backlog']>> {
  await sinkControl.reset(job.sinkUrl);
  const pipeline = buildLogPipeline(job.contender, job.sinkUrl, blrpSettings(job.records));
  for (let i = 0; i < job.records; i++) pipeline.logger.emit(logRecord(i));
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const t0 = performance.now();
  await pipeline.flush();
  const drainMs = performance.now() - t0;
  histogram.disable();
  const sink = await sinkControl.stats(job.sinkUrl);
  await pipeline.shutdown();
  return { ...summary(histogram), records: job.records, drainMs, delivered: delivered(sink.events) };
}

export async function runLoopDelay(job: LoopDelayJob): Promise<LoopDelayResult> {
  // A short unmeasured pass first, so both phases run on warmed-up code.
  const warm = buildLogPipeline(job.contender, job.sinkUrl, blrpSettings(4_096));
  for (let i = 0; i < 2_048; i++) warm.logger.emit(logRecord(i));
  await warm.shutdown();
  await sleep(50);
  const steady = await steadyPhase(job);
  if (job.contender === 'noop-processor') return { contender: job.contender, steady };
  const backlog = await backlogPhase(job);
  return { contender: job.contender, steady, backlog };
}

// Scenario 2: the hot path of `logger.emit()`. Only the emit loop is timed: the inputs are built
// beforehand, the queue holds every record (nothing drops), and the first export starts only after
// the loop (the batch processor hands a batch to its exporter in a later microtask).
// Contenders: ours, a stock BatchLogRecordProcessor with a no-op exporter, and the SDK with a
// processor that does nothing (what emit costs before any processor runs: building the record),
// measured by turns in one process.

import type { LogRecord } from '@opentelemetry/api';
import type { PostHogStats } from '../../src/delivery/ledger.ts';
import { blrpSettings, buildLogPipeline, plainStats } from '../contenders/log-pipelines.ts';
import { median } from '../harness/statistics.ts';
import { sleep } from '../harness/waiting.ts';
import { logRecord } from '../workload/records.ts';

export type EmitContender = 'ours' | 'stock-noop' | 'noop-processor';

export interface EmitCostJob {
  /** Measured side by side in this one process, round after round, in an order that rotates. */
  contenders: EmitContender[];
  records: number;
  sinkUrl: string;
  /** Measured rounds per contender (a fresh pipeline each); the median is reported. */
  rounds: number;
}

export interface EmitCostResult {
  contender: EmitContender;
  records: number;
  nsPerEmit: number;
  roundsNsPerEmit: number[];
  /** Records that reached the exporter (stock-noop) or PostHog (ours) after the flush, per round. */
  exported: number[];
  /** Ours: getStats() after the last round's flush. */
  stats?: PostHogStats;
}

const WARMUP_RECORDS = 20_000;

/**
 * One process, every contender: a round of each, then the next round in a rotated order. On a
 * shared machine the load changes from second to second; contenders measured moments apart see
 * the same load, where separate processes minutes apart do not.
 */
export async function runEmitCost(job: EmitCostJob): Promise<EmitCostResult[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const inputs: LogRecord[] = Array.from({ length: job.records }, (_, i) => logRecord(i));
  const settings = blrpSettings(Math.max(job.records, WARMUP_RECORDS));

  for (const contender of job.contenders) {
    const warm = buildLogPipeline(contender, job.sinkUrl, settings);
    for (let i = 0; i < WARMUP_RECORDS; i++) warm.logger.emit(inputs[i % inputs.length]!);
    await warm.shutdown();
  }

  const results = new Map<EmitContender, EmitCostResult>(
    job.contenders.map((contender) => [contender, { contender, records: job.records, nsPerEmit: 0, roundsNsPerEmit: [], exported: [] }]),
  );
  for (let r = 0; r < job.rounds; r++) {
    for (let k = 0; k < job.contenders.length; k++) {
      const contender = job.contenders[(k + r) % job.contenders.length]!;
      const result = results.get(contender)!;
      const pipeline = buildLogPipeline(contender, job.sinkUrl, settings);
      const logger = pipeline.logger;
      gc?.();
      await sleep(20);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < inputs.length; i++) logger.emit(inputs[i]!);
      const t1 = process.hrtime.bigint();
      result.roundsNsPerEmit.push(Number(t1 - t0) / inputs.length);
      await pipeline.flush();
      if (pipeline.ours) {
        result.stats = plainStats(pipeline.ours.getStats());
        result.exported.push(result.stats.delivered);
      } else if (pipeline.noopExported) {
        result.exported.push(pipeline.noopExported());
      }
      await pipeline.shutdown();
    }
  }
  for (const result of results.values()) result.nsPerEmit = median(result.roundsNsPerEmit);
  return [...results.values()];
}

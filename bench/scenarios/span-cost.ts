// Scenario 3: what PostHogSpanEventProcessor.onEnd adds to a span with 3 events. Timed loop:
// startSpan, 3 × addEvent, end. Contenders: a TracerProvider with our span-event processor
// (sharing a PostHogLogRecordProcessor whose queue holds every event), and one with no span
// processor at all. The difference per span is what onEnd costs.

import type { Attributes } from '@opentelemetry/api';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import type { PostHogStats } from '../../src/delivery/ledger.ts';
import { PostHogSpanEventProcessor } from '../../src/span-event-processor.ts';
import { plainStats } from '../contenders/log-pipelines.ts';
import { oursProcessor } from '../contenders/ours.ts';
import { median } from '../harness/statistics.ts';
import { sleep } from '../harness/waiting.ts';
import { BATCH_SIZE, SCOPE_NAME, recordAttributes } from '../workload/records.ts';
import { benchResource } from '../workload/resource.ts';

export type SpanContender = 'ours' | 'none';

export interface SpanCostJob {
  contender: SpanContender;
  /** Events in all; spans = events / 3. */
  records: number;
  sinkUrl: string;
  rounds: number;
}

export interface SpanCostResult {
  contender: SpanContender;
  spans: number;
  nsPerSpan: number;
  roundsNsPerSpan: number[];
  /** Ours: events delivered after each round's flush (should be 3 × spans). */
  delivered: number[];
  stats?: PostHogStats;
}

const POOL = 64;
const spanAttributes: Attributes[] = [];
const eventAttributes: Attributes[][] = [];
for (let i = 0; i < POOL; i++) {
  spanAttributes.push({ 'http.request.method': 'POST', 'http.route': '/api/checkout/:id', 'user.id': `user_${i}` });
  const all = recordAttributes(i);
  eventAttributes.push([
    { 'user.id': all['user.id'], 'cart.items': all['cart.items'], 'cart.value': all['cart.value'], plan: all.plan },
    { 'user.id': all['user.id'], coupon: 'SPRING10', discount: 0.1, is_returning: all.is_returning },
    { 'user.id': all['user.id'], 'cart.value': all['cart.value'], 'feature.flags': all['feature.flags'], duration_ms: all.duration_ms },
  ]);
}

function build(contender: SpanContender, sinkUrl: string, events: number) {
  if (contender === 'none') return { provider: new TracerProvider({ resource: benchResource() }), processor: undefined };
  const processor = oursProcessor(sinkUrl, { maxQueueSize: events, maxExportBatchSize: BATCH_SIZE });
  const provider = new TracerProvider({ resource: benchResource(), spanProcessors: [new PostHogSpanEventProcessor({ processor })] });
  return { provider, processor };
}

export async function runSpanCost(job: SpanCostJob): Promise<SpanCostResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const spans = Math.ceil(job.records / 3);
  const rounds: number[] = [];
  const delivered: number[] = [];
  let stats: PostHogStats | undefined;
  // Round 0 is the warm-up and is not reported.
  for (let r = 0; r <= job.rounds; r++) {
    const { provider, processor } = build(job.contender, job.sinkUrl, spans * 3);
    const tracer = provider.getTracer(SCOPE_NAME);
    const count = r === 0 ? Math.min(spans, 7_000) : spans;
    gc?.();
    await sleep(20);
    const t0 = process.hrtime.bigint();
    for (let s = 0; s < count; s++) {
      const k = s % POOL;
      const ev = eventAttributes[k]!;
      const span = tracer.startSpan('POST /api/checkout', { attributes: spanAttributes[k]! });
      span.addEvent('cart_viewed', ev[0]);
      span.addEvent('coupon_applied', ev[1]);
      span.addEvent('checkout_completed', ev[2]);
      span.end();
    }
    const t1 = process.hrtime.bigint();
    await provider.forceFlush();
    if (r > 0) {
      rounds.push(Number(t1 - t0) / count);
      if (processor) {
        stats = plainStats(processor.getStats());
        delivered.push(stats.delivered);
      }
    }
    await provider.shutdown();
    await processor?.shutdown();
  }
  return { contender: job.contender, spans, nsPerSpan: median(rounds), roundsNsPerSpan: rounds, delivered, ...(stats ? { stats } : {}) };
}

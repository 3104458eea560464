// The trace context each record is emitted in: 1,000 contexts built up front and cycled.

import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, TraceFlags, trace, type Context } from '@opentelemetry/api';

export interface TraceIds {
  traceId: string;
  spanId: string;
}

const TRACE_POOL = 1_000;
const pooledIds: TraceIds[] = [];
const pooledContexts: Context[] = [];
for (let i = 0; i < TRACE_POOL; i++) {
  const traceId = randomUUID().replace(/-/g, '');
  const spanId = randomUUID().replace(/-/g, '').slice(0, 16);
  pooledIds.push({ traceId, spanId });
  pooledContexts.push(trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false }));
}

/** The context record i is emitted in. */
export function contextOf(i: number): Context {
  return pooledContexts[i % TRACE_POOL]!;
}

/** The ids in record i's context. */
export function traceOf(i: number): TraceIds {
  return pooledIds[i % TRACE_POOL]!;
}

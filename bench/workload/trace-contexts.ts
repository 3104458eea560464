// The trace context each record is emitted in, as a server would have it: every request its own
// trace, with one to three records per request (1, 2, 3, 1, 2, 3, … records). The contexts and
// their ids are made as the records are emitted, never reused, so per-context work shows.
//
// The pooled variant (`--contexts pooled`) cycles 1,000 contexts built up front over the records,
// as the workload did before: the difference between the two is what per-context work costs.
//
// Ids are derived from the request's number, so record i carries the same ids for every contender
// (posthog-node and the floor put them in the properties themselves).

import { ROOT_CONTEXT, TraceFlags, trace, type Context } from '@opentelemetry/api';

export type ContextMode = 'fresh' | 'pooled';

export interface TraceIds {
  traceId: string;
  spanId: string;
}

const POOL_SIZE = 1_000;

let mode: ContextMode = 'fresh';

/** Chosen once per measured process, before any record is made. */
export function useContexts(chosen: ContextMode): void {
  mode = chosen;
}

/** The request record i belongs to: requests of 1, 2 and 3 records in turn, six records per three requests. */
export function requestOf(i: number): number {
  const offset = i % 6;
  return 3 * Math.floor(i / 6) + (offset === 0 ? 0 : offset < 3 ? 1 : 2);
}

/** A 32-bit mix of n (the finaliser of a common integer hash): ids that look random and never repeat in a run. */
function mix(n: number): number {
  let x = n >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

const idBytes = Buffer.alloc(24);

/** Lower-case hex ids of request k, fresh strings on every call, as an id generator makes them. */
function idsOf(k: number): TraceIds {
  for (let w = 0; w < 6; w++) idBytes.writeUInt32BE(mix(6 * k + w + 1), 4 * w);
  return { traceId: idBytes.toString('hex', 0, 16), spanId: idBytes.toString('hex', 16, 24) };
}

function contextWith(ids: TraceIds): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { ...ids, traceFlags: TraceFlags.SAMPLED, isRemote: false });
}

const pooledIds: TraceIds[] = Array.from({ length: POOL_SIZE }, (_, k) => idsOf(k));
const pooledContexts: Context[] = pooledIds.map(contextWith);

/** The request whose ids and context were made last: its next records share them. */
let current: { request: number; ids: TraceIds; context?: Context } = { request: -1, ids: { traceId: '', spanId: '' } };

function currentRequest(i: number): typeof current {
  const request = requestOf(i);
  if (request !== current.request) current = { request, ids: idsOf(request) };
  return current;
}

/** The context record i is emitted in. */
export function contextOf(i: number): Context {
  if (mode === 'pooled') return pooledContexts[i % POOL_SIZE]!;
  const c = currentRequest(i);
  return (c.context ??= contextWith(c.ids));
}

/** The ids in record i's context. */
export function traceOf(i: number): TraceIds {
  if (mode === 'pooled') return pooledIds[i % POOL_SIZE]!;
  return currentRequest(i).ids;
}

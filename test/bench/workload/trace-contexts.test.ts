import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import { contextOf, requestOf, traceOf, useContexts } from '../../../bench/workload/trace-contexts.ts';

test('records come as requests of 1, 2 and 3 records in turn', () => {
  const sizes = new Map<number, number>();
  for (let i = 0; i < 600; i++) sizes.set(requestOf(i), (sizes.get(requestOf(i)) ?? 0) + 1);
  assert.deepEqual([...sizes.values()].slice(0, 6), [1, 2, 3, 1, 2, 3]);
  assert.equal(sizes.size, 300);
  // Requests are numbered without gaps, in the order their records come.
  assert.deepEqual(
    [...sizes.keys()],
    Array.from({ length: 300 }, (_, k) => k),
  );
});

test('fresh: each request has its own context and valid ids, shared by its records and made anew', () => {
  useContexts('fresh');
  const seenTraces = new Set<string>();
  let previous: { request: number; context: unknown } | undefined;
  for (let i = 0; i < 3_000; i++) {
    const context = contextOf(i);
    const spanContext = trace.getSpanContext(context);
    assert.ok(spanContext);
    assert.match(spanContext.traceId, /^[0-9a-f]{32}$/);
    assert.match(spanContext.spanId, /^[0-9a-f]{16}$/);
    assert.deepEqual(traceOf(i), { traceId: spanContext.traceId, spanId: spanContext.spanId });
    if (previous?.request === requestOf(i)) assert.equal(context, previous.context);
    else {
      assert.notEqual(context, previous?.context);
      seenTraces.add(spanContext.traceId);
    }
    previous = { request: requestOf(i), context };
  }
  assert.equal(seenTraces.size, requestOf(2_999) + 1);
});

test('the ids of a record do not depend on what was emitted before it', () => {
  useContexts('fresh');
  const late = traceOf(1_234);
  traceOf(0);
  assert.deepEqual(traceOf(1_234), late);
});

test('pooled: 1,000 contexts built up front, cycled over the records', () => {
  useContexts('pooled');
  try {
    assert.equal(contextOf(5), contextOf(1_005));
    assert.notEqual(contextOf(5), contextOf(6));
    assert.deepEqual(traceOf(5), traceOf(2_005));
  } finally {
    useContexts('fresh');
  }
});

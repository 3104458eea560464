// withFlush's budget, on the manual clock. The flush after a handler ends within the budget whatever
// the flushables do; our processor gets the budget as its own flush window. With a real processor
// over the scripted endpoint: against a server that never answers an invocation costs its budget;
// against refused connections the first invocation costs nothing on the clock, and while PostHog is
// known to be unreachable later ones neither wait nor send, the events staying pending.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import type { PostHogLogRecordProcessorOptions } from '../src/config/options.ts';
import { PostHogLogRecordProcessor } from '../src/log-record-processor.ts';
import { flushingAfter, flushWithin, withFlush, WITH_FLUSH_TIMEOUT_MILLIS, type Flushable } from '../src/serverless.ts';
import { totalDropped } from '../src/delivery/ledger.ts';
import { ManualClock } from './support/clocks.ts';
import { ScriptedTransport, type Answer } from './support/scripted-transport.ts';

/** A flushable that records the budget it was given and resolves when told (or never). */
function budgeted(): Flushable & { budgets: number[]; finish(): void } {
  let finish = (): void => undefined;
  const budgets: number[] = [];
  return {
    budgets,
    finish: () => finish(),
    forceFlush: () => new Promise<void>(() => undefined),
    forceFlushWithin(timeoutMillis: number) {
      budgets.push(timeoutMillis);
      return new Promise<void>((resolve) => {
        finish = resolve;
      });
    },
  } as Flushable & { budgets: number[]; finish(): void };
}

describe('the flush budget', () => {
  test('a flush that never ends is left behind when the budget is spent, to the millisecond', async () => {
    const clock = new ManualClock();
    const never: Flushable = { forceFlush: () => new Promise<void>(() => undefined) };
    const started = clock.now();
    await clock.run(flushWithin([never], 750, clock));
    assert.equal(clock.now() - started, 750);
  });

  test('flushes that end sooner end it sooner; a failing flush is logged, not thrown', async () => {
    const clock = new ManualClock();
    const quick: Flushable = { forceFlush: () => clock.sleep(120) };
    const failing: Flushable = { forceFlush: () => Promise.reject(new Error('provider gone')) };
    const errors: string[] = [];
    const logger: DiagLogger = {
      error: (...args) => void errors.push(args.map(String).join(' ')),
      warn: () => undefined,
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    };
    diag.setLogger(logger, { logLevel: DiagLogLevel.ERROR, suppressOverrideMessage: true });
    try {
      const started = clock.now();
      await clock.run(flushWithin([quick, failing], 1_000, clock));
      assert.equal(clock.now() - started, 120);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!, /flush after the handler failed: Error: provider gone/);
    } finally {
      diag.disable();
    }
  });

  test('withFlush gives our flushables its budget: 1 s by default, or the timeoutMillis given after them', async () => {
    assert.equal(WITH_FLUSH_TIMEOUT_MILLIS, 1_000);
    for (const [options, expected] of [
      [[], 1_000],
      [[{ timeoutMillis: 250 }], 250],
      [[{ timeoutMillis: -1 }], 1_000],
      [[{ timeoutMillis: 0 }], 0],
    ] as Array<[object[], number]>) {
      const target = budgeted();
      const handler = withFlush(async (n: number) => n * 2, target, ...options);
      const result = handler(21);
      await new Promise((resolve) => setImmediate(resolve));
      target.finish();
      assert.equal(await result, 42);
      assert.deepEqual(target.budgets, [expected]);
    }
  });
});

interface Lambda {
  clock: ManualClock;
  transport: ScriptedTransport;
  processor: PostHogLogRecordProcessor;
  /** One invocation that emits `count` events; resolves to the clock time the flush added. */
  invoke(count?: number): Promise<number>;
  close(): Promise<void>;
}

/** A processor built once per cold start, a handler wrapped for a 1 s budget, all on the manual clock. */
function lambda(answer: Answer, options: PostHogLogRecordProcessorOptions = {}): Lambda {
  const clock = new ManualClock();
  const transport = new ScriptedTransport(clock);
  transport.setDefault(answer);
  const processor = new PostHogLogRecordProcessor(
    { compression: 'none', scheduledDelayMillis: 60_000, flushOnExit: false, ...options },
    {
      env: { POSTHOG_API_KEY: 'phc_serverless_key', POSTHOG_HOST: 'https://capture.test' },
      clock,
      transport,
      random: () => 0,
      print: () => undefined,
    },
  );
  const logger = new LoggerProvider({ resource: resourceFromAttributes({}), processors: [processor] }).getLogger('fn');
  let handlerDone = 0;
  const handler = flushingAfter(
    async (count: number) => {
      for (let i = 0; i < count; i++) logger.emit({ eventName: 'order_placed', attributes: { 'user.id': `u-${i}` } });
      handlerDone = clock.now();
    },
    [processor],
    WITH_FLUSH_TIMEOUT_MILLIS,
    clock,
  );
  return {
    clock,
    transport,
    processor,
    async invoke(count = 1) {
      await clock.run(handler(count));
      return clock.now() - handlerDone;
    },
    close: () => clock.run(processor.shutdown()),
  };
}

describe('an invocation while PostHog is down', () => {
  test('a server that never answers: each invocation costs its budget, no more; the events stay pending', async () => {
    const fn = lambda({ hang: true });
    for (let i = 0; i < 3; i++) {
      assert.equal(await fn.invoke(), WITH_FLUSH_TIMEOUT_MILLIS, `invocation ${i + 1}`);
      await fn.clock.advance(5_000);
    }
    const stats = fn.processor.getStats();
    assert.deepEqual({ pending: stats.pending, dropped: totalDropped(stats) }, { pending: 3, dropped: 0 });
    await fn.close();
  });

  test('a server that never answers, with timeoutMillis below the budget: once a request timed out, invocations seldom wait', async () => {
    const fn = lambda({ hang: true }, { timeoutMillis: 300 });
    const costs: number[] = [];
    for (let i = 0; i < 40; i++) {
      costs.push(await fn.invoke());
      await fn.clock.advance(200);
    }
    // An invocation with a probe due waits out its 300 ms timeout (after the first timeout, a blip
    // perhaps, one also waits for that probe to fall due); the others do not wait at all.
    assert.ok(
      costs.every((cost) => cost <= 600),
      costs.join(' '),
    );
    assert.ok(
      costs.slice(2).every((cost) => cost === 0 || cost === 300),
      costs.join(' '),
    );
    assert.ok(costs.filter((cost) => cost === 0).length >= 30, costs.join(' '));
    const stats = fn.processor.getStats();
    assert.deepEqual(
      { status: stats.status, cause: stats.outage?.cause.kind, pending: stats.pending },
      { status: 'outage', cause: 'timeout', pending: 40 },
    );
    await fn.close();
  });

  for (const fail of ['ECONNREFUSED', 'ENOTFOUND'] as const) {
    test(`${fail}: the first invocation costs no waiting; later ones neither wait nor send while PostHog is known unreachable`, async () => {
      const fn = lambda({ fail });
      assert.equal(await fn.invoke(), 0, 'the first: one failed connection, then the flush stops');
      assert.equal(fn.transport.requests.length, 1);
      const costs: number[] = [];
      for (let i = 0; i < 20; i++) {
        await fn.clock.advance(100);
        costs.push(await fn.invoke());
      }
      assert.deepEqual(new Set(costs), new Set([0]), 'no invocation waited');
      // Over 2 s, at most the outage's probes (0.5 s, then 1 s apart) went out, not one per invocation.
      assert.ok(fn.transport.requests.length <= 1 + 2, `${fn.transport.requests.length} requests for 21 invocations`);
      const stats = fn.processor.getStats();
      assert.deepEqual(
        { status: stats.status, pending: stats.pending, dropped: totalDropped(stats) },
        { status: 'outage', pending: 21, dropped: 0 },
      );
      await fn.close();
    });
  }

  test('PostHog back: the next probe delivers everything held, and invocations deliver their own events again', async () => {
    const fn = lambda({ fail: 'ECONNREFUSED' });
    for (let i = 0; i < 5; i++) await fn.invoke();
    fn.transport.setDefault({ status: 200 });
    await fn.clock.advance(1_000);
    await fn.invoke();
    assert.equal(fn.processor.getStats().delivered, 6);
    assert.equal(fn.processor.getStats().status, 'ok');
    await fn.close();
  });
});

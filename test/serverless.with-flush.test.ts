// withFlush end to end: a wrapped handler resolves only once its events are at PostHog, a throwing
// one still flushes and rethrows, and overlapping invocations each wait for their own.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { withFlush } from '../src/serverless.ts';
import { assertIdentity, names } from './support/accounting.ts';
import { withPipeline } from './support/pipeline.ts';

describe('withFlush', () => {
  test('withFlush: when the wrapped handler resolves, its event is already at PostHog', async () => {
    await withPipeline({ options: { scheduledDelayMillis: 60_000 } }, async (p) => {
      const handler = withFlush(async (event: { id: string }) => {
        p.logger().emit({ eventName: 'invoked', attributes: { request: event.id } });
        await sleep(1);
        return { statusCode: 200, body: event.id };
      }, p.processor);
      const result = await handler({ id: 'r-1' });
      assert.deepEqual(result, { statusCode: 200, body: 'r-1' });
      const accepted = p.server.acceptedEvents();
      assert.deepEqual(names(accepted), ['invoked']);
      assert.equal(accepted[0]!.properties.request, 'r-1');
    });
  });

  test('withFlush: a throwing handler still flushes, and its error is rethrown unchanged', async () => {
    await withPipeline({ options: { scheduledDelayMillis: 60_000 } }, async (p) => {
      const asyncError = new RangeError('async failure');
      const asyncHandler = withFlush(async () => {
        p.logger().emit({ eventName: 'before_async_throw' });
        await sleep(1);
        throw asyncError;
      }, p.processor);
      await assert.rejects(asyncHandler(), (error) => error === asyncError);
      assert.deepEqual(names(p.server.acceptedEvents()), ['before_async_throw']);

      const syncError = new TypeError('sync failure');
      const syncHandler = withFlush((): string => {
        p.logger().emit({ eventName: 'before_sync_throw' });
        throw syncError;
      }, p.processor);
      await assert.rejects(syncHandler(), (error) => error === syncError);
      assert.deepEqual(names(p.server.acceptedEvents()), ['before_async_throw', 'before_sync_throw']);
      assertIdentity(p.processor.getStats());
    });
  });

  test('withFlush with overlapping invocations: each one resolves only once its own event is at PostHog', async () => {
    await withPipeline({ options: { scheduledDelayMillis: 60_000 } }, async (p) => {
      p.server.setDefault({ delayMs: 100 });
      const handler = withFlush(async (name: string) => {
        p.logger().emit({ eventName: name });
      }, p.processor);
      const first = handler('invocation_1');
      await sleep(20);
      await handler('invocation_2');
      const afterSecond = names(p.server.acceptedEvents());
      await first;
      assert.deepEqual(afterSecond, ['invocation_1', 'invocation_2']);
    });
  });
});

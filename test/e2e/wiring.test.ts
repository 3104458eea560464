// The pipeline wired as a host application wires it: NodeSDK with our processors beside a trace
// exporter, span events sharing the log queue, a span event processor owning or sharing its
// pipeline, and the request identity set in NodeSDK's context. A real HTTP fake capture server.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, logs, propagation, trace } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, InMemorySpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { PostHogLogRecordProcessor } from '../../src/log-record-processor.ts';
import { identityFromHeaders, withPostHogIdentity } from '../../src/request-identity.ts';
import { PostHogSpanEventProcessor } from '../../src/span-event-processor.ts';
import { assertIdentity, names } from '../support/accounting.ts';
import { emitEvents, envFor, newProvider, withServer, zeroStats } from '../support/hand-wired.ts';
import { withPipeline } from '../support/pipeline.ts';

/** Unregisters what NodeSDK.start() registered globally. */
function resetGlobals(): void {
  trace.disable();
  logs.disable();
  context.disable();
  propagation.disable();
}

/** A span exporter that also remembers the names it was given (InMemorySpanExporter forgets at shutdown). */
class RememberingSpanExporter extends InMemorySpanExporter {
  readonly exportedNames: string[] = [];
  override export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    for (const span of spans) this.exportedNames.push(span.name);
    super.export(spans, resultCallback);
  }
}

describe('wiring', () => {
  test("a span event processor built from options owns its pipeline: the tracer provider's shutdown delivers its events", async () => {
    await withServer(async (server) => {
      const spanProcessor = new PostHogSpanEventProcessor({ apiKey: server.apiKey, host: server.url, scheduledDelayMillis: 60_000 });
      const tracerProvider = new TracerProvider({ spanProcessors: [spanProcessor] });
      const span = tracerProvider.getTracer('app').startSpan('checkout');
      span.addEvent('cart_viewed');
      span.addEvent('payment_started');
      span.end();
      await tracerProvider.shutdown();
      assert.deepEqual(names(server.acceptedEvents()), ['cart_viewed', 'payment_started']);
      const stats = spanProcessor.processor.getStats();
      assert.deepEqual(stats, zeroStats({ emitted: 2, selected: 2, delivered: 2, requests: 1 }));
    });
  });

  test('a span event processor given a shared pipeline leaves it running at its own shutdown', async () => {
    await withServer(async (server) => {
      const processor = new PostHogLogRecordProcessor({ scheduledDelayMillis: 60_000 }, { env: envFor(server) });
      const provider = newProvider(processor);
      const tracerProvider = new TracerProvider({ spanProcessors: [new PostHogSpanEventProcessor({ processor })] });
      try {
        await tracerProvider.shutdown();
        emitEvents(provider.getLogger('app'), 'still_open', 1);
        await processor.forceFlush();
        assert.deepEqual(names(server.acceptedEvents()), ['still_open_0']);
      } finally {
        await provider.shutdown();
      }
    });
  });

  test('NodeSDK: a log event, a span event and a recorded exception reach PostHog; the trace exporter still gets the span', async () => {
    await withServer(async (server) => {
      const spanExporter = new RememberingSpanExporter();
      const processor = new PostHogLogRecordProcessor({}, { env: envFor(server) });
      const sdk = new NodeSDK({
        autoDetectResources: false,
        resource: resourceFromAttributes({ 'service.name': 'checkout' }),
        metricReaders: [],
        spanProcessors: [new BatchSpanProcessor({ exporter: spanExporter }), new PostHogSpanEventProcessor({ processor })],
        logRecordProcessors: [processor],
      });
      let shutDown = false;
      try {
        sdk.start();
        logs.getLogger('shop').emit({ eventName: 'order_placed', attributes: { 'posthog.distinct_id': 'user-1', amount: 42 } });
        const span = trace.getTracer('shop').startSpan('pay');
        span.addEvent('card_checked', { 'posthog.distinct_id': 'user-1', brand: 'visa' });
        span.recordException(new TypeError('card declined'));
        span.end();
        await sdk.shutdown();
        shutDown = true;

        assert.deepEqual(
          server.requests.filter((r) => !r.validation.ok),
          [],
          'every request passes validation',
        );
        const accepted = server.acceptedEvents();
        assert.deepEqual(names(accepted), ['$exception', 'card_checked', 'order_placed']);
        const order = accepted.find((e) => e.event === 'order_placed')!;
        assert.equal(order.distinct_id, 'user-1');
        assert.equal(order.properties.amount, 42);
        assert.equal(order.properties.service_name, 'checkout');
        const checked = accepted.find((e) => e.event === 'card_checked')!;
        assert.equal(checked.properties.otel_span_name, 'pay');
        assert.equal(checked.properties.brand, 'visa');
        const exception = accepted.find((e) => e.event === '$exception')!;
        assert.equal((exception.properties.$exception_list as Array<{ type: string; value: string }>)[0]!.type, 'TypeError');
        assert.equal((exception.properties.$exception_list as Array<{ type: string; value: string }>)[0]!.value, 'card declined');
        assert.equal(checked.properties.$trace_id, exception.properties.$trace_id, 'both span events carry the span trace id');

        assert.deepEqual(spanExporter.exportedNames, ['pay'], 'the trace exporter next to ours still got the span');
        const stats = processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 3, selected: 3, delivered: 3, requests: 1 }));
        assertIdentity(stats);
      } finally {
        if (!shutDown) await sdk.shutdown();
        resetGlobals();
      }
    });
  });

  test('span events and log events share one queue: they go out in ONE request', async () => {
    await withPipeline({ options: { scheduledDelayMillis: 60_000, maxExportBatchSize: 100 } }, async (p) => {
      p.logger().emit({ eventName: 'signup' });
      const span = p.tracer().startSpan('register');
      span.addEvent('form_viewed');
      span.addEvent('form_submitted');
      span.end();
      p.logger().emit({ eventName: 'welcome_sent' });
      assert.equal(p.requests().length, 0, 'nothing is sent before the flush');

      await p.processor.forceFlush();
      assert.equal(p.requests().length, 1);
      assert.deepEqual(names(p.requests()[0]!.events), ['form_submitted', 'form_viewed', 'signup', 'welcome_sent']);
      const stats = p.processor.getStats();
      assert.deepEqual(stats, zeroStats({ emitted: 4, selected: 4, delivered: 4, requests: 1 }));
      assertIdentity(stats);
    });
  });

  test('request identity (NodeSDK context): log and span events get distinct_id and session_id; record attributes win', async () => {
    await withServer(async (server) => {
      const processor = new PostHogLogRecordProcessor({ scheduledDelayMillis: 60_000 }, { env: envFor(server) });
      const sdk = new NodeSDK({
        autoDetectResources: false,
        metricReaders: [],
        spanProcessors: [new PostHogSpanEventProcessor({ processor })],
        logRecordProcessors: [processor],
      });
      let shutDown = false;
      try {
        sdk.start();
        const logger = logs.getLogger('web');
        const tracer = trace.getTracer('web');
        withPostHogIdentity(identityFromHeaders({ 'x-posthog-distinct-id': 'u-1', 'x-posthog-session-id': 's-1' }), () => {
          logger.emit({ eventName: 'a' });
          const span = tracer.startSpan('op');
          span.addEvent('b');
          span.addEvent('b_explicit', { 'user.id': 'u-span', 'posthog.session_id': 's-span' });
          span.end();
          logger.emit({ eventName: 'a_explicit', attributes: { 'posthog.distinct_id': 'u-explicit', 'posthog.session_id': 's-explicit' } });
        });
        logger.emit({ eventName: 'outside' });
        await sdk.shutdown();
        shutDown = true;

        const byName = new Map(server.acceptedEvents().map((e) => [e.event, e]));
        assert.deepEqual([...byName.keys()].sort(), ['a', 'a_explicit', 'b', 'b_explicit', 'outside']);
        const ids = (name: string): [string | undefined, string | undefined] => [
          byName.get(name)!.distinct_id,
          byName.get(name)!.session_id,
        ];
        assert.deepEqual(ids('a'), ['u-1', 's-1']);
        assert.deepEqual(ids('b'), ['u-1', 's-1']);
        assert.deepEqual(ids('a_explicit'), ['u-explicit', 's-explicit']);
        assert.deepEqual(ids('b_explicit'), ['u-span', 's-span']);
        const outside = byName.get('outside')!;
        assert.notEqual(outside.distinct_id, 'u-1', 'the identity does not leak outside its scope');
        assert.equal(outside.session_id, undefined);
        assert.equal(outside.options.process_person_profile, false, 'outside the scope the event is personless');
      } finally {
        if (!shutDown) await sdk.shutdown();
        resetGlobals();
      }
    });
  });
});

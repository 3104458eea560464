// End-to-end tests of what the mapping needs the whole pipeline for: which records the processor
// selects and counts, processor options reaching selection and mapping, span events through the
// span processor, and events whose values must not break the request that carries them. Real
// OpenTelemetry providers, our processors, the capture client and a real HTTP fake capture server.
// The mapping rules themselves are unit-tested in test/mapping/.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeverityNumber } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { assertIdentity } from '../support/accounting.ts';
import { only } from '../support/log-records.ts';
import { flushValid, withPipeline } from '../support/pipeline.ts';
import { RawAttributeWriter } from '../support/raw-attribute-writer.ts';

const TIME = new Date('2025-01-02T03:04:05.678Z');
const TIMESTAMP = '2025-01-02T03:04:05.678Z';

describe('selection', () => {
  test('by default only events become PostHog events: eventName, posthog.event, exception.type or exception.message', async () => {
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      log.emit({ eventName: 'signed_up', timestamp: TIME });
      log.emit({ body: 'plain line', severityNumber: SeverityNumber.INFO, timestamp: TIME });
      log.emit({ attributes: { 'posthog.event': 'from_attribute' }, timestamp: TIME });
      log.emit({ body: 'error line, still plain', severityNumber: SeverityNumber.ERROR, attributes: { k: 1 }, timestamp: TIME });
      log.emit({ attributes: { 'exception.type': 'RangeError' }, timestamp: TIME });
      log.emit({ attributes: { 'exception.message': 'only a message' }, timestamp: TIME });
      log.emit({ attributes: { 'exception.stacktrace': 'Error: x\n    at f (/a.js:1:1)' }, timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => e.event),
        ['signed_up', 'from_attribute', '$exception', '$exception'],
      );
      assert.ok(!events.some((e) => 'body' in e.properties), 'no plain log line was sent');
      const stats = p.processor.getStats();
      assert.equal(stats.emitted, 7);
      assert.equal(stats.selected, 4);
      assert.equal(stats.delivered, 4);
      assert.deepEqual(stats.dropped, {});
    });
  });

  test('processor options reach selection and mapping: logRecords, minSeverity, logEventName, resourceAttributes, disableGeoip', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'checkout', 'host.name': 'web-1' });
    const options = {
      logRecords: 'all',
      minSeverity: SeverityNumber.WARN,
      logEventName: 'log_line',
      resourceAttributes: ['host.name'],
      disableGeoip: false,
    } as const;
    await withPipeline({ resource, options }, async (p) => {
      const log = p.logger('app');
      log.emit({ body: 'info', severityNumber: SeverityNumber.INFO, timestamp: TIME });
      log.emit({ body: 'warn', severityNumber: SeverityNumber.WARN, timestamp: TIME });
      log.emit({ eventName: 'debug_event', severityNumber: SeverityNumber.DEBUG, timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.event, e.properties.body ?? null]),
        [
          ['log_line', 'warn'],
          ['debug_event', null],
        ],
      );
      assert.deepEqual(only(events, 'debug_event').properties, {
        service_name: 'checkout',
        'host.name': 'web-1',
        severity_number: SeverityNumber.DEBUG,
        otel_scope_name: 'app',
      });
      assert.deepEqual([p.stats().emitted, p.stats().selected], [3, 2]);
    });
  });

  test('every span event becomes an event, even with the default selection', async () => {
    await withPipeline({}, async (p) => {
      const span = p.tracer('shop').startSpan('checkout');
      span.addEvent('cart_viewed', TIME);
      span.addEvent('coupon_applied', { code: 'WINTER', percent: 10 }, TIME);
      span.recordException(new Error('declined'), TIME);
      span.end();
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => e.event),
        ['cart_viewed', 'coupon_applied', '$exception'],
      );
      const { traceId, spanId } = span.spanContext();
      for (const event of events) {
        assert.equal(event.timestamp, TIMESTAMP);
        assert.equal(event.properties.otel_span_name, 'checkout');
        assert.equal(event.properties.otel_scope_name, 'shop');
        assert.equal(event.properties.$trace_id, traceId);
        assert.equal(event.properties.$span_id, spanId);
      }
      assert.deepEqual(only(events, 'coupon_applied').properties, {
        $trace_id: traceId,
        $span_id: spanId,
        otel_scope_name: 'shop',
        otel_span_name: 'checkout',
        code: 'WINTER',
        percent: 10,
        $geoip_disable: true,
      });
      assert.equal(p.processor.getStats().selected, 3);
    });
  });
});

describe('exceptions', () => {
  test('a named event and its linked $exception are counted apart: one dropped, one delivered, the identity holds', async () => {
    const beforeSend = (event: CaptureEvent): CaptureEvent | null => (event.event === '$exception' ? null : event);
    await withPipeline({ options: { beforeSend } }, async (p) => {
      p.logger('app').emit({
        eventName: 'refund_failed',
        timestamp: TIME,
        attributes: { 'user.id': 'u', 'exception.message': 'gateway down' },
      });
      p.logger('app').emit({ eventName: 'plain', timestamp: TIME, attributes: { 'user.id': 'u' } });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => e.event),
        ['refund_failed', 'plain'],
      );
      const stats = p.processor.getStats();
      assert.deepEqual([stats.emitted, stats.selected, stats.delivered, stats.pending], [2, 3, 2, 0]);
      assert.deepEqual(stats.dropped, { before_send: 1 });
      assertIdentity(stats);
    });
  });

  test('the named event dropped by beforeSend, its linked $exception delivered: counted apart, the identity holds', async () => {
    const beforeSend = (event: CaptureEvent): CaptureEvent | null => (event.event === 'refund_failed' ? null : event);
    await withPipeline({ options: { beforeSend } }, async (p) => {
      p.logger('app').emit({
        eventName: 'refund_failed',
        timestamp: TIME,
        attributes: { 'user.id': 'u', 'exception.message': 'gateway down' },
      });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => e.event),
        ['$exception'],
      );
      const stats = p.processor.getStats();
      assert.deepEqual([stats.emitted, stats.selected, stats.delivered, stats.pending], [1, 2, 1, 0]);
      assert.deepEqual(stats.dropped, { before_send: 1 });
      assertIdentity(stats);
    });
  });

  test('both events of a linked pair dropped by the server: both counted, the identity holds', async () => {
    await withPipeline({}, async (p) => {
      p.server.setDefault({ defaultResult: 'drop' });
      p.logger('app').emit({
        eventName: 'refund_failed',
        timestamp: TIME,
        attributes: { 'user.id': 'u', 'exception.message': 'gateway down' },
      });
      await flushValid(p);
      const stats = p.processor.getStats();
      assert.deepEqual([stats.emitted, stats.selected, stats.delivered, stats.pending], [1, 2, 0, 0]);
      assert.deepEqual(stats.dropped, { server_drop: 2 });
      assertIdentity(stats);
    });
  });

  test('a distinct id over 200 bytes: capture drops the pair, they are counted with its reason, the rest of the batch goes', async () => {
    const dropped: Array<[string, string | undefined, string[]]> = [];
    await withPipeline(
      { options: { onDrop: (events, reason, details) => dropped.push([reason, details, events.map((e) => e.event)]) } },
      async (p) => {
        // 101 characters, 202 bytes: capture counts bytes.
        p.logger('app').emit({
          eventName: 'refund_failed',
          timestamp: TIME,
          attributes: { 'user.id': 'é'.repeat(101), 'exception.message': 'gateway down' },
        });
        p.logger('app').emit({ eventName: 'plain', timestamp: TIME, attributes: { 'user.id': 'u' } });
        const events = await flushValid(p);
        assert.deepEqual(
          events.map((e) => e.event),
          ['plain'],
        );
        assert.deepEqual(dropped, [['server_drop', 'distinct_id_too_large', ['refund_failed', '$exception']]]);
        const stats = p.processor.getStats();
        assert.deepEqual([stats.emitted, stats.selected, stats.delivered, stats.pending], [2, 3, 1, 0]);
        assert.deepEqual(stats.dropped, { server_drop: 2 });
        assertIdentity(stats);
      },
    );
  });

  test('a linked pair in a dry run: both printed, both counted as dry_run', async () => {
    const lines: string[] = [];
    await withPipeline({ options: { dryRun: true }, internals: { print: (line) => lines.push(line) } }, async (p) => {
      p.logger('app').emit({
        eventName: 'refund_failed',
        timestamp: TIME,
        attributes: { 'user.id': 'u', 'exception.message': 'gateway down' },
      });
      await p.flush();
      assert.equal(p.requests().length, 0);
      const printed = lines
        .filter((l) => l.includes('dry run, not sent: event '))
        .map((l) => (JSON.parse(l.slice(l.indexOf('{'))) as CaptureEvent).event);
      assert.deepEqual(printed, ['refund_failed', '$exception']);
      const stats = p.processor.getStats();
      assert.deepEqual([stats.emitted, stats.selected, stats.delivered, stats.pending], [1, 2, 0, 0]);
      assert.deepEqual(stats.dropped, { dry_run: 2 });
      assertIdentity(stats);
    });
  });
});

describe('uuid', () => {
  test('the same posthog.uuid twice in one batch does not lose the batch', async () => {
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      const uuid = '0190f3c4-aaaa-7bbb-8ccc-0123456789ad';
      log.emit({ eventName: 'first', timestamp: TIME, attributes: { 'posthog.uuid': uuid } });
      log.emit({ eventName: 'repeat', timestamp: TIME, attributes: { 'posthog.uuid': uuid.toUpperCase() } });
      log.emit({ eventName: 'unrelated', timestamp: TIME });
      const events = await flushValid(p);
      assert.ok(
        events.some((e) => e.event === 'unrelated'),
        'an unrelated event of the same batch is delivered',
      );
      assert.ok(events.some((e) => e.uuid === uuid));
    });
  });
});

describe('lone surrogates', () => {
  test('strings cut inside an emoji, by attribute limits, by hand or by a beforeSend hook: no request fails, every event arrives', async () => {
    const lone = '\ud83d';
    // Five characters, then an emoji: a 6-unit attribute limit keeps its high surrogate only.
    const cut = (five: string): string => `${five}😀 and more`;
    const beforeSend = (event: CaptureEvent): CaptureEvent =>
      event.event === 'hooked' ? { ...event, distinct_id: `hook ${lone}`, session_id: `s ${lone}` } : event;
    await withPipeline({ options: { beforeSend } }, async (p) => {
      const limits = { attributeValueLengthLimit: 6 };
      const log = new LoggerProvider({
        resource: resourceFromAttributes({}),
        processors: [p.processor],
        logRecordLimits: limits,
      }).getLogger('cut');
      const tracer = new TracerProvider({
        resource: resourceFromAttributes({}),
        spanLimits: limits,
        spanProcessors: [p.spanProcessor],
      }).getTracer('cut');
      log.emit({
        timestamp: TIME,
        attributes: { 'posthog.event': cut('named'), 'posthog.distinct_id': cut('user1'), 'posthog.session_id': cut('sess1') },
      });
      p.logger('app').emit({ timestamp: TIME, eventName: `by hand ${lone}`, body: `body ${lone}` });
      log.emit({ timestamp: TIME, eventName: 'hooked', attributes: { 'user.id': 'u' } });
      const span = tracer.startSpan('op');
      span.addEvent('span_cut', { 'user.id': cut('user3') }, TIME);
      span.end();
      const events = await flushValid(p);
      assert.deepEqual(p.invalidRequests(), []);
      const fixed = '\ufffd';
      assert.deepEqual(
        events.map((e) => e.event),
        [`named${fixed}`, `by hand ${fixed}`, 'hooked', 'span_cut'],
      );
      assert.deepEqual([events[0]!.distinct_id, events[0]!.session_id], [`user1${fixed}`, `sess1${fixed}`]);
      assert.deepEqual([events[2]!.distinct_id, events[2]!.session_id], [`hook ${fixed}`, `s ${fixed}`]);
      assert.equal(events[3]!.distinct_id, `user3${fixed}`);
      const stats = p.processor.getStats();
      assert.equal(stats.delivered, events.length);
      assertIdentity(stats);
    });
  });
});

describe('values JSON cannot hold', () => {
  test('never break a batch: BigInt, NaN/Infinity, bytes, cycles and 10 000-deep nesting go in one request, all delivered', async () => {
    const writer = new RawAttributeWriter();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    writer.byEventName.set('raw_bigint', { big: 12345678901234567890n });
    writer.byEventName.set('raw_cyclic', { cyc: cyclic });
    writer.byEventName.set('raw_deep', { deep });

    await withPipeline({ processorsBefore: [writer] }, async (p) => {
      const log = p.logger('app');
      const emit = (eventName: string, attributes: Attributes = {}) =>
        log.emit({ eventName, timestamp: TIME, attributes: { 'user.id': 'u', ...attributes } });
      emit('sdk_bigint', { big: 10n as never, kept: 'yes' });
      emit('sdk_cyclic', { cyc: cyclic as never, kept: 'yes' });
      emit('numbers', { nan: NaN, inf: Infinity, ninf: -Infinity, nested: { n: NaN, list: [Infinity, 1] } as never });
      emit('bytes', { bytes: new Uint8Array([104, 105, 33]) });
      emit('raw_bigint');
      emit('raw_cyclic');
      emit('raw_deep');
      emit('normal', { plan: 'pro' });
      const events = await flushValid(p);

      assert.equal(p.requests().length, 1, 'everything went in one request');
      assert.deepEqual(
        events.map((e) => e.event),
        ['sdk_bigint', 'sdk_cyclic', 'numbers', 'bytes', 'raw_bigint', 'raw_cyclic', 'raw_deep', 'normal'],
      );
      assert.equal(only(events, 'raw_bigint').properties.big, '12345678901234567890');
      const stats = p.processor.getStats();
      assert.equal(stats.delivered, 8);
      assert.deepEqual(stats.dropped, {});
    });
  });
});

describe('span events without a name', () => {
  test('become events named span_event and are counted', async () => {
    await withPipeline({}, async (p) => {
      const span = p.tracer().startSpan('work');
      span.addEvent('', { k: 1 });
      span.end();
      const events = await flushValid(p);
      assert.equal(only(events, 'span_event').properties.k, 1);
      const stats = p.processor.getStats();
      assert.equal(stats.selected, 1);
      assert.equal(stats.delivered, 1);
    });
  });
});

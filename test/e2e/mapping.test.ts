// End-to-end tests of the record → PostHog event mapping: real OpenTelemetry LoggerProvider and
// TracerProvider, our processors, the batch processor, the capture client and a real HTTP fake
// capture server. Every assertion is on what the server accepted.
//

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import zlib from 'node:zlib';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, INVALID_SPAN_CONTEXT, SeverityNumber, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { CaptureEvent } from '../../src/capture/types.ts';
import type { StackFrame } from '../../src/mapping/exception-list.ts';
import { cymbalProblems } from '../support/cymbal-schema.ts';
import { assertIdentity, withPipeline } from '../support/pipeline.ts';
import type { Pipeline, PipelineOptions } from '../support/pipeline.ts';

const TIME = new Date('2025-01-02T03:04:05.678Z');
const TIMESTAMP = '2025-01-02T03:04:05.678Z';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const THIS_FILE = fileURLToPath(import.meta.url);
/** Error tracking gets in-app filenames relative to the working directory. */
const THIS_FILE_RELATIVE = relative(process.cwd(), THIS_FILE);

/** Flushes, checks every request passed the server's validation and was answered 200, returns the accepted events. */
async function flushValid(p: Pipeline): Promise<CaptureEvent[]> {
  const events = await p.flush();
  assert.deepEqual(
    p.invalidRequests().map((r) => r.validation),
    [],
    'every request passes the fake server validation',
  );
  for (const request of p.requests()) assert.equal(request.responseStatus, 200);
  return events;
}

function only(events: readonly CaptureEvent[], name: string): CaptureEvent {
  const matching = events.filter((e) => e.event === name);
  assert.equal(matching.length, 1, `exactly one "${name}" event among ${JSON.stringify(events.map((e) => e.event))}`);
  return matching[0]!;
}

function exceptionList(
  event: CaptureEvent,
): Array<{ type: string; value: string; mechanism: unknown; stacktrace?: { type: string; frames: StackFrame[] } }> {
  const list = event.properties.$exception_list;
  assert.ok(Array.isArray(list), '$exception_list is an array');
  return list as ReturnType<typeof exceptionList>;
}

/** 1-based line and column of `needle` in this file, on the (single) line containing `lineMarker`. */
function sourcePosition(lineMarker: string, needle: string): { lineno: number; colno: number } {
  const lines = readFileSync(THIS_FILE, 'utf8').split('\n');
  const index = lines.findIndex((line) => line.includes(lineMarker));
  assert.notEqual(index, -1, `marker ${lineMarker} found`);
  return { lineno: index + 1, colno: lines[index]!.indexOf(needle) + 1 };
}

// Named functions so the stack has recognisable frames; the innermost is `throwCardDeclined`.
function chargeCard(): never {
  return authorizePayment(); // @frame:chargeCard
}
function authorizePayment(): never {
  return throwCardDeclined(); // @frame:authorizePayment
}
function throwCardDeclined(): never {
  throw new TypeError('card declined'); // @frame:throwCardDeclined
}
function caughtError(): Error {
  try {
    chargeCard();
  } catch (error) {
    return error as Error;
  }
}

/**
 * A processor placed before ours that writes attributes straight into the record, bypassing the
 * SDK's validation (as hand-written enrichers do). The only way to hand the mapping values the
 * SDK itself refuses (BigInt, cycles) or cannot validate (very deep nesting overflows its checks).
 */
class RawAttributeWriter implements LogRecordProcessor {
  readonly byEventName = new Map<string, Record<string, unknown>>();
  onEmit(record: ReadWriteLogRecord): void {
    const raw = record.eventName === undefined ? undefined : this.byEventName.get(record.eventName);
    if (raw !== undefined) Object.assign(record.attributes, raw);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

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

  test("logRecords: 'all' sends plain log lines as `log` events", async () => {
    await withPipeline({ options: { logRecords: 'all' } }, async (p) => {
      p.logger('app').emit({ body: 'hello', timestamp: TIME });
      const [event, ...rest] = await flushValid(p);
      assert.deepEqual(rest, []);
      assert.equal(event!.event, 'log');
      assert.equal(event!.properties.body, 'hello');
      assert.equal(event!.timestamp, TIMESTAMP);
    });
  });

  test('logEventName names the events made from plain log lines', async () => {
    await withPipeline({ options: { logRecords: 'all', logEventName: 'log_line' } }, async (p) => {
      p.logger('app').emit({ body: 'hello', timestamp: TIME });
      p.logger('app').emit({ eventName: 'real_event', body: 'with a name', timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.event, e.properties.body]),
        [
          ['log_line', 'hello'],
          ['real_event', 'with a name'],
        ],
      );
    });
  });

  test('minSeverity filters plain lines by severityNumber (none counts as INFO) and never filters events', async () => {
    await withPipeline({ options: { logRecords: 'all', minSeverity: SeverityNumber.WARN } }, async (p) => {
      const log = p.logger('app');
      log.emit({ body: 'debug', severityNumber: SeverityNumber.DEBUG, timestamp: TIME });
      log.emit({ body: 'info', severityNumber: SeverityNumber.INFO, timestamp: TIME });
      log.emit({ body: 'no severity', timestamp: TIME });
      log.emit({ body: 'warn', severityNumber: SeverityNumber.WARN, timestamp: TIME });
      log.emit({ body: 'error', severityNumber: SeverityNumber.ERROR, timestamp: TIME });
      log.emit({ eventName: 'debug_event', severityNumber: SeverityNumber.DEBUG, timestamp: TIME });
      log.emit({ attributes: { 'posthog.event': 'trace_event' }, severityNumber: SeverityNumber.TRACE, timestamp: TIME });
      log.emit({ attributes: { 'exception.type': 'E' }, severityNumber: SeverityNumber.DEBUG, timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.event, e.properties.body ?? null]),
        [
          ['log', 'warn'],
          ['log', 'error'],
          ['debug_event', null],
          ['trace_event', null],
          ['$exception', null],
        ],
      );
    });
    await withPipeline({ options: { logRecords: 'all', minSeverity: SeverityNumber.INFO } }, async (p) => {
      const log = p.logger('app');
      log.emit({ body: 'debug', severityNumber: SeverityNumber.DEBUG, timestamp: TIME });
      log.emit({ body: 'no severity', timestamp: TIME });
      log.emit({ body: 'info4', severityNumber: SeverityNumber.INFO4, timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => e.properties.body),
        ['no severity', 'info4'],
      );
      assert.equal(events[0]!.properties.severity_number, undefined, 'a record without severity gets no severity_number');
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

describe('event name', () => {
  test('eventName, else posthog.event, else the legacy event.name attribute', async () => {
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      log.emit({
        eventName: 'from_field',
        attributes: { 'posthog.event': 'from_posthog', 'event.name': 'from_legacy', n: 1 },
        timestamp: TIME,
      });
      log.emit({ attributes: { 'posthog.event': 'from_posthog', 'event.name': 'from_legacy', n: 2 }, timestamp: TIME });
      log.emit({ attributes: { 'event.name': 'from_legacy', n: 3 }, timestamp: TIME });
      log.emit({ attributes: { 'posthog.event': 42, 'event.name': 'legacy_after_non_string', n: 4 }, timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.properties.n, e.event]),
        [
          [1, 'from_field'],
          [2, 'from_posthog'],
          [3, 'from_legacy'],
          [4, 'legacy_after_non_string'],
        ],
      );
      for (const event of events) assert.ok(!('posthog.event' in event.properties), 'posthog.event is a control attribute');
    });
  });

  test('a span event is named after itself when it carries no name attribute', async () => {
    await withPipeline({}, async (p) => {
      const span = p.tracer().startSpan('op');
      span.addEvent('item_added', { sku: 'A1' });
      span.end();
      const [event] = await flushValid(p);
      assert.equal(event!.event, 'item_added');
    });
  });

  test("a span event's posthog.event / event.name attribute wins over the span event's own name", async () => {
    await withPipeline({}, async (p) => {
      const span = p.tracer().startSpan('op');
      span.addEvent('clicked', { 'posthog.event': 'button_clicked' });
      span.addEvent('submitted', { 'event.name': 'form_submitted' });
      span.end();
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => e.event),
        ['button_clicked', 'form_submitted'],
      );
    });
  });
});

describe('exceptions', () => {
  test('a named event with exception attributes keeps its name; a $exception linked to it carries the parsed stack, innermost frame last', async () => {
    const error = caughtError();
    await withPipeline({}, async (p) => {
      p.logger('payments').emit({
        eventName: 'payment_failed',
        severityNumber: SeverityNumber.ERROR,
        severityText: 'ERROR',
        timestamp: TIME,
        attributes: {
          'posthog.distinct_id': 'user-1',
          'exception.type': error.name,
          'exception.message': error.message,
          'exception.stacktrace': error.stack,
          order_id: 'o-1',
        },
      });
      const events = await flushValid(p);
      assert.equal(events.length, 2);
      const named = only(events, 'payment_failed');
      const event = only(events, '$exception');
      // Funnels keep payment_failed, with the exception's type and message to break down by.
      assert.deepEqual(named.properties, {
        severity_number: SeverityNumber.ERROR,
        severity_text: 'ERROR',
        otel_scope_name: 'payments',
        'exception.type': 'TypeError',
        'exception.message': 'card declined',
        order_id: 'o-1',
        $geoip_disable: true,
      });
      assert.equal(event.timestamp, TIMESTAMP);
      assert.equal(event.distinct_id, 'user-1');
      assert.notEqual(event.uuid, named.uuid);
      const [entry, ...more] = exceptionList(event);
      assert.deepEqual(more, []);
      assert.equal(entry!.type, 'TypeError');
      assert.equal(entry!.value, 'card declined');
      assert.deepEqual(entry!.mechanism, { type: 'generic', handled: true, synthetic: false, exception_id: 0 });
      assert.equal(entry!.stacktrace?.type, 'raw');
      const frames = entry!.stacktrace!.frames;
      const pick = (f: StackFrame) => ({
        function: f.function,
        filename: f.filename,
        abs_path: f.abs_path,
        lineno: f.lineno,
        colno: f.colno,
        in_app: f.in_app,
      });
      assert.deepEqual(frames.slice(-3).map(pick), [
        {
          function: 'chargeCard',
          filename: THIS_FILE_RELATIVE,
          abs_path: THIS_FILE,
          ...sourcePosition('@frame:chargeCard', 'authorizePayment()'),
          in_app: true,
        },
        {
          function: 'authorizePayment',
          filename: THIS_FILE_RELATIVE,
          abs_path: THIS_FILE,
          ...sourcePosition('@frame:authorizePayment', 'throwCardDeclined()'),
          in_app: true,
        },
        {
          function: 'throwCardDeclined',
          filename: THIS_FILE_RELATIVE,
          abs_path: THIS_FILE,
          ...sourcePosition('@frame:throwCardDeclined', 'new TypeError'),
          in_app: true,
        },
      ]);
      for (const frame of frames) {
        assert.equal(frame.platform, 'node:javascript');
        if (frame.filename.startsWith('node:')) assert.equal(frame.in_app, false, `${frame.filename} is not in-app`);
      }
      assert.deepEqual(cymbalProblems(event.properties), []);
      assert.deepEqual(event.properties, {
        severity_number: SeverityNumber.ERROR,
        severity_text: 'ERROR',
        otel_scope_name: 'payments',
        order_id: 'o-1',
        $geoip_disable: true,
        $exception_list: [entry],
        $exception_level: 'error',
        otel_event_name: 'payment_failed',
        otel_event_uuid: named.uuid,
      });
      // One record, two events: selected counts both.
      const stats = p.processor.getStats();
      assert.deepEqual([stats.emitted, stats.selected, stats.delivered, stats.pending], [1, 2, 2, 0]);
      assertIdentity(stats);
    });
  });

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

  test('$exception_level follows severity: ERROR→error, WARN→warning, FATAL→fatal, none→error', async () => {
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      const cases: Array<[SeverityNumber | undefined, string]> = [
        [SeverityNumber.ERROR, 'error'],
        [SeverityNumber.WARN, 'warning'],
        [SeverityNumber.FATAL, 'fatal'],
        [undefined, 'error'],
      ];
      cases.forEach(([severityNumber], i) => {
        log.emit({
          timestamp: TIME,
          ...(severityNumber === undefined ? {} : { severityNumber }),
          attributes: { 'exception.type': 'E', 'exception.message': 'm', case: i },
        });
      });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.properties.case, e.event, e.properties.$exception_level]),
        cases.map(([, level], i) => [i, '$exception', level]),
      );
    });
  });

  test('exception.escaped: true → handled false; a message alone gives type Error and no stacktrace', async () => {
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      log.emit({
        timestamp: TIME,
        attributes: { 'exception.type': 'FatalError', 'exception.message': 'escaped', 'exception.escaped': true },
      });
      log.emit({ timestamp: TIME, attributes: { 'exception.message': 'just a message' } });
      log.emit({ timestamp: TIME, attributes: { 'exception.type': 'OnlyType' } });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => exceptionList(e)),
        [
          [{ type: 'FatalError', value: 'escaped', mechanism: { type: 'generic', handled: false, synthetic: false, exception_id: 0 } }],
          [{ type: 'Error', value: 'just a message', mechanism: { type: 'generic', handled: true, synthetic: false, exception_id: 0 } }],
          [{ type: 'OnlyType', value: '', mechanism: { type: 'generic', handled: true, synthetic: false, exception_id: 0 } }],
        ],
      );
      for (const event of events) {
        for (const key of ['exception.type', 'exception.message', 'exception.stacktrace'])
          assert.ok(!(key in event.properties), `${key} not duplicated`);
      }
    });
  });

  test('span.recordException becomes $exception (level error, innermost frame last)', async () => {
    const error = caughtError();
    await withPipeline({}, async (p) => {
      const span = p.tracer('svc').startSpan('charge');
      span.recordException(error, TIME);
      span.end();
      const [event, ...rest] = await flushValid(p);
      assert.deepEqual(rest, []);
      assert.equal(event!.event, '$exception');
      assert.equal(event!.timestamp, TIMESTAMP);
      assert.equal(event!.properties.$exception_level, 'error');
      assert.equal(event!.properties.severity_number, SeverityNumber.ERROR);
      assert.equal(event!.properties.otel_span_name, 'charge');
      const [entry] = exceptionList(event!);
      assert.equal(entry!.type, 'TypeError');
      assert.equal(entry!.value, 'card declined');
      assert.deepEqual(entry!.mechanism, { type: 'generic', handled: true, synthetic: false, exception_id: 0 });
      const last = entry!.stacktrace!.frames.at(-1)!;
      assert.deepEqual(
        [last.function, last.filename, last.lineno, last.in_app],
        ['throwCardDeclined', THIS_FILE_RELATIVE, sourcePosition('@frame:throwCardDeclined', 'new').lineno, true],
      );
      for (const key of ['exception.type', 'exception.message', 'exception.stacktrace']) assert.ok(!(key in event!.properties));
    });
  });

  test("the Logs API's `exception` field becomes $exception", async () => {
    const error = caughtError();
    await withPipeline({}, async (p) => {
      p.logger('app').emit({ timestamp: TIME, severityNumber: SeverityNumber.FATAL, exception: error });
      const [event] = await flushValid(p);
      assert.equal(event!.event, '$exception');
      assert.equal(event!.properties.$exception_level, 'fatal');
      const [entry] = exceptionList(event!);
      assert.deepEqual([entry!.type, entry!.value], ['TypeError', 'card declined']);
      assert.equal(entry!.stacktrace!.frames.at(-1)!.function, 'throwCardDeclined');
    });
  });
});

describe('distinct_id', () => {
  test('precedence: posthog.distinct_id > posthogDistinctId > user.id > enduser.id > resource posthog.distinct_id', async () => {
    const resource = resourceFromAttributes({ 'posthog.distinct_id': 'from-resource' });
    await withPipeline({ resource }, async (p) => {
      const log = p.logger('app');
      const all: Attributes = { 'posthog.distinct_id': 'ph', posthogDistinctId: 'camel', 'user.id': 'user', 'enduser.id': 'enduser' };
      const chain = ['posthog.distinct_id', 'posthogDistinctId', 'user.id', 'enduser.id'];
      chain.forEach((_, i) => {
        const attributes: Attributes = { case: i };
        for (const key of chain.slice(i)) attributes[key] = all[key];
        log.emit({ eventName: 'e', timestamp: TIME, attributes });
      });
      log.emit({ eventName: 'e', timestamp: TIME, attributes: { case: 4 } });
      log.emit({ eventName: 'e', timestamp: TIME, attributes: { case: 5, 'posthog.distinct_id': '   ', 'user.id': 'after-blank' } });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.properties.case, e.distinct_id, e.options]),
        [
          [0, 'ph', {}],
          [1, 'camel', {}],
          [2, 'user', {}],
          [3, 'enduser', {}],
          [4, 'from-resource', {}],
          [5, 'after-blank', {}],
        ],
      );
      for (const event of events) assert.ok(!('posthog.distinct_id' in event.properties));
    });
  });

  test('number ids become strings', async () => {
    await withPipeline({}, async (p) => {
      p.logger('app').emit({ eventName: 'a', timestamp: TIME, attributes: { 'user.id': 42 } });
      p.logger('app').emit({ eventName: 'b', timestamp: TIME, attributes: { 'posthog.distinct_id': 0 } });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.event, e.distinct_id, e.options]),
        [
          ['a', '42', {}],
          ['b', '0', {}],
        ],
      );
    });
  });

  test('without an id: a fresh UUID per event and process_person_profile false, unless set explicitly', async () => {
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      log.emit({ eventName: 'anon1', timestamp: TIME });
      log.emit({ eventName: 'anon2', timestamp: TIME });
      log.emit({ eventName: 'explicit_true', timestamp: TIME, attributes: { 'posthog.process_person_profile': 'true' } });
      log.emit({ eventName: 'explicit_false', timestamp: TIME, attributes: { 'posthog.process_person_profile': false } });
      const events = await flushValid(p);
      const [a, b] = events;
      for (const event of events) {
        assert.match(event.distinct_id, UUID);
        assert.notEqual(event.distinct_id, event.uuid);
      }
      assert.notEqual(a!.distinct_id, b!.distinct_id);
      assert.equal(new Set(events.map((e) => e.distinct_id)).size, 4);
      assert.deepEqual(
        events.map((e) => [e.event, e.options]),
        [
          ['anon1', { process_person_profile: false }],
          ['anon2', { process_person_profile: false }],
          ['explicit_true', { process_person_profile: true }],
          ['explicit_false', { process_person_profile: false }],
        ],
      );
    });
  });
});

describe('session_id and window_id', () => {
  test('session_id: posthog.session_id > $session_id > session.id / sessionId when UUIDv7; window_id likewise; strings only', async () => {
    const V7_SESSION = '0190f3c4-aaaa-7bbb-8ccc-0123456789ab';
    const V7_WINDOW = '0190f3c4-bbbb-7ccc-9ddd-0123456789ab';
    const V4 = '3b241101-e2bb-4255-8caf-4136c566a962';
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      const emit = (n: number, attributes: Attributes) =>
        log.emit({ eventName: 'e', timestamp: TIME, attributes: { 'user.id': 'u', n, ...attributes } });
      emit(0, {
        'posthog.session_id': 's-ph',
        sessionId: V7_SESSION,
        'session.id': V7_SESSION,
        'posthog.window_id': 'w-ph',
        'window.id': V7_WINDOW,
      });
      emit(1, { sessionId: V7_SESSION, 'session.id': 'express-session-1', 'window.id': V7_WINDOW });
      emit(2, { 'session.id': V7_SESSION });
      emit(3, { 'posthog.session_id': 12345, 'posthog.window_id': 7 });
      emit(4, { 'posthog.session_id': 12345, 'session.id': V7_SESSION });
      emit(5, {});
      emit(6, { 'session.id': 'express-session-1', sessionId: V4, 'window.id': 'w-app' });
      const events = await flushValid(p);
      const ids = events.map((e) => ({
        n: e.properties.n,
        ...('session_id' in e ? { session_id: e.session_id } : {}),
        ...('window_id' in e ? { window_id: e.window_id } : {}),
      }));
      assert.deepEqual(ids, [
        { n: 0, session_id: 's-ph', window_id: 'w-ph' },
        { n: 1, session_id: V7_SESSION, window_id: V7_WINDOW },
        { n: 2, session_id: V7_SESSION },
        { n: 3 },
        { n: 4, session_id: V7_SESSION },
        { n: 5 },
        { n: 6 },
      ]);
      // An application's own session id is no PostHog session: it stays a property.
      assert.equal(events[6]!.properties['session.id'], 'express-session-1');
      // On the wire the keys are absent, never null.
      const raw = p.requests().flatMap((r) => (r.decodedBody as { batch: Array<Record<string, unknown>> }).batch);
      assert.ok(!('session_id' in raw[3]!) && !('window_id' in raw[3]!) && !('session_id' in raw[5]!));
      for (const event of events) {
        assert.ok(!('posthog.session_id' in event.properties) && !('posthog.window_id' in event.properties));
      }
    });
  });

  test('a $session_id / $window_id attribute is lifted to the root and not kept in properties', async () => {
    await withPipeline({}, async (p) => {
      p.logger('app').emit({
        eventName: 'e',
        timestamp: TIME,
        attributes: { 'user.id': 'u', $session_id: 'legacy-s', $window_id: 'legacy-w' },
      });
      const [event] = await flushValid(p);
      assert.equal(event!.session_id, 'legacy-s');
      assert.equal(event!.window_id, 'legacy-w');
      assert.ok(!('$session_id' in event!.properties) && !('$window_id' in event!.properties));
    });
  });
});

describe('options', () => {
  test('posthog.* option attributes are coerced; unset and uncoercible ones are omitted', async () => {
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      const emit = (n: number, attributes: Attributes) =>
        log.emit({ eventName: 'e', timestamp: TIME, attributes: { 'user.id': 'u', n, ...attributes } });
      emit(0, {});
      emit(1, {
        'posthog.cookieless_mode': true,
        'posthog.disable_skew_correction': false,
        'posthog.process_person_profile': true,
        'posthog.product_tour_id': 'tour-1',
      });
      emit(2, { 'posthog.cookieless_mode': ' TRUE ', 'posthog.disable_skew_correction': 'False', 'posthog.process_person_profile': '1' });
      emit(3, { 'posthog.cookieless_mode': '0', 'posthog.disable_skew_correction': 2, 'posthog.process_person_profile': 0 });
      emit(4, {
        'posthog.cookieless_mode': 'yes',
        'posthog.disable_skew_correction': '',
        'posthog.process_person_profile': [true],
        'posthog.product_tour_id': 42,
      });
      emit(5, { 'posthog.cookieless_mode': NaN, 'posthog.disable_skew_correction': -1, 'posthog.product_tour_id': '' });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.properties.n, e.options]),
        [
          [0, {}],
          [1, { cookieless_mode: true, disable_skew_correction: false, process_person_profile: true, product_tour_id: 'tour-1' }],
          [2, { cookieless_mode: true, disable_skew_correction: false, process_person_profile: true }],
          [3, { cookieless_mode: false, disable_skew_correction: true, process_person_profile: false }],
          [4, {}],
          [5, { disable_skew_correction: true }],
        ],
      );
      for (const event of events) {
        assert.deepEqual(
          Object.keys(event.properties).filter((k) => k.startsWith('posthog.')),
          [],
        );
      }
    });
  });
});

describe('uuid and timestamp', () => {
  test('posthog.uuid is kept (canonical lower case) when valid; otherwise a UUIDv7 is generated', async () => {
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      const emit = (n: number, attributes: Attributes) =>
        log.emit({ eventName: 'e', timestamp: TIME, attributes: { 'user.id': 'u', n, ...attributes } });
      emit(0, { 'posthog.uuid': '0190F3C4-AAAA-7BBB-8CCC-0123456789AB' });
      emit(1, { 'posthog.uuid': '  0190f3c4-aaaa-7bbb-8ccc-0123456789ac ' });
      emit(2, { 'posthog.uuid': 'not-a-uuid' });
      emit(3, { 'posthog.uuid': 12345 });
      emit(4, {});
      emit(5, {});
      const events = await flushValid(p);
      assert.equal(events.length, 6);
      assert.equal(events[0]!.uuid, '0190f3c4-aaaa-7bbb-8ccc-0123456789ab');
      assert.equal(events[1]!.uuid, '0190f3c4-aaaa-7bbb-8ccc-0123456789ac');
      for (const event of events.slice(2)) assert.match(event.uuid, UUID_V7);
      assert.equal(new Set(events.map((e) => e.uuid)).size, 6);
      for (const event of events) assert.ok(!('posthog.uuid' in event.properties));
    });
  });

  test('timestamp is the record time as UTC RFC 3339', async () => {
    await withPipeline({}, async (p) => {
      p.logger('app').emit({ eventName: 'from_date', timestamp: TIME });
      p.logger('app').emit({ eventName: 'from_millis', timestamp: Date.UTC(2024, 1, 29, 23, 59, 59, 1) });
      const span = p.tracer().startSpan('op');
      span.addEvent('from_span_event', TIME);
      span.end();
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.event, e.timestamp]),
        [
          ['from_date', TIMESTAMP],
          ['from_millis', '2024-02-29T23:59:59.001Z'],
          ['from_span_event', TIMESTAMP],
        ],
      );
    });
  });

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

describe('properties', () => {
  const resource = resourceFromAttributes({
    'service.name': 'checkout',
    'service.version': '1.2.3',
    'service.namespace': 'shop',
    'deployment.environment.name': 'prod',
    'host.name': 'web-1',
    'process.pid': 4321,
  });

  test('attributes are written the same whether one needs leaving out or converting, or none does', async () => {
    const attributes = {
      plan: 'pro',
      'cart.items': 3,
      'cart.value': 19.5,
      returning: true,
      flags: ['a', 'b'],
      nothing: null,
      quote: 'say "hi"\n',
      '10': 'ten',
    };
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      // Written as a whole (nothing to leave out or convert), then member by member (a control
      // attribute to leave out; a value to convert).
      log.emit({ eventName: 'whole', timestamp: TIME, attributes });
      log.emit({ eventName: 'one_by_one', timestamp: TIME, attributes: { ...attributes, 'posthog.distinct_id': 'u1' } });
      log.emit({ eventName: 'converted', timestamp: TIME, attributes: { ...attributes, ratio: Number.NaN } });
      const events = await flushValid(p);
      const whole = only(events, 'whole').properties;
      assert.deepEqual(whole, { otel_scope_name: 'app', ...attributes, $geoip_disable: true });
      assert.deepEqual(Object.entries(only(events, 'one_by_one').properties), Object.entries(whole));
      const { ratio, ...rest } = only(events, 'converted').properties;
      assert.equal(ratio, 'NaN');
      assert.deepEqual(Object.entries(rest), Object.entries(whole));
    });
  });

  test('attributes keep keys and JSON shape; posthog.* removed; $set/$set_once/$groups pass through; $lib stripped', async () => {
    await withPipeline({ resource }, async (p) => {
      p.logger('shop').emit({
        eventName: 'order_completed',
        timestamp: TIME,
        severityNumber: SeverityNumber.INFO,
        severityText: 'INFO',
        body: 'order done',
        attributes: {
          'posthog.distinct_id': 'user-7',
          'posthog.session_id': 'sess-1',
          'posthog.something_else': 'control',
          'posthog.process_person_profile': 'true',
          amount: 12.5,
          items: 3,
          paid: true,
          nothing: null,
          tags: ['a', 'b'],
          matrix: [
            [1, 2],
            [3, 4],
          ],
          shipping: { address: { city: 'Lyon', zip: '69001' }, methods: ['post', { kind: 'express' }] },
          $set: { plan: 'pro', seats: 5 },
          $set_once: { first_plan: 'free' },
          $groups: { company: 'acme' },
          $lib: 'someone-else',
          $lib_version: '9.9.9',
        },
      });
      const [event, ...rest] = await flushValid(p);
      assert.deepEqual(rest, []);
      assert.deepEqual(event, {
        event: 'order_completed',
        uuid: event!.uuid,
        distinct_id: 'user-7',
        timestamp: TIMESTAMP,
        session_id: 'sess-1',
        options: { process_person_profile: true },
        properties: {
          service_name: 'checkout',
          'service.version': '1.2.3',
          'service.namespace': 'shop',
          'deployment.environment.name': 'prod',
          severity_number: SeverityNumber.INFO,
          severity_text: 'INFO',
          body: 'order done',
          otel_scope_name: 'shop',
          amount: 12.5,
          items: 3,
          paid: true,
          nothing: null,
          tags: ['a', 'b'],
          matrix: [
            [1, 2],
            [3, 4],
          ],
          shipping: { address: { city: 'Lyon', zip: '69001' }, methods: ['post', { kind: 'express' }] },
          $set: { plan: 'pro', seats: 5 },
          $set_once: { first_plan: 'free' },
          $groups: { company: 'acme' },
          $geoip_disable: true,
        },
      });
      assert.match(event!.uuid, UUID_V7);
    });
  });

  test('body is kept only when it is a string', async () => {
    await withPipeline({ options: { logRecords: 'all' } }, async (p) => {
      const log = p.logger('app');
      log.emit({ body: 'text body', attributes: { n: 0 }, timestamp: TIME });
      log.emit({ body: { structured: true }, attributes: { n: 1 }, timestamp: TIME });
      log.emit({ body: 42, attributes: { n: 2 }, timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.properties.n, 'body' in e.properties ? e.properties.body : '<none>']),
        [
          [0, 'text body'],
          [1, '<none>'],
          [2, '<none>'],
        ],
      );
    });
  });

  test('$trace_id / $span_id are present exactly when the record has a valid span context', async () => {
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      const span = p.tracer().startSpan('request');
      log.emit({ eventName: 'inside', timestamp: TIME, context: trace.setSpan(context.active(), span) });
      log.emit({ eventName: 'outside', timestamp: TIME });
      log.emit({
        eventName: 'invalid_context',
        timestamp: TIME,
        context: trace.setSpan(context.active(), trace.wrapSpanContext(INVALID_SPAN_CONTEXT)),
      });
      span.end();
      const events = await flushValid(p);
      const { traceId, spanId } = span.spanContext();
      assert.match(traceId, /^[0-9a-f]{32}$/);
      const inside = only(events, 'inside');
      assert.equal(inside.properties.$trace_id, traceId);
      assert.equal(inside.properties.$span_id, spanId);
      assert.ok(!('otel_span_name' in inside.properties), 'otel_span_name is for span events only');
      for (const name of ['outside', 'invalid_context']) {
        const event = only(events, name);
        assert.ok(!('$trace_id' in event.properties) && !('$span_id' in event.properties), name);
      }
    });
  });

  test('resource attributes: default, all, none and a list', async () => {
    const cases: Array<[PipelineOptions['options'], Record<string, unknown>]> = [
      [{}, { service_name: 'checkout', 'service.version': '1.2.3', 'service.namespace': 'shop', 'deployment.environment.name': 'prod' }],
      [
        { resourceAttributes: 'all' },
        {
          service_name: 'checkout',
          'service.name': 'checkout',
          'service.version': '1.2.3',
          'service.namespace': 'shop',
          'deployment.environment.name': 'prod',
          'host.name': 'web-1',
          'process.pid': 4321,
        },
      ],
      [{ resourceAttributes: 'none' }, {}],
      [
        { resourceAttributes: ['host.name', 'process.pid', 'not.there'] },
        { service_name: 'checkout', 'host.name': 'web-1', 'process.pid': 4321 },
      ],
    ];
    for (const [options, expected] of cases) {
      await withPipeline({ resource, options }, async (p) => {
        p.logger('app').emit({ eventName: 'e', timestamp: TIME, attributes: { 'user.id': 'u' } });
        const span = p.tracer('app').startSpan('op');
        span.addEvent('span_e', TIME);
        span.end();
        const events = await flushValid(p);
        assert.equal(events.length, 2);
        const [logEvent, spanEvent] = events;
        assert.deepEqual(
          logEvent!.properties,
          { ...expected, otel_scope_name: 'app', 'user.id': 'u', $geoip_disable: true },
          JSON.stringify(options),
        );
        const { $trace_id: _t, $span_id: _s, otel_span_name: _n, ...spanProperties } = spanEvent!.properties;
        assert.deepEqual(spanProperties, { ...expected, otel_scope_name: 'app', $geoip_disable: true }, JSON.stringify(options));
      });
    }
  });

  test('resource posthog.* attributes never become properties, even with resourceAttributes all', async () => {
    const withId = resourceFromAttributes({ 'service.name': 'svc', 'posthog.distinct_id': 'svc-user', 'posthog.other': 'x' });
    await withPipeline({ resource: withId, options: { resourceAttributes: 'all' } }, async (p) => {
      p.logger('app').emit({ eventName: 'e', timestamp: TIME });
      const [event] = await flushValid(p);
      assert.equal(event!.distinct_id, 'svc-user');
      assert.deepEqual(event!.properties, { service_name: 'svc', 'service.name': 'svc', otel_scope_name: 'app', $geoip_disable: true });
    });
  });

  test('the deprecated deployment.environment is still copied by default (many SDKs still set it); other keys are not', async () => {
    const legacy = resourceFromAttributes({ 'service.name': 'svc', 'deployment.environment': 'staging', 'host.name': 'h1' });
    await withPipeline({ resource: legacy }, async (p) => {
      p.logger('app').emit({ eventName: 'e', timestamp: TIME, attributes: { 'user.id': 'u' } });
      const [event] = await flushValid(p);
      assert.deepEqual(event!.properties, {
        'deployment.environment': 'staging',
        service_name: 'svc',
        otel_scope_name: 'app',
        'user.id': 'u',
        $geoip_disable: true,
      });
    });
  });

  test('$geoip_disable: true by default, absent with disableGeoip false, a user-set attribute wins', async () => {
    await withPipeline({}, async (p) => {
      const log = p.logger('app');
      log.emit({ eventName: 'default', timestamp: TIME });
      log.emit({ eventName: 'user_false', timestamp: TIME, attributes: { $geoip_disable: false } });
      const events = await flushValid(p);
      assert.equal(only(events, 'default').properties.$geoip_disable, true);
      assert.equal(only(events, 'user_false').properties.$geoip_disable, false);
    });
    await withPipeline({ options: { disableGeoip: false } }, async (p) => {
      const log = p.logger('app');
      log.emit({ eventName: 'geo_on', timestamp: TIME });
      log.emit({ eventName: 'user_true', timestamp: TIME, attributes: { $geoip_disable: true } });
      const events = await flushValid(p);
      assert.ok(!('$geoip_disable' in only(events, 'geo_on').properties));
      assert.equal(only(events, 'user_true').properties.$geoip_disable, true);
    });
  });

  test('an attribute named like a property the mapping sets replaces it: the later value, sent once', async () => {
    const clashing = resourceFromAttributes({ 'service.name': 'svc', body: 'from resource', 'host.name': 'h1' });
    await withPipeline({ resource: clashing, options: { resourceAttributes: 'all' } }, async (p) => {
      const log = p.logger('app');
      log.emit({ eventName: 'plain', body: 'the body', timestamp: TIME });
      log.emit({
        eventName: 'clash',
        body: 'the body',
        severityText: 'INFO',
        timestamp: TIME,
        attributes: {
          body: 'from attribute',
          service_name: 'attr-svc',
          severity_text: 'custom',
          'host.name': 'h2',
          otel_scope_name: 'mine',
        },
      });
      log.emit({ timestamp: TIME, attributes: { 'exception.type': 'Boom', $exception_list: 'not a list', $exception_level: 'warning' } });
      const events = await flushValid(p);
      assert.deepEqual(only(events, 'plain').properties, {
        'service.name': 'svc',
        body: 'the body',
        'host.name': 'h1',
        service_name: 'svc',
        otel_scope_name: 'app',
        $geoip_disable: true,
      });
      const clash = only(events, 'clash').properties;
      assert.deepEqual(clash, {
        'service.name': 'svc',
        body: 'from attribute',
        'host.name': 'h2',
        service_name: 'attr-svc',
        severity_text: 'custom',
        otel_scope_name: 'mine',
        $geoip_disable: true,
      });
      // The later value takes the earlier place, as assignment to an object would.
      assert.deepEqual(Object.keys(clash), [
        'service.name',
        'body',
        'host.name',
        'service_name',
        'severity_text',
        'otel_scope_name',
        '$geoip_disable',
      ]);
      const exception = only(events, '$exception');
      assert.equal(exceptionList(exception)[0]!.type, 'Boom');
      assert.equal(exception.properties.$exception_level, 'warning');
      // The server reads the last of repeated keys, other readers the first: none may repeat.
      for (const request of p.requests()) {
        const text = decodedText(request.rawBody, request.headers['content-encoding']);
        const sent = (JSON.parse(text) as { batch: CaptureEvent[] }).batch;
        for (const key of [
          'body',
          'service_name',
          'severity_text',
          'host.name',
          'otel_scope_name',
          '$exception_list',
          '$exception_level',
        ]) {
          const inText = text.split(`"${key}":`).length - 1;
          assert.equal(inText, sent.filter((e) => key in e.properties).length, `"${key}" written once per event that has it`);
        }
      }
    });
  });
});

/** The request's JSON text, decompressed as its Content-Encoding says. */
function decodedText(raw: Buffer, encoding: string | string[] | undefined): string {
  switch (encoding) {
    case 'gzip':
      return zlib.gunzipSync(raw).toString('utf8');
    case 'deflate':
      return zlib.inflateSync(raw).toString('utf8');
    case 'zstd':
      return zlib.zstdDecompressSync(raw).toString('utf8');
    default:
      return raw.toString('utf8');
  }
}

describe('lone surrogates', () => {
  test('strings cut inside an emoji, by attribute limits or by hand, in every typed field: no request fails, every event arrives', async () => {
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
        attributes: {
          'posthog.event': cut('named'),
          'posthog.distinct_id': cut('user1'),
          'posthog.session_id': cut('sess1'),
          'posthog.window_id': cut('wind1'),
          'posthog.product_tour_id': cut('tour1'),
          note: cut('note1'),
        },
      });
      p.logger('app').emit({
        timestamp: TIME,
        eventName: `by hand ${lone}`,
        body: `body ${lone}`,
        attributes: { [`key ${lone}`]: `value ${lone}` },
      });
      log.emit({ timestamp: TIME, eventName: '$groupidentify', attributes: { $group_type: 'org', $group_key: cut('acme1') } });
      log.emit({
        timestamp: TIME,
        eventName: 'checkout_failed',
        attributes: { 'user.id': cut('user2'), 'exception.type': 'TypeError', 'exception.message': cut('boom1') },
      });
      log.emit({ timestamp: TIME, eventName: 'hooked', attributes: { 'user.id': 'u' } });
      const span = tracer.startSpan('op');
      span.addEvent('span_cut', { 'user.id': cut('user3'), 'posthog.session_id': cut('sess3') }, TIME);
      span.end();
      const unlimited = p.tracer().startSpan('op');
      unlimited.recordException(new Error(`message ${lone}`), TIME);
      unlimited.end();
      const events = await flushValid(p);
      assert.deepEqual(p.invalidRequests(), []);
      const fixed = '\ufffd';
      assert.deepEqual(
        events.map((e) => e.event),
        [`named${fixed}`, `by hand ${fixed}`, '$groupidentify', 'checkout_failed', '$exception', 'hooked', 'span_cut', '$exception'],
      );
      const [named, byHand, group, failed, linked, hooked, spanEvent, recorded] = events as CaptureEvent[];
      assert.deepEqual(
        [named!.distinct_id, named!.session_id, named!.window_id, named!.options.product_tour_id, named!.properties.note],
        [`user1${fixed}`, `sess1${fixed}`, `wind1${fixed}`, `tour1${fixed}`, `note1${fixed}`],
      );
      assert.equal(byHand!.properties.body, `body ${fixed}`);
      assert.equal(byHand!.properties[`key ${fixed}`], `value ${fixed}`);
      assert.equal(group!.distinct_id, `$org_acme1${fixed}`);
      assert.equal(failed!.distinct_id, `user2${fixed}`);
      assert.equal(exceptionList(linked!)[0]?.value, `boom1${fixed}`);
      assert.deepEqual([hooked!.distinct_id, hooked!.session_id], [`hook ${fixed}`, `s ${fixed}`]);
      assert.deepEqual([spanEvent!.distinct_id, spanEvent!.session_id], [`user3${fixed}`, `sess3${fixed}`]);
      assert.equal(exceptionList(recorded!)[0]?.value, `message ${fixed}`);
      for (const event of [linked!, recorded!]) assert.deepEqual(cymbalProblems(event.properties), []);
      const stats = p.processor.getStats();
      assert.equal(stats.delivered, events.length);
      assertIdentity(stats);
    });
  });
});

describe('values JSON cannot hold', () => {
  test('never break a batch: BigInt, NaN/Infinity, bytes, cycles and 10 000-deep nesting all arrive converted', async () => {
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
      // Through the SDK: it refuses BigInt and cyclic values itself (the attribute is dropped).
      emit('sdk_bigint', { big: 10n, kept: 'yes' });
      emit('sdk_cyclic', { cyc: cyclic, kept: 'yes' });
      emit('numbers', { nan: NaN, inf: Infinity, ninf: -Infinity, nested: { n: NaN, list: [Infinity, 1] } });
      emit('bytes', { bytes: new Uint8Array([104, 105, 33]) });
      // Written straight into the record: the mapping itself must convert these.
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
      const stats = p.processor.getStats();
      assert.equal(stats.delivered, 8);
      assert.deepEqual(stats.dropped, {});

      const sdkBig = only(events, 'sdk_bigint').properties;
      assert.equal(sdkBig.kept, 'yes');
      assert.ok(!('big' in sdkBig) || sdkBig.big === '10', `BigInt through the SDK: dropped or '10', got ${JSON.stringify(sdkBig.big)}`);
      const sdkCyc = only(events, 'sdk_cyclic').properties;
      assert.equal(sdkCyc.kept, 'yes');
      assert.ok(!('cyc' in sdkCyc) || JSON.stringify(sdkCyc.cyc) === '{"a":1,"self":"[Circular]"}');

      const numbers = only(events, 'numbers').properties;
      assert.deepEqual(
        [numbers.nan, numbers.inf, numbers.ninf, numbers.nested],
        ['NaN', 'Infinity', '-Infinity', { n: 'NaN', list: ['Infinity', 1] }],
      );
      assert.equal(only(events, 'bytes').properties.bytes, Buffer.from('hi!').toString('base64'));
      assert.equal(only(events, 'raw_bigint').properties.big, '12345678901234567890');
      assert.deepEqual(only(events, 'raw_cyclic').properties.cyc, { a: 1, self: '[Circular]' });

      let node: unknown = only(events, 'raw_deep').properties.deep;
      let levels = 0;
      while (typeof node === 'object' && node !== null) {
        assert.deepEqual(Object.keys(node), ['d']);
        node = (node as { d: unknown }).d;
        levels++;
      }
      assert.equal(node, '[Truncated]');
      assert.ok(levels >= 1 && levels <= 100, `truncated after ${levels} levels`);
      assert.equal(only(events, 'normal').properties.plan, 'pro');
    });
  });
});

describe('beforeSend', () => {
  test('receives the mapped event and can change it', async () => {
    const seen: CaptureEvent[] = [];
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      seen.push(structuredClone(event));
      return { ...event, event: `${event.event}_v2`, properties: { ...event.properties, added: 'by hook' } };
    };
    await withPipeline({ options: { beforeSend } }, async (p) => {
      p.logger('app').emit({
        eventName: 'signup',
        timestamp: TIME,
        attributes: { 'posthog.distinct_id': 'u-1', plan: 'pro', 'posthog.session_id': 's' },
      });
      const [event, ...rest] = await flushValid(p);
      assert.deepEqual(rest, []);
      assert.equal(seen.length, 1);
      const input = seen[0]!;
      assert.match(input.uuid, UUID_V7);
      assert.deepEqual(input, {
        event: 'signup',
        uuid: input.uuid,
        distinct_id: 'u-1',
        timestamp: TIMESTAMP,
        session_id: 's',
        options: {},
        properties: { otel_scope_name: 'app', plan: 'pro', $geoip_disable: true },
      });
      assert.deepEqual(event, { ...input, event: 'signup_v2', properties: { ...input.properties, added: 'by hook' } });
    });
  });

  test('returning null drops the event and counts it as before_send', async () => {
    await withPipeline({ options: { beforeSend: (e) => (e.event === 'secret' ? null : e) } }, async (p) => {
      p.logger('app').emit({ eventName: 'secret', timestamp: TIME });
      p.logger('app').emit({ eventName: 'public', timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => e.event),
        ['public'],
      );
      const stats = p.processor.getStats();
      assert.equal(stats.dropped.before_send, 1);
      assert.equal(stats.delivered, 1);
      assert.ok(!p.requests().some((r) => r.events.some((e) => e.event === 'secret')), 'the dropped event never reached the server');
    });
  });

  test('a throwing hook drops that event only', async () => {
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      if (event.event === 'explodes') throw new Error('redaction failed');
      return event;
    };
    await withPipeline({ options: { beforeSend } }, async (p) => {
      const log = p.logger('app');
      log.emit({ eventName: 'before', timestamp: TIME });
      log.emit({ eventName: 'explodes', timestamp: TIME });
      log.emit({ eventName: 'after', timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => e.event),
        ['before', 'after'],
      );
      const stats = p.processor.getStats();
      assert.equal(stats.dropped.before_send, 1);
      assert.equal(stats.delivered, 2);
    });
  });

  test('a hook returning an event with an invalid uuid drops that event only', async () => {
    await withPipeline({ options: { beforeSend: (e) => (e.event === 'bad' ? { ...e, uuid: 'not-a-uuid' } : e) } }, async (p) => {
      p.logger('app').emit({ eventName: 'bad', timestamp: TIME });
      p.logger('app').emit({ eventName: 'good', timestamp: TIME });
      const events = await p.flush();
      assert.ok(
        events.some((e) => e.event === 'good'),
        'the other event of the batch is delivered',
      );
      assert.ok(!p.requests().some((r) => r.rawBody.length > 0 && r.validation.ok === false), 'no request is rejected');
    });
  });

  test('a $exception the hook breaks is refused as invalid with the reason, never sent for error tracking to dead-letter', async () => {
    const dropped: Array<{ reason: string; details: string | undefined; events: string[] }> = [];
    const lone = '\ud83d';
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      const list = event.properties.$exception_list as Array<Record<string, unknown>> | undefined;
      const frames = (list?.[0]?.stacktrace as { frames: Array<Record<string, unknown>> } | undefined)?.frames;
      switch (event.properties.case) {
        case 'no list':
          delete event.properties.$exception_list;
          break;
        case 'no filename':
          // A redaction that removes paths.
          for (const frame of frames ?? []) delete frame.filename;
          break;
        case 'renamed':
          return { ...event, event: '$exception' };
        case 'cut mid-emoji':
          // A redaction that shortens messages: repaired, not refused.
          list![0]!.value = `card 💳 declined`.slice(0, 6);
          event.properties.note = `x ${lone}`;
          break;
      }
      return event;
    };
    await withPipeline(
      {
        options: { beforeSend, onDrop: (events, reason, details) => dropped.push({ reason, details, events: events.map((e) => e.event) }) },
      },
      async (p) => {
        const log = p.logger('app');
        const error = caughtError();
        const attributes = { 'exception.type': error.name, 'exception.message': error.message, 'exception.stacktrace': error.stack };
        for (const which of ['no list', 'no filename', 'cut mid-emoji', 'untouched'])
          log.emit({ timestamp: TIME, attributes: { ...attributes, case: which } });
        log.emit({ eventName: 'plain', timestamp: TIME, attributes: { case: 'renamed' } });
        const events = await flushValid(p);
        assert.deepEqual(events.map((e) => e.properties.case).sort(), ['cut mid-emoji', 'untouched']);
        for (const event of events) assert.deepEqual(cymbalProblems(event.properties), []);
        const cut = events.find((e) => e.properties.case === 'cut mid-emoji')!;
        assert.equal((cut.properties.$exception_list as Array<{ value: string }>)[0]!.value, 'card \ufffd');
        assert.equal(cut.properties.note, 'x \ufffd');
        assert.deepEqual(
          dropped.map((d) => [d.reason, d.events, d.details]),
          [
            [
              'invalid',
              ['$exception'],
              'beforeSend returned a $exception error tracking cannot read: $exception_list is missing or not a list',
            ],
            [
              'invalid',
              ['$exception'],
              'beforeSend returned a $exception error tracking cannot read: $exception_list[0].stacktrace.frames[0].filename is not a string',
            ],
            [
              'invalid',
              ['$exception'],
              'beforeSend returned a $exception error tracking cannot read: $exception_list is missing or not a list',
            ],
          ],
        );
        const stats = p.processor.getStats();
        assert.deepEqual([stats.emitted, stats.selected, stats.delivered], [5, 5, 2]);
        assert.deepEqual(stats.dropped, { invalid: 3 });
        assertIdentity(stats);
      },
    );
  });

  test('a person event the hook makes one ingestion would discard is refused as invalid; a group event takes its group id', async () => {
    const dropped: Array<[string, string | undefined]> = [];
    // A privacy hook that turns person processing off everywhere, and one that blanks the user.
    const beforeSend = (event: CaptureEvent): CaptureEvent =>
      event.event === '$groupidentify'
        ? { ...event, distinct_id: 'null' }
        : { ...event, options: { ...event.options, process_person_profile: 'false' as never } };
    await withPipeline(
      { options: { beforeSend, onDrop: (events, reason, details) => dropped.push([`${reason} ${events[0]?.event}`, details]) } },
      async (p) => {
        const log = p.logger('app');
        log.emit({ eventName: '$identify', timestamp: TIME, attributes: { 'posthog.distinct_id': 'u-1' } });
        log.emit({
          eventName: '$groupidentify',
          timestamp: TIME,
          attributes: { 'posthog.distinct_id': 'u-1', $group_type: 'company', $group_key: 'acme' },
        });
        log.emit({ eventName: 'signed_up', timestamp: TIME, attributes: { 'posthog.distinct_id': 'u-1' } });
        const events = await flushValid(p);
        assert.deepEqual(
          events.map((e) => [e.event, e.distinct_id]),
          [
            ['$groupidentify', '$company_acme'],
            ['signed_up', 'u-1'],
          ],
        );
        assert.deepEqual(dropped, [
          [
            'invalid $identify',
            'beforeSend returned $identify with posthog.process_person_profile false: PostHog discards person and group events without person processing',
          ],
        ]);
        const stats = p.processor.getStats();
        assert.deepEqual(stats.dropped, { invalid: 1 });
        assertIdentity(stats);
      },
    );
  });

  test('a hook mutating a resource-derived property does not leak into later events', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'svc', 'app.tags': ['base'] });
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      (event.properties['app.tags'] as string[]).push(event.event);
      return event;
    };
    await withPipeline({ resource, options: { resourceAttributes: ['app.tags'], beforeSend } }, async (p) => {
      p.logger('app').emit({ eventName: 'first', timestamp: TIME });
      await p.flush();
      p.logger('app').emit({ eventName: 'second', timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.event, e.properties['app.tags']]),
        [
          ['first', ['base', 'first']],
          ['second', ['base', 'second']],
        ],
      );
    });
  });
});

describe('records are not mutated', () => {
  test('a second log processor sees the record exactly as emitted, even when beforeSend mutates the event', async () => {
    const memory = new InMemoryLogRecordExporter();
    const error = caughtError();
    const attributes: Attributes = {
      'posthog.distinct_id': 'u-1',
      'posthog.uuid': '0190F3C4-AAAA-7BBB-8CCC-0123456789AB',
      'posthog.session_id': 's-1',
      'posthog.process_person_profile': 'false',
      'exception.type': error.name,
      'exception.message': error.message,
      'exception.stacktrace': error.stack,
      $lib: 'x',
      $session_id: 'legacy',
      nested: { list: [1, { deep: true }], map: { k: 'v' } },
      nan: NaN,
      bytes: new Uint8Array([1, 2, 3]),
    };
    const snapshot = structuredClone(attributes);
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      const nested = event.properties.nested as { list: unknown[]; map: Record<string, unknown> } | undefined;
      if (nested === undefined) return event;
      nested.list.push('mutated');
      nested.map.k = 'changed';
      if (Array.isArray(event.properties.$exception_list)) (event.properties.$exception_list[0] as { value: string }).value = 'redacted';
      event.properties.added = true;
      return event;
    };
    await withPipeline({ options: { beforeSend }, processorsAfter: [new SimpleLogRecordProcessor({ exporter: memory })] }, async (p) => {
      p.logger('app').emit({ eventName: 'checked', timestamp: TIME, severityNumber: SeverityNumber.ERROR, body: 'b', attributes });
      const span = p.tracer().startSpan('op');
      const spanAttributes: Attributes = {
        'posthog.distinct_id': 'u-2',
        'posthog.event': 'renamed',
        'exception.message': 'm',
        list: [1, 2],
      };
      span.addEvent('span_checked', spanAttributes, TIME);
      span.end();
      const events = await flushValid(p);
      // Each record is a named event with exception attributes: the event and its linked $exception.
      assert.equal(events.length, 4);
      const fromLog = events.find((e) => e.distinct_id === 'u-1');
      assert.deepEqual((fromLog?.properties.nested as { list: unknown[] }).list, [1, { deep: true }, 'mutated'], 'the hook ran');
      assert.deepEqual(
        events
          .filter((e) => e.distinct_id === 'u-2')
          .map((e) => e.event)
          .sort(),
        ['$exception', 'renamed'],
      );

      const [record, ...more] = memory.getFinishedLogRecords();
      assert.deepEqual(more, []);
      assert.deepEqual({ ...record!.attributes }, snapshot);
      assert.equal(record!.eventName, 'checked');
      assert.equal(record!.body, 'b');
      assert.equal(record!.severityNumber, SeverityNumber.ERROR);
      const spanEvent = (span as unknown as ReadableSpan).events[0]!;
      assert.equal(spanEvent.name, 'span_checked');
      assert.deepEqual(
        { ...spanEvent.attributes },
        { 'posthog.distinct_id': 'u-2', 'posthog.event': 'renamed', 'exception.message': 'm', list: [1, 2] },
      );
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

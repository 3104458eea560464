// Unit tests of the exceptions the mapping sends to error tracking: a $exception for exception
// records, span.recordException and the Logs API `exception` field, and one linked to a named event
// that carries exception attributes; the parsed stack, the level and the mechanism.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeverityNumber } from '@opentelemetry/api';
import type { StackFrame } from '../../src/mapping/exception-list.ts';
import { cymbalProblems } from '../support/cymbal-schema.ts';
import { exceptionList, only, RecordSource } from '../support/log-records.ts';

const TIME = new Date('2025-01-02T03:04:05.678Z');
const TIMESTAMP = '2025-01-02T03:04:05.678Z';
const THIS_FILE = fileURLToPath(import.meta.url);
/** Error tracking gets in-app filenames relative to the working directory. */
const THIS_FILE_RELATIVE = relative(process.cwd(), THIS_FILE);

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

describe('exceptions', () => {
  test('a named event with exception attributes keeps its name; a $exception linked to it carries the parsed stack, innermost frame last', () => {
    const error = caughtError();
    const source = new RecordSource();
    source.logger('payments').emit({
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
    const events = source.events();
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
  });

  test('$exception_level follows severity: ERROR→error, WARN→warning, FATAL→fatal, none→error', () => {
    const source = new RecordSource();
    const log = source.logger('app');
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
    const events = source.events();
    assert.deepEqual(
      events.map((e) => [e.properties.case, e.event, e.properties.$exception_level]),
      cases.map(([, level], i) => [i, '$exception', level]),
    );
  });

  test('a $exception_level given under another name is sent as error tracking names it, in its place; others as given', () => {
    const source = new RecordSource();
    const log = source.logger('app');
    const given: unknown[] = ['WARN', ' critical ', 'Error', 'log', 'trace', 'bogus', 7];
    given.forEach((level, i) => {
      log.emit({
        timestamp: TIME,
        severityNumber: SeverityNumber.ERROR,
        attributes: { 'exception.message': 'm', $exception_level: level as string, after: i },
      });
    });
    const events = source.events();
    assert.deepEqual(
      events.map((e) => [e.properties.after, e.properties.$exception_level]),
      [
        [0, 'warning'],
        [1, 'fatal'],
        [2, 'error'],
        [3, 'log'],
        [4, 'debug'],
        [5, 'bogus'],
        [6, 7],
      ],
    );
    for (const event of events) {
      const keys = Object.keys(event.properties);
      assert.ok(keys.indexOf('$exception_level') < keys.indexOf('after'), `kept in the attribute's place: ${keys.join(' ')}`);
      assert.deepEqual(cymbalProblems(event.properties), []);
    }

    // A named event keeps the attribute as it is; its linked $exception gets the level.
    log.emit({ timestamp: TIME, eventName: 'charge_failed', attributes: { 'exception.message': 'm', $exception_level: 'Warn' } });
    const [named, linked] = source.events().slice(given.length);
    assert.deepEqual(
      [named?.event, named?.properties.$exception_level, linked?.event, linked?.properties.$exception_level],
      ['charge_failed', 'Warn', '$exception', 'warning'],
    );
  });

  test('exception.escaped: true → handled false; a message alone gives type Error and no stacktrace', () => {
    const source = new RecordSource();
    const log = source.logger('app');
    log.emit({
      timestamp: TIME,
      attributes: { 'exception.type': 'FatalError', 'exception.message': 'escaped', 'exception.escaped': true },
    });
    log.emit({ timestamp: TIME, attributes: { 'exception.message': 'just a message' } });
    log.emit({ timestamp: TIME, attributes: { 'exception.type': 'OnlyType' } });
    const events = source.events();
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

  test('span.recordException becomes $exception (level error, innermost frame last)', () => {
    const error = caughtError();
    const source = new RecordSource();
    const span = source.tracer('svc').startSpan('charge');
    span.recordException(error, TIME);
    span.end();
    const [event, ...rest] = source.events();
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

  test("the Logs API's `exception` field becomes $exception", () => {
    const error = caughtError();
    const source = new RecordSource();
    source.logger('app').emit({ timestamp: TIME, severityNumber: SeverityNumber.FATAL, exception: error });
    const [event] = source.events();
    assert.equal(event!.event, '$exception');
    assert.equal(event!.properties.$exception_level, 'fatal');
    const [entry] = exceptionList(event!);
    assert.deepEqual([entry!.type, entry!.value], ['TypeError', 'card declined']);
    assert.equal(entry!.stacktrace!.frames.at(-1)!.function, 'throwCardDeclined');
  });
});

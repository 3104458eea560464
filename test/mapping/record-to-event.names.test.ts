// Unit tests of how the mapping names events: the record's event name and the attributes that
// set one, span events, and the name given to plain log lines.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MAPPING, RecordSource } from '../support/log-records.ts';

const TIME = new Date('2025-01-02T03:04:05.678Z');
const TIMESTAMP = '2025-01-02T03:04:05.678Z';

describe('event name', () => {
  test('eventName, else posthog.event, else the legacy event.name attribute', () => {
    const source = new RecordSource();
    const log = source.logger('app');
    log.emit({
      eventName: 'from_field',
      attributes: { 'posthog.event': 'from_posthog', 'event.name': 'from_legacy', n: 1 },
      timestamp: TIME,
    });
    log.emit({ attributes: { 'posthog.event': 'from_posthog', 'event.name': 'from_legacy', n: 2 }, timestamp: TIME });
    log.emit({ attributes: { 'event.name': 'from_legacy', n: 3 }, timestamp: TIME });
    log.emit({ attributes: { 'posthog.event': 42, 'event.name': 'legacy_after_non_string', n: 4 }, timestamp: TIME });
    const events = source.events();
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

  test('a span event is named after itself when it carries no name attribute', () => {
    const source = new RecordSource();
    const span = source.tracer().startSpan('op');
    span.addEvent('item_added', { sku: 'A1' });
    span.end();
    const [event] = source.events();
    assert.equal(event!.event, 'item_added');
  });

  test("a span event's posthog.event / event.name attribute wins over the span event's own name", () => {
    const source = new RecordSource();
    const span = source.tracer().startSpan('op');
    span.addEvent('clicked', { 'posthog.event': 'button_clicked' });
    span.addEvent('submitted', { 'event.name': 'form_submitted' });
    span.end();
    const events = source.events();
    assert.deepEqual(
      events.map((e) => e.event),
      ['button_clicked', 'form_submitted'],
    );
  });

  test('a plain log line becomes a `log` event with its body and time', () => {
    const source = new RecordSource();
    source.logger('app').emit({ body: 'hello', timestamp: TIME });
    const [event, ...rest] = source.events();
    assert.deepEqual(rest, []);
    assert.equal(event!.event, 'log');
    assert.equal(event!.properties.body, 'hello');
    assert.equal(event!.timestamp, TIMESTAMP);
  });

  test('logEventName names the events made from plain log lines', () => {
    const source = new RecordSource();
    source.logger('app').emit({ body: 'hello', timestamp: TIME });
    source.logger('app').emit({ eventName: 'real_event', body: 'with a name', timestamp: TIME });
    const events = source.events({ ...DEFAULT_MAPPING, logEventName: 'log_line' });
    assert.deepEqual(
      events.map((e) => [e.event, e.properties.body]),
      [
        ['log_line', 'hello'],
        ['real_event', 'with a name'],
      ],
    );
  });

  test('a span event without a name is named span_event', () => {
    const source = new RecordSource();
    const span = source.tracer().startSpan('work');
    span.addEvent('', { k: 1 });
    span.end();
    const [event, ...rest] = source.events();
    assert.deepEqual(rest, []);
    assert.equal(event!.event, 'span_event');
    assert.equal(event!.properties.k, 1);
  });
});

// Unit tests of which records become PostHog events (isSelected), on records made by the real
// OpenTelemetry SDK.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeverityNumber } from '@opentelemetry/api';
import { isSelected, type SelectionSettings } from '../../src/selection/selection.ts';
import { RecordSource, type Emitted } from '../support/log-records.ts';

const TIME = new Date('2025-01-02T03:04:05.678Z');
const EVENTS_ONLY: SelectionSettings = { logRecords: 'events', minSeverity: 0, ignoredScopes: new Set() };
const ALL: SelectionSettings = { ...EVENTS_ONLY, logRecords: 'all' };

/** Which of `records` are selected, by their position, as the SDK hands them to the processor. */
function selected(records: Emitted[], settings: SelectionSettings): Emitted[] {
  const source = new RecordSource();
  for (const record of records) source.logger('app').emit({ timestamp: TIME, ...record });
  return records.filter((_, i) => isSelected(source.records[i]!, settings));
}

describe('selection', () => {
  test('by default only events are selected: eventName, posthog.event, exception.type or exception.message', () => {
    const event = { eventName: 'signed_up' };
    const byAttribute = { attributes: { 'posthog.event': 'from_attribute' } };
    const exceptionType = { attributes: { 'exception.type': 'RangeError' } };
    const exceptionMessage = { attributes: { 'exception.message': 'only a message' } };
    const records: Emitted[] = [
      event,
      { body: 'plain line', severityNumber: SeverityNumber.INFO },
      byAttribute,
      { body: 'error line, still plain', severityNumber: SeverityNumber.ERROR, attributes: { k: 1 } },
      exceptionType,
      exceptionMessage,
      { attributes: { 'exception.stacktrace': 'Error: x\n    at f (/a.js:1:1)' } },
    ];
    assert.deepEqual(selected(records, EVENTS_ONLY), [event, byAttribute, exceptionType, exceptionMessage]);
  });

  test("logRecords: 'all' selects plain log lines too", () => {
    const plain = { body: 'hello' };
    assert.deepEqual(selected([plain], EVENTS_ONLY), []);
    assert.deepEqual(selected([plain], ALL), [plain]);
  });

  test('minSeverity filters plain lines by severityNumber (none counts as INFO) and never filters events', () => {
    const debug = { body: 'debug', severityNumber: SeverityNumber.DEBUG };
    const info = { body: 'info', severityNumber: SeverityNumber.INFO };
    const none = { body: 'no severity' };
    const warn = { body: 'warn', severityNumber: SeverityNumber.WARN };
    const error = { body: 'error', severityNumber: SeverityNumber.ERROR };
    const debugEvent = { eventName: 'debug_event', severityNumber: SeverityNumber.DEBUG };
    const traceEvent = { attributes: { 'posthog.event': 'trace_event' }, severityNumber: SeverityNumber.TRACE };
    const debugException = { attributes: { 'exception.type': 'E' }, severityNumber: SeverityNumber.DEBUG };
    assert.deepEqual(
      selected([debug, info, none, warn, error, debugEvent, traceEvent, debugException], { ...ALL, minSeverity: SeverityNumber.WARN }),
      [warn, error, debugEvent, traceEvent, debugException],
    );
    const info4 = { body: 'info4', severityNumber: SeverityNumber.INFO4 };
    assert.deepEqual(selected([debug, none, info4], { ...ALL, minSeverity: SeverityNumber.INFO }), [none, info4]);
  });

  test('a record without severity, selected as INFO, gets no severity_number', () => {
    const source = new RecordSource();
    source.logger('app').emit({ body: 'no severity', timestamp: TIME });
    assert.equal(isSelected(source.records[0]!, { ...ALL, minSeverity: SeverityNumber.INFO }), true);
    const [event] = source.events();
    assert.equal(event!.properties.body, 'no severity');
    assert.ok(!('severity_number' in event!.properties), 'a record without severity gets no severity_number');
  });
});

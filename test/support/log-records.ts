// Log records as our processors receive them, made by the real OpenTelemetry SDK, and the events
// the mapping makes of them, for unit tests of selection and mapping (no exporter, no HTTP).

import assert from 'node:assert/strict';
import type { Logger, Tracer } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordLimits, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { TracerProvider, type SpanLimits, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { CaptureEvent } from '../../src/capture/types.ts';
import type { MappingSettings } from '../../src/config/sections.ts';
import { mapRecord, type MappingOutcome, type RecordOrigin } from '../../src/mapping/record-to-event.ts';
import type { StackFrame } from '../../src/mapping/exception-list.ts';
import { SpanEventLogRecord } from '../../src/selection/span-event-record.ts';
import { errorTrackingDrop, ingestionDrop, perEventDrop, validateBody } from './capture-validation.ts';

export type Emitted = Parameters<Logger['emit']>[0];

/** The mapping settings a processor gets by default. */
export const DEFAULT_MAPPING: MappingSettings = { disableGeoip: true, resourceAttributes: 'default', logEventName: 'log' };

/** The time mapping is done at: only used for a record without a usable time. */
export const MAPPED_AT = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

export interface RecordSourceOptions {
  /** Resource of both providers. Default: an empty resource, so no SDK-detected attributes show up. */
  resource?: Resource;
  logRecordLimits?: LogRecordLimits;
  spanLimits?: SpanLimits;
  /** Log processors placed before the collector (they see, and may change, each record first). */
  processorsBefore?: LogRecordProcessor[];
}

/**
 * Real Logger and Tracer providers whose records are collected in order as our processors would
 * receive them: a log record when emitted, each event of a span as a SpanEventLogRecord when the
 * span ends.
 */
export class RecordSource {
  readonly records: ReadableLogRecord[] = [];
  readonly loggerProvider: LoggerProvider;
  readonly tracerProvider: TracerProvider;

  constructor(options: RecordSourceOptions = {}) {
    const resource = options.resource ?? resourceFromAttributes({});
    const collectLogs: LogRecordProcessor = {
      onEmit: (record) => void this.records.push(record as unknown as ReadableLogRecord),
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const collectSpanEvents: SpanProcessor = {
      onStart: () => {},
      onEnd: (span) => {
        span.events.forEach((event, index) =>
          this.records.push(new SpanEventLogRecord(span, span.spanContext(), event, index) as unknown as ReadableLogRecord),
        );
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    this.loggerProvider = new LoggerProvider({
      resource,
      processors: [...(options.processorsBefore ?? []), collectLogs],
      ...(options.logRecordLimits ? { logRecordLimits: options.logRecordLimits } : {}),
    });
    this.tracerProvider = new TracerProvider({
      resource,
      spanProcessors: [collectSpanEvents],
      ...(options.spanLimits ? { spanLimits: options.spanLimits } : {}),
    });
  }

  logger(name = 'test'): Logger {
    return this.loggerProvider.getLogger(name);
  }

  tracer(name = 'test'): Tracer {
    return this.tracerProvider.getTracer(name);
  }

  /** Every record collected so far, mapped as the exporter maps it, checked by {@link mappedEvents}. */
  events(settings: MappingSettings = DEFAULT_MAPPING): CaptureEvent[] {
    return this.records.flatMap((record) => mappedEvents(mapRecord(record, settings, MAPPED_AT, originOf(record))));
  }
}

/** The one record the SDK builds for `logRecord`, as our processor receives it. */
export function recordOf(logRecord: Emitted, options: RecordSourceOptions = {}): ReadableLogRecord {
  const source = new RecordSource(options);
  source.logger('app').emit(logRecord);
  assert.equal(source.records.length, 1);
  return source.records[0]!;
}

/** What the exporter tells the mapping about a record: span events say which span and position. */
export function originOf(record: ReadableLogRecord): RecordOrigin | undefined {
  return record instanceof SpanEventLogRecord ? { spanName: record.spanName, index: record.index } : undefined;
}

/**
 * The events of a mapped outcome, parsed from the JSON that goes on the wire. Each must agree with
 * its typed fields, and pass the capture server's checks (a request carrying it is accepted, and
 * the event itself dropped neither by capture nor by error tracking or ingestion later).
 */
export function mappedEvents(outcome: MappingOutcome): CaptureEvent[] {
  assert.equal(outcome.kind, 'mapped', outcome.kind === 'invalid' ? outcome.reason : '');
  const events = (outcome as Extract<MappingOutcome, { kind: 'mapped' }>).events.map((event) => {
    const parsed = JSON.parse(event.json) as CaptureEvent;
    for (const key of ['event', 'uuid', 'distinct_id', 'timestamp', 'session_id', 'window_id'] as const)
      assert.equal(event[key], parsed[key], key);
    return parsed;
  });
  assert.deepEqual(
    validateBody({ created_at: new Date(MAPPED_AT).toISOString(), batch: events }),
    { ok: true },
    'a request carrying the events passes the server checks',
  );
  for (const event of events)
    assert.equal(perEventDrop(event) ?? errorTrackingDrop(event) ?? ingestionDrop(event), undefined, `PostHog keeps ${event.event}`);
  return events;
}

/** The one event named `name` among `events`. */
export function only(events: readonly CaptureEvent[], name: string): CaptureEvent {
  const matching = events.filter((e) => e.event === name);
  assert.equal(matching.length, 1, `exactly one "${name}" event among ${JSON.stringify(events.map((e) => e.event))}`);
  return matching[0]!;
}

export interface ExceptionEntry {
  type: string;
  value: string;
  mechanism: unknown;
  stacktrace?: { type: string; frames: StackFrame[] };
}

export function exceptionList(event: CaptureEvent): ExceptionEntry[] {
  const list = event.properties.$exception_list;
  assert.ok(Array.isArray(list), '$exception_list is an array');
  return list as ExceptionEntry[];
}

import type { Attributes, HrTime, SpanContext } from '@opentelemetry/api';
import type { LogRecordProcessor, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { ATTR_EVENT_NAME, EXCEPTION_EVENT_NAME, POSTHOG_EVENT } from '../mapping/attribute-keys.ts';
import { withSpanIdentity } from './span-identity-attributes.ts';

/**
 * The record `LogRecordProcessor.onEmit` receives: `ReadWriteLogRecord` in sdk-logs 3.x and 0.222+,
 * `SdkLogRecord` in 0.220 and 0.221. Named by where it is used, so that one build types against both.
 */
export type EmittedLogRecord = Parameters<LogRecordProcessor['onEmit']>[0];

/** Event name for a span event whose name is empty. */
export const UNNAMED_SPAN_EVENT = 'span_event';

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

type Resource = ReadableLogRecord['resource'];
type Scope = ReadableLogRecord['instrumentationScope'];

/** The parts of a finished span that its events need (structurally a subset of sdk-trace's ReadableSpan). */
export interface EndedSpan {
  readonly name: string;
  /** The span's own attributes; its identity ones identify its events. */
  readonly attributes?: Attributes;
  spanContext(): SpanContext;
  readonly events: ReadonlyArray<{ time: HrTime; name: string; attributes?: Attributes; droppedAttributesCount?: number }>;
  readonly resource: Resource;
  readonly instrumentationScope: Scope;
}

const SEVERITY_ERROR = 17;

/**
 * A span event presented as a log record, so it can share the log pipeline's queue and exporter.
 * It is complete when created; the setters exist for the interface and change nothing.
 */
export class SpanEventLogRecord implements EmittedLogRecord {
  readonly hrTime: HrTime;
  readonly hrTimeObserved: HrTime;
  readonly spanContext: SpanContext;
  readonly resource: Resource;
  readonly instrumentationScope: Scope;
  readonly attributes: Attributes;
  readonly eventName: string;
  readonly severityNumber: number | undefined;
  readonly severityText: string | undefined;
  readonly body: undefined = undefined;
  readonly droppedAttributesCount: number;
  /** Name of the span the event belonged to, kept as a property of the PostHog event. */
  readonly spanName: string;
  /** Position of the event among its span's events (part of a deterministic uuid). */
  readonly index: number;

  /**
   * `spanIdentity` is the span's identity attributes (`spanIdentityAttributes`): they are added to
   * the event's for each kind of identity (distinct id, session, window) the event carries none of.
   */
  constructor(span: EndedSpan, spanContext: SpanContext, event: EndedSpan['events'][number], index = 0, spanIdentity?: Attributes) {
    this.hrTime = event.time;
    this.hrTimeObserved = event.time;
    this.spanContext = spanContext;
    this.resource = span.resource;
    this.instrumentationScope = span.instrumentationScope;
    // The span owns this object and is finished; sharing it avoids a copy per event.
    const own = event.attributes ?? {};
    this.attributes = spanIdentity === undefined ? own : withSpanIdentity(own, spanIdentity);
    // A span event is always an event: `posthog.event` (or legacy `event.name`) renames it, and a nameless one gets a name.
    this.eventName =
      nonEmpty(this.attributes[POSTHOG_EVENT]) ?? nonEmpty(this.attributes[ATTR_EVENT_NAME]) ?? nonEmpty(event.name) ?? UNNAMED_SPAN_EVENT;
    const isException = event.name === EXCEPTION_EVENT_NAME;
    this.severityNumber = isException ? SEVERITY_ERROR : undefined;
    this.severityText = isException ? 'ERROR' : undefined;
    this.droppedAttributesCount = event.droppedAttributesCount ?? 0;
    this.spanName = span.name;
    this.index = index;
  }

  setAttribute(): this {
    return this;
  }
  setAttributes(): this {
    return this;
  }
  setBody(): this {
    return this;
  }
  setEventName(): this {
    return this;
  }
  setSeverityNumber(): this {
    return this;
  }
  setSeverityText(): this {
    return this;
  }
}

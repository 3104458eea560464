import type { AnyValue, Attributes, HrTime, SpanContext } from '@opentelemetry/api';
import type { ReadableLogRecord, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { EXCEPTION_EVENT_NAME } from './mapping/attribute-keys.ts';

type Resource = ReadableLogRecord['resource'];
type Scope = ReadableLogRecord['instrumentationScope'];

/** The parts of a finished span that its events need (structurally a subset of sdk-trace's ReadableSpan). */
export interface EndedSpan {
  readonly name: string;
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
export class SpanEventLogRecord implements ReadWriteLogRecord {
  readonly hrTime: HrTime;
  readonly hrTimeObserved: HrTime;
  readonly spanContext: SpanContext;
  readonly resource: Resource;
  readonly instrumentationScope: Scope;
  readonly attributes: Attributes;
  readonly eventName: string;
  readonly severityNumber: number | undefined;
  readonly severityText: string | undefined;
  readonly body: AnyValue = undefined;
  readonly droppedAttributesCount: number;
  /** Name of the span the event belonged to, kept as a property of the PostHog event. */
  readonly spanName: string;

  constructor(span: EndedSpan, spanContext: SpanContext, event: EndedSpan['events'][number]) {
    this.hrTime = event.time;
    this.hrTimeObserved = event.time;
    this.spanContext = spanContext;
    this.resource = span.resource;
    this.instrumentationScope = span.instrumentationScope;
    // The span owns this object and is finished; sharing it avoids a copy per event.
    this.attributes = event.attributes ?? {};
    this.eventName = event.name;
    const isException = event.name === EXCEPTION_EVENT_NAME;
    this.severityNumber = isException ? SEVERITY_ERROR : undefined;
    this.severityText = isException ? 'ERROR' : undefined;
    this.droppedAttributesCount = event.droppedAttributesCount ?? 0;
    this.spanName = span.name;
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

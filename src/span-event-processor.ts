import type { Attributes, Context } from '@opentelemetry/api';
import type { PostHogLogRecordProcessorOptions } from './config/options.ts';
import { logger } from './diagnostics/diagnostics.ts';
import { PostHogLogRecordProcessor } from './log-record-processor.ts';
import { getPostHogIdentity, mergeIdentities, rememberRecordIdentity, type PostHogIdentity } from './request-identity.ts';
import { serverSpanIdentity, serverSpanOf, trackServerSpan } from './selection/server-span-identity.ts';
import { SpanEventLogRecord, type EndedSpan } from './selection/span-event-record.ts';
import { spanIdentityAttributes } from './selection/span-identity-attributes.ts';

/** Options of {@link PostHogSpanEventProcessor}: a processor to share, or options to build one. */
export interface PostHogSpanEventProcessorOptions extends PostHogLogRecordProcessorOptions {
  /** The log pipeline to share. Without one, a processor is built from these options and the environment. */
  processor?: PostHogLogRecordProcessor;
}

/**
 * A `SpanProcessor` that turns each event of an ended span (`span.addEvent`, `span.recordException`)
 * into a PostHog event, through the same queue and exporter as log records.
 */
export class PostHogSpanEventProcessor {
  readonly processor: PostHogLogRecordProcessor;
  private readonly _ownsProcessor: boolean;
  /** Identity of the context each span started in, read when its events are turned into records. */
  private readonly _spanIdentities = new WeakMap<object, PostHogIdentity>();

  constructor(options: PostHogSpanEventProcessorOptions = {}) {
    const { processor, ...rest } = options;
    this._ownsProcessor = processor === undefined;
    this.processor = processor ?? new PostHogLogRecordProcessor(rest);
  }

  onStart(span: object, parentContext: Context): void {
    try {
      if (!this.processor.accepting) return;
      trackServerSpan(span, parentContext);
      const identity = getPostHogIdentity(parentContext);
      if (identity !== undefined) this._spanIdentities.set(span, identity);
    } catch (error) {
      logger.error(`onStart failed: ${String(error)}`);
    }
  }

  onEnd(span: EndedSpan): void {
    try {
      const events = span.events;
      if (events.length === 0 || !this.processor.accepting) return;
      const spanContext = span.spanContext();
      const identity = this._identityOf(span);
      const spanIdentity = this._spanIdentityAttributes(span);
      for (let i = 0; i < events.length; i++) {
        const record = new SpanEventLogRecord(span, spanContext, events[i]!, i, spanIdentity);
        if (identity !== undefined) rememberRecordIdentity(record, identity);
        this.processor.onEmit(record);
      }
    } catch (error) {
      logger.error(`onEnd failed: ${String(error)}`);
    }
  }

  /** Unreadable attributes (only a hand-made span can have them) cost the identity, not the events. */
  private _spanIdentityAttributes(span: EndedSpan): Attributes | undefined {
    try {
      return spanIdentityAttributes(span.attributes);
    } catch (error) {
      logger.warn(`span "${String(span.name)}": its attributes could not be read for an identity, its events go without: ${String(error)}`);
      return undefined;
    }
  }

  /**
   * The context identity of a span's events: for a SERVER span, the identity set during its request
   * (however late), then the one it started under; for a span under one, the one it started under,
   * then its request's.
   */
  private _identityOf(span: object): PostHogIdentity | undefined {
    const started = this._spanIdentities.get(span);
    const server = serverSpanOf(span);
    if (server === undefined) return started;
    const request = serverSpanIdentity(server);
    return server === span ? mergeIdentities(request, started) : mergeIdentities(started, request);
  }

  forceFlush(): Promise<void> {
    return this.processor.forceFlush();
  }

  /** @internal {@link forceFlush} within `timeoutMillis`: withFlush's budget. */
  forceFlushWithin(timeoutMillis: number): Promise<void> {
    return this.processor.forceFlushWithin(timeoutMillis);
  }

  /** Shuts down the log pipeline only when this processor built it; a shared one belongs to its owner. */
  shutdown(): Promise<void> {
    return this._ownsProcessor ? this.processor.shutdown() : Promise.resolve();
  }
}

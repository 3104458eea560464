import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { CaptureClient } from './capture/capture-client.ts';
import { systemClock, type Clock } from './capture/clock.ts';
import { canonicalUuid } from './capture/uuid.ts';
import type { CaptureTransport } from './capture/transport.ts';
import type { CaptureEvent, DropReason, DroppedEvent } from './capture/types.ts';
import type { Environment } from './config/env.ts';
import type { PostHogExporterOptions } from './config/options.ts';
import { resolveConfig, type Resolution, type ResolvedConfig } from './config/resolve.ts';
import { ExportCounters, type PostHogStats } from './delivery-stats.ts';
import { describeReason, DropWarnings, logger, redact } from './diagnostics.ts';
import { recordToEvent, type MappingSettings } from './mapping/record-to-event.ts';
import { recordIdentity } from './request-identity.ts';
import { SpanEventLogRecord } from './span-event-record.ts';
import { VERSION } from './version.ts';

export const SDK_INFO = `opentelemetry-exporter-posthog/${VERSION}`;

/** Seams for tests and for the processor that builds the exporter; not part of the public options. */
export interface ExporterInternals {
  env?: Environment;
  resolution?: Resolution;
  clock?: Clock;
  random?: () => number;
  transport?: CaptureTransport;
}

/** The error an export reports when some of its events were not delivered. */
export class PostHogExportError extends Error {
  readonly dropped: Partial<Record<DropReason, number>>;
  constructor(message: string, dropped: Partial<Record<DropReason, number>>) {
    super(message);
    this.name = 'PostHogExportError';
    this.dropped = dropped;
  }
}

/**
 * A `LogRecordExporter` that maps records to PostHog events at export time and sends them over
 * capture v1. Exports may overlap (the batch processor starts a new one when an old one times
 * out); each runs under its own deadline, shorter than the batch processor's export timeout.
 */
export class PostHogLogRecordExporter implements LogRecordExporter {
  private readonly _config: ResolvedConfig;
  private readonly _client: CaptureClient | undefined;
  private readonly _clock: Clock;
  private readonly _mapping: MappingSettings;
  private readonly _counters = new ExportCounters();
  private readonly _inFlight = new Set<Promise<void>>();
  private readonly _abort = new AbortController();
  private readonly _dropWarnings: DropWarnings;
  private _shutdownPromise: Promise<void> | undefined;

  constructor(options: PostHogExporterOptions = {}, internals: ExporterInternals = {}) {
    const resolution = internals.resolution ?? resolveConfig(options, internals.env);
    this._config = resolution.config;
    this._clock = internals.clock ?? systemClock;
    if (internals.resolution === undefined) reportResolution(resolution);
    this._mapping = {
      disableGeoip: this._config.disableGeoip,
      resourceAttributes: this._config.resourceAttributes,
      logEventName: this._config.logEventName,
    };
    this._dropWarnings = new DropWarnings(
      () => this._clock.now(),
      (message) => logger.warn(this._redact(message)),
    );
    if (this._config.enabled) {
      const c = this._config;
      this._client = new CaptureClient({
        host: c.host,
        apiKey: c.apiKey,
        sdkInfo: SDK_INFO,
        compression: c.compression,
        headers: c.headers,
        historicalMigration: c.historicalMigration,
        maxAttempts: c.maxAttempts,
        retryInitialDelayMillis: c.retryInitialDelayMillis,
        retryMaxDelayMillis: c.retryMaxDelayMillis,
        clock: this._clock,
        onCompressionError: (error) => logger.warn(this._redact(`compression failed, sending uncompressed: ${String(error)}`)),
        ...(c.dispatcher ? { dispatcher: c.dispatcher } : {}),
        ...(internals.transport ? { transport: internals.transport } : {}),
        ...(internals.random ? { random: internals.random } : {}),
        ...(c.debug ? { onAttempt: (s) => debugLine(`request ${s.requestId} attempt ${s.attempt}: ${s.events} event(s) → ${s.status ?? 'no response'}${s.error ? ` (${s.error})` : ''}; ok ${s.delivered}, drop ${s.dropped}, retry ${s.retry}`) } : {}),
      });
    }
  }

  /** Time budget of one export: the configured timeout, kept below the batch processor's export timeout. */
  get exportDeadlineMillis(): number {
    return Math.max(1, Math.min(this._config.timeoutMillis, Math.floor(this._config.exportTimeoutMillis * 0.9)));
  }

  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    let called = false;
    const finish = (result: ExportResult): void => {
      if (called) return;
      called = true;
      try {
        resultCallback(result);
      } catch (error) {
        logger.error(this._redact(`export result callback threw: ${String(error)}`));
      }
    };
    try {
      if (this._shutdownPromise !== undefined) {
        this._counters.received += records.length;
        this._settleDrops(records.length, 'shutdown', 'export called after shutdown');
        finish({ code: ExportResultCode.FAILED, error: new Error('PostHogLogRecordExporter is shut down') });
        return;
      }
      if (this._client === undefined) {
        finish({ code: ExportResultCode.SUCCESS });
        return;
      }
      const sending = this._send(this._client, records).then(finish, (error: unknown) =>
        finish({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
      );
      this._inFlight.add(sending);
      void sending.finally(() => this._inFlight.delete(sending));
    } catch (error) {
      finish({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  private async _send(client: CaptureClient, records: readonly ReadableLogRecord[]): Promise<ExportResult> {
    const counters = this._counters;
    counters.received += records.length;
    counters.inFlight += records.length;
    const startedAt = this._clock.now();
    const events: CaptureEvent[] = [];
    const dropped = new Map<DropReason, number>();
    const noteDrop = (reason: DropReason, list: CaptureEvent[], details: string | undefined): void => {
      dropped.set(reason, (dropped.get(reason) ?? 0) + Math.max(list.length, 1));
      this._reportDrop(reason, list, details);
    };
    let unsettled = records.length;
    const settle = (count: number): void => {
      unsettled -= count;
      counters.inFlight -= count;
    };
    try {
      for (const record of records) {
        const event = this._map(record, startedAt);
        if (event === undefined) {
          settle(1);
          counters.drop('invalid', 1);
          noteDrop('invalid', [], 'a record could not be mapped');
          continue;
        }
        const final = this._beforeSend(event);
        if ('dropped' in final) {
          settle(1);
          counters.drop('before_send', 1);
          noteDrop('before_send', [event], final.dropped);
          continue;
        }
        events.push(final.event);
      }
      if (this._config.debug) for (const event of events) debugLine(`event ${this._redact(JSON.stringify(event))}`);

      const report = await client.send(events, { deadline: startedAt + this.exportDeadlineMillis, signal: this._abort.signal });
      counters.requests += report.requests;
      counters.retries += report.retries;
      counters.delivered += report.delivered;
      for (const [reason, group] of groupDrops(report.dropped)) {
        counters.drop(reason, group.length);
        noteDrop(reason, group.map((d) => d.event), group[0]?.details);
      }
      settle(events.length);
    } catch (error) {
      // Nothing above should throw; if it does, the unsettled records are still counted.
      counters.drop('internal_error', unsettled);
      dropped.set('internal_error', unsettled);
      settle(unsettled);
      logger.error(this._redact(`export failed unexpectedly: ${String(error)}`));
    }
    if (dropped.size === 0) return { code: ExportResultCode.SUCCESS };
    return { code: ExportResultCode.FAILED, error: exportError(dropped, records.length) };
  }

  private _map(record: ReadableLogRecord, nowMillis: number): CaptureEvent | undefined {
    try {
      const identity = recordIdentity(record);
      const spanName = record instanceof SpanEventLogRecord ? record.spanName : undefined;
      const origin = identity || spanName !== undefined ? { ...(identity ? { identity } : {}), ...(spanName !== undefined ? { spanName } : {}) } : undefined;
      return recordToEvent(record, this._mapping, nowMillis, origin);
    } catch (error) {
      logger.debug(`record could not be mapped: ${String(error)}`);
      return undefined;
    }
  }

  private _beforeSend(event: CaptureEvent): { event: CaptureEvent } | { dropped: string } {
    const hook = this._config.beforeSend;
    if (hook === undefined) return { event };
    let result: unknown;
    try {
      result = hook(event);
    } catch (error) {
      // A failing hook may be a redaction step: sending the event unredacted would be worse than dropping it.
      return { dropped: `beforeSend threw: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (result === null || result === undefined) return { dropped: 'beforeSend returned null' };
    if (!isEventShape(result)) return { dropped: 'beforeSend returned something that is not an event' };
    // Hooks may write ids in any case; the server keys results by the canonical form.
    const uuid = canonicalUuid(result.uuid);
    if (uuid === undefined) return { dropped: 'beforeSend returned an event whose uuid is not a UUID' };
    return { event: uuid === result.uuid ? result : { ...result, uuid } };
  }

  private _settleDrops(count: number, reason: DropReason, details: string): void {
    this._counters.drop(reason, count);
    this._reportDrop(reason, [], details, count);
  }

  private _reportDrop(reason: DropReason, events: readonly CaptureEvent[], details: string | undefined, count = Math.max(events.length, 1)): void {
    const safeDetails = details === undefined ? undefined : this._redact(details);
    this._dropWarnings.record(reason, count, safeDetails);
    const onDrop = this._config.onDrop;
    if (onDrop === undefined || events.length === 0) return;
    try {
      onDrop(events, reason, safeDetails);
    } catch (error) {
      logger.warn(this._redact(`onDrop threw: ${String(error)}`));
    }
  }

  private _redact(text: string): string {
    return redact(text, this._config.apiKey);
  }

  /** Counters as seen by this exporter (`emitted` and `selected` are the records handed to export). */
  getStats(): PostHogStats {
    const c = this._counters;
    return {
      emitted: c.received,
      selected: c.received,
      delivered: c.delivered,
      dropped: c.droppedRecord(),
      pending: c.inFlight,
      requests: c.requests,
      retries: c.retries,
    };
  }

  /** @internal Counters for the processor's own statistics. */
  get counters(): Readonly<ExportCounters> {
    return this._counters;
  }

  /** Resolves when every export started so far has finished. */
  async forceFlush(): Promise<void> {
    while (this._inFlight.size > 0) await Promise.allSettled([...this._inFlight]);
  }

  /** Stops accepting exports, waits for the ones in flight (each bounded by its deadline), then closes connections. */
  shutdown(): Promise<void> {
    this._shutdownPromise ??= (async () => {
      await this.forceFlush();
      await this._client?.close();
    })();
    return this._shutdownPromise;
  }
}

/** Logs what configuration resolution found, once per pipeline. */
export function reportResolution(resolution: Resolution): void {
  for (const warning of resolution.warnings) logger.warn(warning);
  for (const error of resolution.errors) logger.error(`disabled: ${error}`);
  if (resolution.errors.length === 0 && !resolution.config.enabled && resolution.config.disabledReason) {
    logger.warn(`disabled: ${resolution.config.disabledReason}. Records are accepted and discarded.`);
  }
}

function groupDrops(dropped: readonly DroppedEvent[]): Map<DropReason, DroppedEvent[]> {
  const groups = new Map<DropReason, DroppedEvent[]>();
  for (const drop of dropped) {
    const group = groups.get(drop.reason);
    if (group) group.push(drop);
    else groups.set(drop.reason, [drop]);
  }
  return groups;
}

function exportError(dropped: ReadonlyMap<DropReason, number>, total: number): PostHogExportError {
  let count = 0;
  const parts: string[] = [];
  const record: Partial<Record<DropReason, number>> = {};
  for (const [reason, n] of dropped) {
    count += n;
    record[reason] = n;
    parts.push(`${n} ${reason} (${describeReason(reason)})`);
  }
  return new PostHogExportError(`${count} of ${total} PostHog event(s) not delivered: ${parts.join(', ')}`, record);
}

function isEventShape(value: unknown): value is CaptureEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.event === 'string' && typeof v.uuid === 'string' && typeof v.distinct_id === 'string' && typeof v.timestamp === 'string' && typeof v.properties === 'object' && v.properties !== null;
}

function debugLine(message: string): void {
  console.debug(`[posthog-otel] ${message}`);
}

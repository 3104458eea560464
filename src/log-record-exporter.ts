import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { CaptureClient, captureEndpoint } from './capture/capture-client.ts';
import { SDK_INFO } from './capture/sdk-info.ts';
import { systemClock, type Clock } from './shared/clock.ts';
import { eventJson, plainEvent } from './capture/encoded-event.ts';
import type { CaptureTransport } from './transport/transport.ts';
import type { CaptureEvent, DropReason } from './capture/types.ts';
import { TimeSlicer } from './shared/time-slice.ts';
import { canonicalUuid } from './shared/uuid.ts';
import type { Environment } from './config/env.ts';
import type { PostHogExporterOptions } from './config/options.ts';
import { reportIfWaiting, reportResolution } from './config/report.ts';
import { resolveConfig, type Resolution } from './config/resolve.ts';
import type { HookSettings, MappingSettings, ResolvedConfig } from './config/sections.ts';
import { DeliveryLedger, totalDropped, type PostHogStats } from './delivery/ledger.ts';
import { pipelineStatus, type PipelineStatus } from './delivery/pipeline-status.ts';
import { exportError } from './export-error.ts';
import { DropWarnings, hideKeys, logger, publicUrl, redact } from './diagnostics/diagnostics.ts';
import { describeFailure } from './diagnostics/failure-text.ts';
import { OutageWarnings } from './diagnostics/outage-warnings.ts';
import { EventDelivery } from './delivery/event-delivery.ts';
import { mapRecord, type MappingOutcome, type RecordOrigin } from './mapping/record-to-event.ts';
import { UnconvertibleValueWarnings } from './mapping/unconvertible-warnings.ts';
import { exceptionPropertiesProblem } from './mapping/exception-shape.ts';
import { refusedReturnedPersonEvent } from './mapping/person-events.ts';
import { withWellFormedFields, withWellFormedProperties } from './mapping/well-formed.ts';
import { recordIdentity } from './request-identity.ts';
import { SpanEventLogRecord } from './selection/span-event-record.ts';
import { Spool } from './delivery/spool.ts';
import type { DeliveryHealth } from './delivery/health.ts';

/** Seams for tests and for the processor that builds the exporter; not part of the public options. */
export interface ExporterInternals {
  env?: Environment;
  resolution?: Resolution;
  clock?: Clock;
  random?: () => number;
  transport?: CaptureTransport;
  /** Where debug and dry-run lines go; console.log by default. */
  print?: (line: string) => void;
}

/**
 * A `LogRecordExporter` that maps records to PostHog events at export time and sends them over
 * capture v1.
 *
 * The result callback says what became of the records of that export: SUCCESS when none was
 * dropped, FAILED (with a `PostHogExportError` that counts the drops by reason) otherwise.
 * Events the server has not taken yet but did not reject wait in the retry buffer and are not
 * failures: they are still owned by the exporter, counted as `pending`, and resent later.
 * Exports may overlap (the batch processor starts a new one when an old one times out); each
 * runs under its own deadline, shorter than the batch processor's export timeout.
 */
export class PostHogLogRecordExporter implements LogRecordExporter {
  private readonly _resolution: Resolution;
  private readonly _config: ResolvedConfig;
  private readonly _client: CaptureClient | undefined;
  private readonly _delivery: EventDelivery | undefined;
  private readonly _clock: Clock;
  private readonly _mapping: MappingSettings;
  private readonly _ledger = new DeliveryLedger();
  private readonly _dropWarnings: DropWarnings;
  private readonly _unconvertible: UnconvertibleValueWarnings;
  private readonly _print: (line: string) => void;
  /** Scheme, host and port of the capture endpoint, for messages. */
  private readonly _origin: string | undefined;
  private _shutdownPromise: Promise<void> | undefined;
  /** One slicer for every export and resend: concurrent ones hold the event loop one slice at a time. */
  private readonly _slicer = new TimeSlicer();

  constructor(options: PostHogExporterOptions = {}, internals: ExporterInternals = {}) {
    const resolution = internals.resolution ?? resolveConfig(options, internals.env);
    this._resolution = resolution;
    this._config = resolution.config;
    this._clock = internals.clock ?? systemClock;
    this._print = internals.print ?? ((line) => console.log(line));
    if (internals.resolution === undefined) reportResolution(resolution, { kind: 'exporter', print: this._print });
    const c = this._config;
    this._mapping = c.mapping;
    this._dropWarnings = new DropWarnings(
      () => this._clock.now(),
      (message) => logger.warn(this._redact(message)),
    );
    this._unconvertible = new UnconvertibleValueWarnings(
      () => this._clock.now(),
      (message) => logger.warn(message),
    );
    if (!c.enabled || c.diagnostics.dryRun) return;
    const endpoint = publicUrl(captureEndpoint(c.client.host));
    this._origin = captureEndpoint(c.client.host).origin;
    const outageWarnings = new OutageWarnings({
      origin: this._origin,
      holds: c.delivery.retryBuffer.maxEvents > 0,
      // In the retry buffer or in flight (a probe, an export being held): not delivered yet.
      held: () => this._ledger.exporterStats().pending,
      dropped: () => totalDropped(this._ledger.exporterStats()),
      warn: (message) => logger.warn(this._redact(message)),
    });
    this._client = new CaptureClient({
      ...c.client,
      sdkInfo: SDK_INFO,
      clock: this._clock,
      onCompressionError: (error) => logger.warn(this._redact(`compression failed, sending uncompressed: ${String(error)}`)),
      onCompressionFallback: () =>
        logger.warn(
          'a zstd-compressed request was refused with HTTP 415 (by a proxy in front of PostHog?); sending gzip from now on. Set compression: "gzip" (POSTHOG_CAPTURE_COMPRESSION=gzip) to start with it.',
        ),
      ...(internals.transport ? { transport: internals.transport } : {}),
      ...(internals.random ? { random: internals.random } : {}),
      ...(c.diagnostics.debug
        ? {
            onAttempt: (a) =>
              this._debug(
                `request ${a.requestId} attempt ${a.attempt}: ${a.events} event(s) to ${endpoint} → ${a.status ?? 'no response'}${a.error ? ` (${a.error})` : ''}; ok ${a.delivered}, drop ${a.dropped}, retry ${a.retry}`,
              ),
          }
        : {}),
    });
    this._delivery = new EventDelivery({
      ...c.delivery,
      client: this._client,
      clock: this._clock,
      ledger: this._ledger,
      backoff: { initialDelayMillis: c.client.retryInitialDelayMillis, maxDelayMillis: c.client.retryMaxDelayMillis },
      ...(internals.random ? { random: internals.random } : {}),
      slicer: this._slicer,
      ...(c.spool ? { spool: new Spool({ ...c.spool, onProblem: (message) => logger.warn(this._redact(message)) }) } : {}),
      onDrop: (reason, events, details, count) => this._reportDrop(reason, events, details, count),
      onHealthChange: (change) => outageWarnings.observe(change),
    });
  }

  /** Time budget of one export: the configured timeout, kept below the batch processor's export timeout. */
  get exportDeadlineMillis(): number {
    return this._config.delivery.sendTimeoutMillis;
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
      reportIfWaiting(this._resolution);
      if (this._shutdownPromise !== undefined) {
        this._ledger.take(records.length);
        this._ledger.drop('shutdown', records.length);
        this._reportDrop('shutdown', [], 'export called after shutdown', records.length);
        finish({ code: ExportResultCode.FAILED, error: new Error('PostHogLogRecordExporter is shut down') });
        return;
      }
      if (!this._config.enabled && !this._config.diagnostics.dryRun) {
        finish({ code: ExportResultCode.SUCCESS });
        return;
      }
      this._export(records).then(finish, (error: unknown) =>
        finish({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
      );
    } catch (error) {
      finish({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  private async _export(records: readonly ReadableLogRecord[]): Promise<ExportResult> {
    const now = this._clock.now();
    this._ledger.take(records.length);
    const events: CaptureEvent[] = [];
    const dropped = new Map<DropReason, number>();
    let extraEvents = 0;
    const localDrop = (reason: DropReason, event: CaptureEvent | undefined, details: string): void => {
      this._ledger.drop(reason, 1);
      dropped.set(reason, (dropped.get(reason) ?? 0) + 1);
      this._reportDrop(reason, event ? [event] : [], details, 1);
    };
    const slicer = this._slicer;
    // Indexed loops: in an async function a for-of over an array allocated its iterator results
    // once per record (bench/micro/flush-allocation.ts).
    for (let r = 0; r < records.length; r++) {
      const record = records[r]!;
      const pause = slicer.pause();
      if (pause) await pause;
      const outcome = this._map(record, now);
      if (outcome.kind === 'invalid') {
        localDrop('invalid', undefined, outcome.reason);
        continue;
      }
      // A named event's linked $exception: `selected` counts events.
      if (outcome.events.length > 1) this._ledger.derive(outcome.events.length - 1);
      extraEvents += outcome.events.length - 1;
      for (let e = 0; e < outcome.events.length; e++) {
        const event = outcome.events[e]!;
        if (this._config.hooks.beforeSend === undefined) {
          events.push(event);
          continue;
        }
        const final = this._beforeSend(this._config.hooks.beforeSend, event);
        if ('dropped' in final) localDrop('before_send', event, final.dropped);
        else if ('invalid' in final) localDrop('invalid', final.returned, final.invalid);
        else events.push(final.event);
      }
    }
    const { debug, dryRun } = this._config.diagnostics;
    if (debug || dryRun) {
      const label = dryRun ? 'dry run, not sent: event' : 'event';
      for (const event of events) this._debug(`${label} ${debugJson(event)}`);
    }
    if (this._delivery === undefined) {
      // Dry run: mapped and printed, nothing sent; counted apart so getStats() still adds up.
      this._ledger.drop('dry_run', events.length);
      return { code: ExportResultCode.SUCCESS };
    }
    if (events.length > 0) {
      for (const [reason, count] of await this._delivery.deliver(events, now, slicer))
        dropped.set(reason, (dropped.get(reason) ?? 0) + count);
    }
    if (dropped.size === 0) return { code: ExportResultCode.SUCCESS };
    return { code: ExportResultCode.FAILED, error: exportError(dropped, records.length + extraEvents) };
  }

  private _map(record: ReadableLogRecord, nowMillis: number): MappingOutcome {
    try {
      const identity = recordIdentity(record);
      const spanEvent = record instanceof SpanEventLogRecord;
      let outcome: MappingOutcome;
      // Most records are neither: no origin to describe.
      if (identity === undefined && !spanEvent) outcome = mapRecord(record, this._mapping, nowMillis);
      else {
        const origin: RecordOrigin = {};
        if (identity !== undefined) origin.identity = identity;
        if (spanEvent) {
          origin.spanName = record.spanName;
          origin.index = record.index;
        }
        outcome = mapRecord(record, this._mapping, nowMillis, origin);
      }
      if (outcome.kind === 'mapped' && outcome.unconvertible > 0) this._unconvertible.record(outcome.unconvertible);
      return outcome;
    } catch (error) {
      // The error may quote attribute values, and so the key.
      logger.debug(this._redact(`record could not be mapped: ${String(error)}`));
      return { kind: 'invalid', reason: 'a record could not be mapped' };
    }
  }

  private _beforeSend(
    hook: NonNullable<HookSettings['beforeSend']>,
    event: CaptureEvent,
  ): { event: CaptureEvent } | { dropped: string } | { invalid: string; returned: CaptureEvent } {
    let result: unknown;
    try {
      // The hook gets a plain object of its own to change, not the encoded form.
      result = hook(plainEvent(event));
    } catch (error) {
      // A failing hook may be a redaction step: sending the event unredacted would be worse than dropping it.
      return { dropped: `beforeSend threw: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (result === null || result === undefined) return { dropped: 'beforeSend returned null' };
    if (!isEventShape(result)) return { dropped: 'beforeSend returned something that is not an event' };
    // Hooks may write ids in any case; the server keys results by the canonical form.
    const uuid = canonicalUuid(result.uuid);
    if (uuid === undefined) return { dropped: 'beforeSend returned an event whose uuid is not a UUID' };
    // `options` may be left out, as the protocol allows; the wire layer always sends an object.
    const options = typeof result.options === 'object' && result.options !== null ? result.options : {};
    const final = withWellFormedFields(uuid === result.uuid && options === result.options ? result : { ...result, uuid, options });
    // Ingestion would discard a person event without person processing, and say nothing.
    const person = refusedReturnedPersonEvent(final);
    if (person !== undefined)
      return 'invalid' in person
        ? { invalid: `beforeSend returned ${person.invalid}`, returned: final }
        : { event: { ...final, distinct_id: person.distinctId } };
    if (final.event !== '$exception') return { event: final };
    // Error tracking would dead-letter a $exception it cannot read, and say nothing: refused here instead.
    const exception = withWellFormedProperties(final);
    const problem = exceptionPropertiesProblem(exception.properties);
    if (problem !== undefined)
      return { invalid: `beforeSend returned a $exception error tracking cannot read: ${problem}`, returned: exception };
    return { event: exception };
  }

  private _reportDrop(reason: DropReason, events: readonly CaptureEvent[], details: string | undefined, count = events.length): void {
    const safeDetails = details === undefined ? undefined : this._redact(details);
    if (reason !== 'dry_run') this._dropWarnings.record(reason, count, this._withWhere(reason, safeDetails));
    const onDrop = this._config.hooks.onDrop;
    if (onDrop === undefined || events.length === 0) return;
    try {
      // Plain objects of the hook's own: changing them cannot reach anything we still hold.
      onDrop(events.map(plainEvent), reason, safeDetails);
    } catch (error) {
      logger.warn(this._redact(`onDrop threw: ${String(error)}`));
    }
  }

  /** Events that ran out of attempts or time: the warning names the host and the last failure. */
  private _withWhere(reason: DropReason, details: string | undefined): string | undefined {
    if ((reason !== 'retry_exhausted' && reason !== 'deadline') || this._origin === undefined) return details;
    const cause = this._delivery?.health.lastFailure;
    const where = `PostHog at ${this._origin}${cause ? `, last failure: ${describeFailure(cause)}` : ''}`;
    return details === undefined ? where : `${details}; ${where}`;
  }

  private _redact(text: string): string {
    return redact(text, this._config.client.apiKey);
  }

  private _debug(line: string): void {
    try {
      this._print(`[posthog-otel] ${this._redact(line)}`);
    } catch {
      // Printing is best effort.
    }
  }

  /** Where the records handed to this exporter stand (`emitted` and `selected` count them), and its `status`. */
  getStats(): PostHogStats {
    return { ...this._ledger.exporterStats(), ...this.status };
  }

  /** @internal What state the pipeline is in: sending, disabled (and why), dry run, or an outage (and its cause). */
  get status(): PipelineStatus {
    const c = this._config;
    const disabledReason = c.disabledReason === undefined ? undefined : hideKeys(c.disabledReason, c.client.apiKey);
    return pipelineStatus({ enabled: c.enabled, dryRun: c.diagnostics.dryRun, disabledReason, health: this._delivery?.health });
  }

  /** @internal The account the processor shares, for its own statistics. */
  get ledger(): DeliveryLedger {
    return this._ledger;
  }

  /** @internal Whether PostHog is taking events, and the last failure; undefined when nothing is sent. */
  get deliveryHealth(): DeliveryHealth | undefined {
    return this._delivery?.health;
  }

  /** @internal Bounds the next flush or shutdown by `timeoutMillis` (`flushTimeoutMillis`); see {@link EventDelivery.openWindow}. */
  openFlushWindow(final: boolean, timeoutMillis = this._config.delivery.flushTimeoutMillis): () => void {
    return this._delivery?.openWindow(timeoutMillis, final) ?? (() => undefined);
  }

  /**
   * Waits for exports in flight. On its own it also resends what the retry buffer holds, within
   * `flushTimeoutMillis`; inside a processor's flush (which calls this once per batch) the
   * processor drains the buffer once at the end instead.
   */
  forceFlush(): Promise<void> {
    return this.forceFlushWithin(this._config.delivery.flushTimeoutMillis);
  }

  /** @internal {@link forceFlush} within `timeoutMillis` (at most `flushTimeoutMillis`): withFlush's budget. */
  async forceFlushWithin(timeoutMillis: number): Promise<void> {
    const delivery = this._delivery;
    if (delivery === undefined) return;
    try {
      if (delivery.flushing) return await delivery.settleInFlight();
      await this.drainRetryBuffer(timeoutMillis);
    } catch (error) {
      logger.error(this._redact(`forceFlush failed: ${String(error)}`));
    }
  }

  /** @internal Resends what the retry buffer holds, within `timeoutMillis` (and the open flush window). */
  async drainRetryBuffer(timeoutMillis = this._config.delivery.flushTimeoutMillis): Promise<void> {
    if (this._delivery === undefined) return;
    const close = this.openFlushWindow(false, Math.min(timeoutMillis, this._config.delivery.flushTimeoutMillis));
    try {
      await this._delivery.flush();
    } finally {
      close();
    }
  }

  /**
   * Flushes within `flushTimeoutMillis`, then spools (with `spoolDir`) or drops what is left and
   * closes connections. Later exports fail and count their records as `shutdown`.
   */
  shutdown(): Promise<void> {
    this._shutdownPromise ??= (async () => {
      try {
        await this._delivery?.shutdown();
      } finally {
        await this._client?.close();
      }
    })().catch((error: unknown) => logger.error(this._redact(`shutdown failed: ${String(error)}`)));
    return this._shutdownPromise;
  }
}

/** An event's JSON for debug output. Never throws: a hook may return values JSON cannot hold, and the send refuses those events. */
function debugJson(event: CaptureEvent): string {
  try {
    return eventJson(event) ?? '(no JSON)';
  } catch (error) {
    return `(not serialisable as JSON: ${error instanceof Error ? error.message : String(error)})`;
  }
}

function isEventShape(value: unknown): value is CaptureEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.event === 'string' &&
    typeof v.uuid === 'string' &&
    typeof v.distinct_id === 'string' &&
    typeof v.timestamp === 'string' &&
    typeof v.properties === 'object' &&
    v.properties !== null
  );
}

import type { Context } from '@opentelemetry/api';
import { BatchLogRecordProcessor, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { DropReason } from './capture/types.ts';
import type { PostHogLogRecordProcessorOptions } from './config/options.ts';
import { reportResolution } from './config/report.ts';
import { resolveConfig } from './config/resolve.ts';
import type { ResolvedConfig } from './config/sections.ts';
import type { DeliveryLedger, PostHogStats } from './delivery/ledger.ts';
import { DropWarnings, logger } from './diagnostics/diagnostics.ts';
import { describeFailure } from './diagnostics/failure-text.ts';
import { isUnreachable } from './capture/send-report.ts';
import { flushOnExit } from './runtime/exit-flush.ts';
import { PostHogLogRecordExporter, type ExporterInternals } from './log-record-exporter.ts';
import { isSelected, type SelectionSettings } from './selection/selection.ts';
import { scheduleOn, systemClock, type Clock } from './shared/clock.ts';
import { getPostHogIdentity, mergeIdentities, rememberRecordIdentity, type PostHogIdentity } from './request-identity.ts';
import { requestIdentityOf } from './selection/server-span-identity.ts';
import type { EmittedLogRecord } from './selection/span-event-record.ts';

/** Our own scope: records from it are never turned into events, so diagnostics cannot loop. */
export const OWN_SCOPE_NAME = 'opentelemetry-exporter-posthog';

/**
 * The identity of a record's context: its own first, then the one set during its request (however
 * late) for the fields it lacks. A context that cannot be read costs the identity, not the record.
 */
function contextIdentity(context: Context | undefined): PostHogIdentity | undefined {
  try {
    return mergeIdentities(getPostHogIdentity(context), requestIdentityOf(context));
  } catch {
    return undefined;
  }
}

/**
 * The PostHog log pipeline: selects the records that are events, batches them with OpenTelemetry's
 * own `BatchLogRecordProcessor`, and exports them with {@link PostHogLogRecordExporter}.
 * Configured from options, then `POSTHOG_*` and `OTEL_BLRP_*` environment variables, then defaults.
 */
export class PostHogLogRecordProcessor implements LogRecordProcessor {
  readonly exporter: PostHogLogRecordExporter;
  private readonly _config: ResolvedConfig;
  private readonly _batch: BatchLogRecordProcessor;
  private readonly _selection: SelectionSettings;
  private readonly _dropWarnings: DropWarnings;
  private readonly _clock: Clock;
  /** The exporter's account, which this processor's counts join. */
  private readonly _ledger: DeliveryLedger;
  /** forceFlush() calls running now: shutdown waits for them (see shutdown()). */
  private readonly _flushes = new Set<Promise<void>>();
  /** Set by the first shutdown(): from then on records are dropped as `shutdown`, and flushes wait for it. */
  private _shutdownPromise: Promise<void> | undefined;
  /** Records handed to the batch processor when the last exit flush started: an exit flush runs only for records newer than that. */
  private _exitFlushedUpTo = 0;
  private readonly _stopExitFlush: (() => void) | undefined;

  constructor(options: PostHogLogRecordProcessorOptions = {}, internals: ExporterInternals = {}) {
    const resolution = internals.resolution ?? resolveConfig(options, internals.env);
    reportResolution(resolution, { kind: 'processor', print: internals.print ?? ((line) => console.log(line)) });
    this._config = resolution.config;
    this.exporter = new PostHogLogRecordExporter(options, { ...internals, resolution });
    this._ledger = this.exporter.ledger;
    const { batch } = this._config;
    this._batch = new BatchLogRecordProcessor({
      exporter: this.exporter,
      maxExportBatchSize: Math.min(batch.maxExportBatchSize, batch.maxQueueSize),
      scheduledDelayMillis: batch.scheduledDelayMillis,
      maxQueueSize: batch.maxQueueSize,
      exportTimeoutMillis: batch.exportTimeoutMillis,
    });
    this._selection = { ...this._config.selection, ignoredScopes: new Set([OWN_SCOPE_NAME]) };
    this._clock = internals.clock ?? systemClock;
    this._dropWarnings = new DropWarnings(
      () => this._clock.now(),
      (message) => logger.warn(message),
    );
    if (batch.flushOnExit && this.accepting) this._stopExitFlush = flushOnExit(this);
  }

  onEmit(logRecord: EmittedLogRecord, context?: Context): void {
    try {
      this._ledger.emit();
      if (!this.accepting || !isSelected(logRecord, this._selection)) return;
      this._ledger.select();
      if (this._shutdownPromise !== undefined) return this._dropLocally('shutdown');
      // The batch processor drops silently when full. Refusing one record earlier, by our own
      // count, makes every queue drop visible; the count can only overstate the queue.
      if (this._ledger.batchQueue >= this._config.batch.maxQueueSize) return this._dropLocally('queue_full');
      const identity = contextIdentity(context);
      if (identity !== undefined) rememberRecordIdentity(logRecord, identity);
      this._ledger.queue();
      this._batch.onEmit(logRecord);
    } catch (error) {
      logger.error(`onEmit failed: ${String(error)}`);
    }
  }

  /** @internal False when the pipeline is off (no key, or a configuration error): span events then build no records. */
  get accepting(): boolean {
    return this._config.enabled || this._config.diagnostics.dryRun;
  }

  private _dropLocally(reason: DropReason): void {
    this._ledger.refuse(reason);
    this._dropWarnings.record(reason, 1, undefined);
  }

  /** Where every record stands; see {@link PostHogStats} for the identity that holds after a flush. */
  getStats(): PostHogStats {
    return { ...this._ledger.pipelineStats(), ...this.exporter.status };
  }

  /**
   * Exports everything queued and resends what waits for retry, within `flushTimeoutMillis`: at the
   * deadline requests in flight are aborted, and what is left stays pending for later.
   */
  forceFlush(): Promise<void> {
    return this.forceFlushWithin(this._config.delivery.flushTimeoutMillis);
  }

  /** @internal {@link forceFlush} within `timeoutMillis` (at most `flushTimeoutMillis`): withFlush's budget. */
  forceFlushWithin(timeoutMillis: number): Promise<void> {
    // A flush asked for during shutdown is that shutdown: a flush of its own would take the batch
    // processor's queue from under it, and send into an exporter about to close.
    if (this._shutdownPromise !== undefined) return this._shutdownPromise;
    const flush = this._forceFlush(Math.min(timeoutMillis, this._config.delivery.flushTimeoutMillis));
    this._flushes.add(flush);
    void flush.finally(() => this._flushes.delete(flush)).catch(() => undefined);
    return flush;
  }

  private async _forceFlush(timeoutMillis: number): Promise<void> {
    const close = this.exporter.openFlushWindow(false, timeoutMillis);
    const deadline = this._clock.now() + timeoutMillis;
    // Everything queued before this call is to reach the exporter.
    const target = this._ledger.handedToBatch;
    const reached = (): boolean => this._ledger.taken >= target;
    try {
      await this._withinFlushTime(this._batch.forceFlush(), deadline);
      // The batch processor returns at once from a flush called while another one runs. Wait until
      // everything queued before this call has reached the exporter, or the flush time is up.
      while (!reached() && this._clock.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await this._withinFlushTime(this._batch.forceFlush(), deadline);
      }
      await this.exporter.drainRetryBuffer(timeoutMillis);
    } catch (error) {
      logger.error(`forceFlush failed: ${String(error)}`);
    } finally {
      close();
    }
  }

  /**
   * @internal The flush on `beforeExit` (see {@link flushOnExit}): once for the records that
   * arrived since the previous one, so it can never keep a process alive by itself.
   */
  flushAtExit(): Promise<void> | undefined {
    if (this._shutdownPromise !== undefined || this._ledger.handedToBatch === this._exitFlushedUpTo) return undefined;
    this._exitFlushedUpTo = this._ledger.handedToBatch;
    return this.forceFlush().then(() => {
      const { pending, status, outage } = this.getStats();
      if (pending === 0) return;
      // During an outage the flush stops after one probe: the time budget is not the reason.
      const why =
        status !== 'outage' || outage === undefined
          ? `not delivered within flushTimeoutMillis (${this._config.delivery.flushTimeoutMillis} ms)`
          : isUnreachable(outage.cause)
            ? `not delivered: PostHog cannot be reached, ${describeFailure(outage.cause)}`
            : `not delivered: PostHog is not taking events, ${describeFailure(outage.cause)}`;
      logger.warn(
        this._config.spool === undefined
          ? `flush at exit: ${pending} event(s) ${why}; they are lost if the process exits now. Set spoolDir to keep them for the next start.`
          : `flush at exit: ${pending} event(s) ${why}; those waiting for retry stay in the spool for the next start.`,
      );
    });
  }

  /**
   * Flushes within `flushTimeoutMillis`, then spools (with `spoolDir`) or drops what is left as
   * `deadline`. Records emitted afterwards are counted as dropped (`shutdown`) and cost nothing.
   */
  shutdown(): Promise<void> {
    this._stopExitFlush?.();
    this._shutdownPromise ??= this._shutdownOnce();
    return this._shutdownPromise;
  }

  private async _shutdownOnce(): Promise<void> {
    const close = this.exporter.openFlushWindow(true);
    const deadline = this._clock.now() + this._config.delivery.flushTimeoutMillis;
    try {
      // The batch processor skips its final flush while one of its flushes runs, and records queued
      // since that flush began would then stay in its queue for good: let running flushes end first.
      while (this._flushes.size > 0) await Promise.allSettled([...this._flushes]);
      // The batch processor may still wait (for a resource's async attributes that never settle):
      // then the exporter shuts down on its own, and later exports count their records as `shutdown`.
      if (!(await this._withinFlushTime(this._batch.shutdown(), deadline))) await this.exporter.shutdown();
      const held = this._ledger.batchQueue;
      if (held > 0) {
        logger.warn(
          `shutdown: ${held} record(s) never reached the exporter within flushTimeoutMillis (does the resource have async attributes that never settle?); they stay pending, and are dropped as shutdown if the batch processor ever exports them`,
        );
      }
    } catch (error) {
      logger.error(`shutdown failed: ${String(error)}`);
    } finally {
      close();
    }
  }

  /**
   * Waits for `work` until `deadline`. The batch processor awaits the resource's async attributes
   * before each export; a detector that never settles must not hold a flush or shutdown past its
   * time. Resolves to false when the time ran out first.
   */
  private async _withinFlushTime(work: Promise<void>, deadline: number): Promise<boolean> {
    let cancel: (() => void) | undefined;
    const timeUp = new Promise<boolean>((resolve) => {
      cancel = scheduleOn(this._clock, Math.max(0, deadline - this._clock.now()), () => resolve(false));
    });
    try {
      return await Promise.race([work.then(() => true), timeUp]);
    } finally {
      cancel?.();
    }
  }
}

import { echoDiagnosticsToConsole, logger, redact } from '../diagnostics/diagnostics.ts';
import type { Resolution } from './resolve.ts';
import type { ResolvedConfig } from './sections.ts';

/** What a start-up line describes: a processor (which batches) or an exporter used on its own. */
export type PipelineKind = 'processor' | 'exporter';

export interface ReportSettings {
  kind: PipelineKind;
  /** Where the start-up line goes in debug and dry-run mode. */
  print: (line: string) => void;
}

/** Reports not yet made, by resolution: the first export makes its report at once. */
const waiting = new WeakMap<Resolution, () => void>();

/**
 * Reports what configuration resolution found: the start-up line (debug and dry run), then each
 * warning and error on `diag`, once. Deferred to the next turn of the event loop, or the first
 * export if that comes sooner: in the documented NodeSDK set-up the processor is built before
 * `new NodeSDK()` installs the diag logger, and messages logged before that are lost.
 */
export function reportResolution(resolution: Resolution, settings: ReportSettings): void {
  if (resolution.config.diagnostics.debug) echoDiagnosticsToConsole();
  const report = (): void => {
    if (!waiting.delete(resolution)) return;
    reportNow(resolution, settings);
  };
  waiting.set(resolution, report);
  setImmediate(report);
}

/** Makes the report of `resolution` now if it is still waiting, so no debug line comes before the start-up line. */
export function reportIfWaiting(resolution: Resolution): void {
  waiting.get(resolution)?.();
}

function reportNow(resolution: Resolution, settings: ReportSettings): void {
  const { config } = resolution;
  // A value echoed back may be a key put in the wrong variable or in the host's path.
  const safe = (text: string): string => redact(text, config.client.apiKey).replace(/ph[cx]_[\w-]+/g, 'ph*_***');
  const { debug, dryRun } = config.diagnostics;
  if (debug || dryRun) {
    try {
      settings.print(`[posthog-otel] ${safe(startupLine(config, settings.kind))}`);
    } catch {
      // Printing is best effort.
    }
  }
  for (const warning of resolution.warnings) logger.warn(safe(warning));
  for (const error of resolution.errors) logger.error(safe(`disabled: ${error}`));
  if (resolution.errors.length === 0 && !config.enabled && config.disabledReason) {
    logger.warn(safe(`disabled: ${config.disabledReason}. Records are accepted and discarded.`));
  }
}

/** The effective configuration in one line. Names where the key came from, never the key. */
export function startupLine(config: ResolvedConfig, kind: PipelineKind): string {
  const { client, batch } = config;
  const state = config.diagnostics.dryRun
    ? 'dry run (events are printed, nothing is sent)'
    : config.enabled
      ? 'enabled'
      : `disabled (${config.disabledReason ?? 'no reason given'})`;
  const parts = [
    `start: ${state}`,
    `host ${client.host}`,
    config.apiKeySource === undefined ? 'no API key' : `API key from ${config.apiKeySource}`,
    `compression ${client.compression}`,
  ];
  if (kind === 'processor') {
    parts.push(
      `batches of up to ${Math.min(batch.maxExportBatchSize, batch.maxQueueSize)} records every ${batch.scheduledDelayMillis} ms, queue ${batch.maxQueueSize}, export timeout ${batch.exportTimeoutMillis} ms`,
    );
  }
  parts.push(
    `flush timeout ${config.delivery.flushTimeoutMillis} ms${kind === 'processor' ? (batch.flushOnExit ? ', flush on exit' : ', no flush on exit') : ''}`,
  );
  if (config.spool !== undefined) parts.push(`spool ${config.spool.dir}`);
  return parts.join('; ');
}

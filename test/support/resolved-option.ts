// Where each option's resolved value lives in the configuration's sections, for tests that check
// many options the same way.

import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';
import type { ResolvedConfig } from '../../src/config/sections.ts';

type OptionName = keyof PostHogLogRecordProcessorOptions;

const READERS: Partial<Record<OptionName, (c: ResolvedConfig) => unknown>> = {
  apiKey: (c) => c.client.apiKey,
  host: (c) => c.client.host,
  compression: (c) => c.client.compression,
  headers: (c) => c.client.headers,
  historicalMigration: (c) => c.client.historicalMigration,
  maxAttempts: (c) => c.client.maxAttempts,
  retryInitialDelayMillis: (c) => c.client.retryInitialDelayMillis,
  retryMaxDelayMillis: (c) => c.client.retryMaxDelayMillis,
  dispatcher: (c) => c.client.dispatcher,
  // With the default export timeout, one export's budget is the timeout itself.
  timeoutMillis: (c) => c.delivery.sendTimeoutMillis,
  flushTimeoutMillis: (c) => c.delivery.flushTimeoutMillis,
  retryBufferMaxEvents: (c) => c.delivery.retryBuffer.maxEvents,
  retryBufferMaxBytes: (c) => c.delivery.retryBuffer.maxBytes,
  retryBufferMaxAgeMillis: (c) => c.delivery.retryBuffer.maxAgeMillis,
  spoolDir: (c) => c.spool?.dir,
  spoolMaxBytes: (c) => c.spool?.maxBytes,
  maxExportBatchSize: (c) => c.batch.maxExportBatchSize,
  scheduledDelayMillis: (c) => c.batch.scheduledDelayMillis,
  maxQueueSize: (c) => c.batch.maxQueueSize,
  exportTimeoutMillis: (c) => c.batch.exportTimeoutMillis,
  flushOnExit: (c) => c.batch.flushOnExit,
  logRecords: (c) => c.selection.logRecords,
  minSeverity: (c) => c.selection.minSeverity,
  disableGeoip: (c) => c.mapping.disableGeoip,
  resourceAttributes: (c) => c.mapping.resourceAttributes,
  logEventName: (c) => c.mapping.logEventName,
  deterministicUuids: (c) => c.mapping.deterministicUuids,
  beforeSend: (c) => c.hooks.beforeSend,
  onDrop: (c) => c.hooks.onDrop,
  debug: (c) => c.diagnostics.debug,
  dryRun: (c) => c.diagnostics.dryRun,
};

/** The resolved value of one option. */
export function resolvedOption(config: ResolvedConfig, option: OptionName): unknown {
  const read = READERS[option];
  if (read === undefined) throw new Error(`no section holds the option ${option}`);
  return read(config);
}

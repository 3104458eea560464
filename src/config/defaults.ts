// The defaults of every setting, one table per section of the resolved configuration. The README's
// configuration table and the option comments in options.ts quote these values.
import type {
  BatchSettings,
  CaptureClientSettings,
  DeliverySettings,
  DiagnosticsSettings,
  MappingSettings,
  RecordSelectionSettings,
  SpoolSettings,
} from './sections.ts';

/** The capture client's section; `apiKey` has no default, and `dispatcher` is the user's or none. */
export const CLIENT_DEFAULTS: Readonly<Omit<CaptureClientSettings, 'apiKey' | 'dispatcher'>> = {
  host: 'https://us.i.posthog.com',
  compression: 'zstd',
  headers: {},
  historicalMigration: false,
  // Requests per event in this process. With the default delays (500 ms doubling, capped at 30 s) the
  // 25th attempt comes about 9.5 minutes after the first: the budget rides out an outage about as
  // long as the retry buffer keeps events (README, "How long retries last").
  maxAttempts: 25,
  retryInitialDelayMillis: 500,
  retryMaxDelayMillis: 30_000,
  // Not options: limits of one request, set by what the capture endpoint accepts.
  requestTimeoutMillis: 10_000,
  connectTimeoutMillis: 5_000,
  // The server bounds requests by bytes only; fewer, larger requests cost less CPU per event.
  maxEventsPerRequest: 1000,
  maxRequestBytes: 5 * 1024 * 1024,
  maxEventBytes: 900 * 1024,
  maxConcurrentRequests: 4,
  maxResponseBytes: 1024 * 1024,
};

/** The delivery section. `sendTimeoutMillis` is the `timeoutMillis` option. */
export const DELIVERY_DEFAULTS: Readonly<DeliverySettings> = {
  sendTimeoutMillis: 10_000,
  flushTimeoutMillis: 10_000,
  retryBuffer: { maxEvents: 10_000, maxBytes: 32 * 1024 * 1024, maxAgeMillis: 600_000 },
};

/** The spool section, used only when a directory is given. */
export const SPOOL_DEFAULTS: Readonly<Omit<SpoolSettings, 'dir'>> = {
  maxBytes: 64 * 1024 * 1024,
};

/** The batch section: OpenTelemetry's `OTEL_BLRP_*` defaults, and the flush at exit. */
export const BATCH_DEFAULTS: Readonly<BatchSettings> = {
  maxExportBatchSize: 512,
  scheduledDelayMillis: 1_000,
  maxQueueSize: 2_048,
  exportTimeoutMillis: 30_000,
  flushOnExit: true,
};

export const SELECTION_DEFAULTS: Readonly<RecordSelectionSettings> = {
  logRecords: 'events',
  minSeverity: 0,
};

export const MAPPING_DEFAULTS: Readonly<Required<MappingSettings>> = {
  // A server's IP is not the user's.
  disableGeoip: true,
  resourceAttributes: 'default',
  logEventName: 'log',
  deterministicUuids: false,
};

export const DIAGNOSTICS_DEFAULTS: Readonly<DiagnosticsSettings> = {
  debug: false,
  dryRun: false,
};

import type { Dispatcher } from 'undici';
import type { CaptureEvent, Compression, DropReason } from '../capture/types.ts';

/** What `beforeSend` receives and returns: the mapped PostHog event. */
export type PostHogEvent = CaptureEvent;

/** Which resource attributes become event properties (`service.name` always becomes `service_name`). */
export type ResourcePropertiesRule = 'default' | 'all' | 'none' | readonly string[];

/** Options of {@link PostHogLogRecordExporter}. Every option also has an environment variable; code wins. */
export interface PostHogExporterOptions {
  /** Project API key (`phc_…`). Env: `POSTHOG_API_KEY`, `POSTHOG_PROJECT_TOKEN`, `POSTHOG_PROJECT_API_KEY`. Without one, nothing is sent. */
  apiKey?: string;
  /** Ingestion host. Env: `POSTHOG_HOST`. Default `https://us.i.posthog.com`. */
  host?: string;
  /**
   * Request body compression: `zstd` (level 1), `gzip`, `deflate` or `none`.
   * Env: `POSTHOG_CAPTURE_COMPRESSION` (`identity` means `none`). Default `zstd`.
   */
  compression?: Compression;
  /** Extra request headers, for proxies and gateways. Env: `POSTHOG_OTEL_HEADERS` (`k=v,k2=v2`). */
  headers?: Record<string, string>;
  /** Time budget of one export, retries included. Env: `POSTHOG_OTEL_TIMEOUT`. Default 10000 ms. */
  timeoutMillis?: number;
  /** Requests that may carry an event in this process, the first included; then it is dropped as `retry_exhausted`. Env: `POSTHOG_OTEL_MAX_ATTEMPTS`. Default 25. */
  maxAttempts?: number;
  /** First retry delay; it doubles per retry. Env: `POSTHOG_OTEL_RETRY_INITIAL_DELAY`. Default 500 ms. */
  retryInitialDelayMillis?: number;
  /** Longest wait between attempts, `Retry-After` included. Env: `POSTHOG_OTEL_RETRY_MAX_DELAY`. Default 30000 ms. */
  retryMaxDelayMillis?: number;
  /** Adds `$geoip_disable: true`, since a server's IP is not the user's. Env: `POSTHOG_DISABLE_GEOIP`. Default true. */
  disableGeoip?: boolean;
  /** Marks batches as a historical import. Env: `POSTHOG_HISTORICAL_MIGRATION`. Default false. */
  historicalMigration?: boolean;
  /** Resource attributes copied into properties. Env: `POSTHOG_OTEL_RESOURCE_ATTRIBUTES` (`all`, `none`, `default` or a comma list). */
  resourceAttributes?: ResourcePropertiesRule;
  /** Event name for plain log lines when `logRecords` is `all`. Default `log`. */
  logEventName?: string;
  /** Change or drop (return null) each mapped event before it is sent. A throw drops the event. */
  beforeSend?: (event: PostHogEvent) => PostHogEvent | null;
  /** Called with events given up on, and why. */
  onDrop?: (events: readonly PostHogEvent[], reason: DropReason, details: string | undefined) => void;
  /** Prints each mapped event and a line per request through a console logger. Env: `POSTHOG_OTEL_DEBUG`. */
  debug?: boolean;
  /** Bring your own undici dispatcher (proxy agent, tests). */
  dispatcher?: Dispatcher;
  /** Time budget of `forceFlush()` and `shutdown()`; then requests are aborted. Env: `POSTHOG_OTEL_FLUSH_TIMEOUT`. Default 10000 ms. */
  flushTimeoutMillis?: number;
  /** Events kept for retry during an outage. Env: `POSTHOG_OTEL_RETRY_BUFFER_MAX_EVENTS`. Default 10000. */
  retryBufferMaxEvents?: number;
  /** Bytes kept for retry. Env: `POSTHOG_OTEL_RETRY_BUFFER_MAX_BYTES`. Default 33554432 (32 MiB). */
  retryBufferMaxBytes?: number;
  /** How long an event may wait for retry. Env: `POSTHOG_OTEL_RETRY_BUFFER_MAX_AGE`. Default 600000 ms. */
  retryBufferMaxAgeMillis?: number;
  /** Directory where undelivered events survive a restart (opt-in). Env: `POSTHOG_OTEL_SPOOL_DIR`. */
  spoolDir?: string;
  /** Bytes the spool may use. Env: `POSTHOG_OTEL_SPOOL_MAX_BYTES`. Default 67108864 (64 MiB). */
  spoolMaxBytes?: number;
  /** Event uuids derived from trace id, span id, name, time and index, so a re-exported record dedupes. Env: `POSTHOG_OTEL_DETERMINISTIC_UUIDS`. */
  deterministicUuids?: boolean;
  /** Map and print events, send nothing. Env: `POSTHOG_OTEL_DRY_RUN`. */
  dryRun?: boolean;
}

/** Options of {@link PostHogLogRecordProcessor}: the exporter's, plus batching and record selection. */
export interface PostHogLogRecordProcessorOptions extends PostHogExporterOptions {
  /** Env: `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`. Default 512. */
  maxExportBatchSize?: number;
  /** Env: `OTEL_BLRP_SCHEDULE_DELAY`. Default 1000 ms. */
  scheduledDelayMillis?: number;
  /** Env: `OTEL_BLRP_MAX_QUEUE_SIZE`. Default 2048. */
  maxQueueSize?: number;
  /** Env: `OTEL_BLRP_EXPORT_TIMEOUT`. Default 30000 ms. */
  exportTimeoutMillis?: number;
  /** `events` (default): only records that are events; `all`: every log line too. Env: `POSTHOG_OTEL_LOG_RECORDS`. */
  logRecords?: 'events' | 'all';
  /** With `logRecords: 'all'`, plain log lines below this OTel severity number are skipped. Env: `POSTHOG_OTEL_MIN_SEVERITY`. */
  minSeverity?: number;
  /**
   * Flush when the event loop empties (`beforeExit`), within `flushTimeoutMillis`, so a script that
   * ends without `shutdown()` still delivers. Env: `POSTHOG_OTEL_FLUSH_ON_EXIT`. Default true.
   */
  flushOnExit?: boolean;
}

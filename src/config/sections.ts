// The resolved configuration, one section per part of the pipeline. Each part is handed its own
// section and nothing else; the defaults of every section are in defaults.ts. These are plain data
// types that import no part, so the parts depend on the configuration and not the other way round.
import type { Dispatcher } from 'undici';
import type { Compression, DropReason } from '../capture/types.ts';
import type { PostHogEvent, ResourcePropertiesRule } from './options.ts';

/** The capture client's section (`CaptureClient`): where to send, and how hard to try. */
export interface CaptureClientSettings {
  /** Ingestion host, e.g. `https://us.i.posthog.com`; a path prefix (reverse proxy) is kept. */
  host: string;
  apiKey: string;
  compression: Compression;
  /** Extra request headers (proxies, gateways). They cannot replace the protocol's own headers. */
  headers: Readonly<Record<string, string>>;
  historicalMigration: boolean;
  /** Attempts per batch, the first included. */
  maxAttempts: number;
  retryInitialDelayMillis: number;
  retryMaxDelayMillis: number;
  /** Upper bound for one attempt; the send's deadline may cut it shorter. */
  requestTimeoutMillis: number;
  connectTimeoutMillis: number;
  maxEventsPerRequest: number;
  /** Uncompressed JSON bytes per request. */
  maxRequestBytes: number;
  /** Serialised bytes of one event; larger events are dropped as `too_large` before sending. */
  maxEventBytes: number;
  maxConcurrentRequests: number;
  maxResponseBytes: number;
  /** The user's own undici dispatcher (proxy agent, tests); without one the client keeps a pool. */
  dispatcher?: Dispatcher | undefined;
}

/** The delivery section (`EventDelivery`): time budgets and the retry buffer's bounds. */
export interface DeliverySettings {
  /** Time budget of one delivery (an export, a timed resend): the `timeoutMillis` option, see `exportDeadlineMillis`. */
  sendTimeoutMillis: number;
  /** Time budget of a flush or shutdown when the caller gives none. */
  flushTimeoutMillis: number;
  retryBuffer: { maxEvents: number; maxBytes: number; maxAgeMillis: number };
}

/** The spool section (`Spool`), set only when the user gave a directory. */
export interface SpoolSettings {
  dir: string;
  /** Bytes the spool may use. */
  maxBytes: number;
}

/** The batch section: the processor's `BatchLogRecordProcessor`, and its flush at exit. */
export interface BatchSettings {
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  maxQueueSize: number;
  exportTimeoutMillis: number;
  /** Flush when the event loop empties (`beforeExit`). */
  flushOnExit: boolean;
}

/** The selection section (`isSelected`, at `onEmit`): which records become events. */
export interface RecordSelectionSettings {
  /** `events`: only records that are events; `all`: plain log lines too. */
  logRecords: 'events' | 'all';
  /** With `logRecords: 'all'`, plain log lines below this severity number are skipped. */
  minSeverity: number;
}

/** The mapping section (`mapRecord`): how a record becomes events. */
export interface MappingSettings {
  disableGeoip: boolean;
  resourceAttributes: ResourcePropertiesRule;
  /** Name of events made from plain log lines. */
  logEventName: string;
  /** Derive uuids from trace id, span id, event name, time and index instead of drawing them. */
  deterministicUuids?: boolean;
}

/** The user's hooks, called by the exporter (code only, no environment variable). */
export interface HookSettings {
  beforeSend: ((event: PostHogEvent) => PostHogEvent | null) | undefined;
  onDrop: ((events: readonly PostHogEvent[], reason: DropReason, details: string | undefined) => void) | undefined;
}

/** The diagnostics section: what the pipeline prints, and whether it sends at all. */
export interface DiagnosticsSettings {
  /** Print each mapped event, each request and the start-up line. */
  debug: boolean;
  /** Map and print events, send nothing. */
  dryRun: boolean;
}

/** The configuration, resolved from options, then the environment, then defaults. */
export interface ResolvedConfig {
  /** False when nothing should be sent: no key, or a configuration error. */
  enabled: boolean;
  /** Why `enabled` is false. */
  disabledReason?: string;
  /** Where the API key came from: an environment variable's name, `the apiKey option`, or undefined when there is none. */
  apiKeySource: string | undefined;
  client: CaptureClientSettings;
  delivery: DeliverySettings;
  /** Undefined without a spool directory. */
  spool: SpoolSettings | undefined;
  batch: BatchSettings;
  selection: RecordSelectionSettings;
  mapping: Required<MappingSettings>;
  hooks: HookSettings;
  diagnostics: DiagnosticsSettings;
}

// The log pipelines under test, each an OpenTelemetry LoggerProvider with one processor:
//   ours        PostHogLogRecordProcessor (its own BatchLogRecordProcessor + PostHogLogRecordExporter),
//               default compression (zstd level 1)
//   ours-gzip   the same with POSTHOG_CAPTURE_COMPRESSION=gzip (level 1), to compare with the gzip contenders
//   ours-before-send  ours with a beforeSend hook that blanks one property (what a redaction costs)
//   otlp-http   BatchLogRecordProcessor + @opentelemetry/exporter-logs-otlp-http (http/json), gzip
//   otlp-proto  BatchLogRecordProcessor + @opentelemetry/exporter-logs-otlp-proto, gzip
//   stock-noop  BatchLogRecordProcessor + an exporter that does nothing (scenario 2's reference)
//   bound       BatchLogRecordProcessor + an exporter that only maps, writes the body, compresses it and
//               POSTs it, one request per batch: how far ours could go with delivery bookkeeping free
//   noop-processor  a processor whose onEmit does nothing (the SDK's own cost of building the record)
// Every batching pipeline gets the same BLRP settings.

import type { Logger } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as OtlpHttpLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as OtlpProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type LogRecordProcessor, type ReadableLogRecord, type ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { encodeBody } from '../src/capture/compression.ts';
import { UndiciTransport } from '../src/capture/transport.ts';
import { requestBody } from '../src/capture/wire-request.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import type { PostHogStats } from '../src/delivery/ledger.ts';
import { recordToEvent, type MappingSettings } from '../src/mapping/record-to-event.ts';
import { PostHogLogRecordProcessor } from '../src/log-record-processor.ts';
import type { PostHogEvent, PostHogLogRecordProcessorOptions } from '../src/index.ts';
import { BATCH_SIZE, BENCH_API_KEY, SCOPE_NAME, benchResource } from './workload.ts';

export type LogContender = 'ours' | 'ours-gzip' | 'ours-before-send' | 'otlp-http' | 'otlp-proto' | 'stock-noop' | 'bound' | 'noop-processor';

export interface BlrpSettings {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

export function blrpSettings(maxQueueSize: number): BlrpSettings {
  return { maxQueueSize, maxExportBatchSize: BATCH_SIZE, scheduledDelayMillis: 1_000, exportTimeoutMillis: 30_000 };
}

export interface LogPipeline {
  logger: Logger;
  provider: LoggerProvider;
  /** Our processor, when the contender is ours. */
  ours?: PostHogLogRecordProcessor;
  /** Records the no-op exporter was handed (stock-noop only). */
  noopExported?: () => number;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** An exporter that accepts everything at once and only counts. */
export class NoopLogExporter implements LogRecordExporter {
  exported = 0;
  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    this.exported += records.length;
    resultCallback({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A bound, not an alternative: the part of our exporter that no design of it can skip (our mapping,
 * the request body written into one buffer, compressed with our codec, one POST per batch,
 * acknowledged when the sink answers), and nothing else: no per-event results, retries or counters.
 * Ours divided by it is what delivery bookkeeping costs.
 */
export class MapAndPostExporter implements LogRecordExporter {
  private readonly _mapping: MappingSettings;
  private readonly _transport: UndiciTransport;
  private readonly _bodyBuffer = Buffer.allocUnsafeSlow(4 * 1024 * 1024);

  constructor(sinkUrl: string) {
    // The same settings as ours: the configuration the bench gives our processor.
    const c = resolveConfig({}, oursEnv(sinkUrl)).config;
    this._mapping = { disableGeoip: c.disableGeoip, resourceAttributes: c.resourceAttributes, logEventName: c.logEventName };
    this._transport = new UndiciTransport({ url: new URL(`${sinkUrl}/i/v1/analytics/events`), connectTimeoutMillis: 5_000, maxResponseBytes: 1024 * 1024 });
  }

  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    const now = Date.now();
    const members = records.map((record) => recordToEvent(record, this._mapping, now).json);
    const raw = requestBody({ requestId: '', createdAt: new Date(now).toISOString() }, false, members, () => this._bodyBuffer);
    const headers = { 'content-type': 'application/json', 'content-encoding': 'zstd', authorization: `Bearer ${BENCH_API_KEY}` };
    encodeBody(raw, 'zstd')
      .then(({ body }) => this._transport.post({ headers, body, timeoutMillis: 10_000 }))
      .then(
        (response) => resultCallback(response.status === 200 ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error(`HTTP ${response.status}`) }),
        (error: unknown) => resultCallback({ code: ExportResultCode.FAILED, error: error as Error }),
      );
  }

  shutdown(): Promise<void> {
    return this._transport.close();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** Keeps the SDK emitting (a provider without processors skips building the record) and does nothing. */
export class NoopLogProcessor implements LogRecordProcessor {
  onEmit(_record: ReadWriteLogRecord): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A typical redaction hook, written as the README advises: one property set to undefined, which JSON leaves out. */
function redactRequestId(event: PostHogEvent): PostHogEvent {
  event.properties['request.id'] = undefined;
  return event;
}

/** Our codecs, as POSTHOG_CAPTURE_COMPRESSION takes them. */
export type OursCompression = 'zstd' | 'gzip' | 'deflate' | 'none';

/** `compression` undefined: the processor's default. Set through the env seam, as a user would. */
export function oursProcessor(sinkUrl: string, options: Partial<BlrpSettings> & Pick<PostHogLogRecordProcessorOptions, 'beforeSend'> = {}, compression?: OursCompression): PostHogLogRecordProcessor {
  return new PostHogLogRecordProcessor(options, { env: oursEnv(sinkUrl, compression) });
}

function oursEnv(sinkUrl: string, compression?: OursCompression): Record<string, string> {
  const env: Record<string, string> = { POSTHOG_API_KEY: BENCH_API_KEY, POSTHOG_HOST: sinkUrl };
  if (compression !== undefined) env.POSTHOG_CAPTURE_COMPRESSION = compression;
  return env;
}


type OtlpConfig = NonNullable<ConstructorParameters<typeof OtlpHttpLogExporter>[0]>;

function otlpConfig(sinkUrl: string): OtlpConfig {
  // CompressionAlgorithm.GZIP is 'gzip'; the enum lives in a package we do not depend on directly.
  return { url: `${sinkUrl}/v1/logs`, compression: 'gzip' } as OtlpConfig;
}

/** `settings` undefined: each processor's own defaults. */
export function buildLogPipeline(contender: LogContender, sinkUrl: string, settings?: BlrpSettings): LogPipeline {
  let processor: LogRecordProcessor | undefined;
  let ours: PostHogLogRecordProcessor | undefined;
  let noop: NoopLogExporter | undefined;
  switch (contender) {
    case 'ours':
      ours = oursProcessor(sinkUrl, settings ?? {});
      processor = ours;
      break;
    case 'ours-gzip':
      ours = oursProcessor(sinkUrl, settings ?? {}, 'gzip');
      processor = ours;
      break;
    case 'ours-before-send':
      ours = oursProcessor(sinkUrl, { ...(settings ?? {}), beforeSend: redactRequestId });
      processor = ours;
      break;
    case 'otlp-http':
      processor = new BatchLogRecordProcessor({ exporter: new OtlpHttpLogExporter(otlpConfig(sinkUrl)), ...(settings ?? {}) });
      break;
    case 'otlp-proto':
      processor = new BatchLogRecordProcessor({ exporter: new OtlpProtoLogExporter(otlpConfig(sinkUrl)), ...(settings ?? {}) });
      break;
    case 'stock-noop':
      noop = new NoopLogExporter();
      processor = new BatchLogRecordProcessor({ exporter: noop, ...(settings ?? {}) });
      break;
    case 'bound':
      processor = new BatchLogRecordProcessor({ exporter: new MapAndPostExporter(sinkUrl), ...(settings ?? {}) });
      break;
    case 'noop-processor':
      processor = new NoopLogProcessor();
      break;
  }
  const provider = new LoggerProvider({ resource: benchResource(), processors: processor ? [processor] : [] });
  const pipeline: LogPipeline = {
    logger: provider.getLogger(SCOPE_NAME),
    provider,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  if (ours) pipeline.ours = ours;
  if (noop) {
    const n = noop;
    pipeline.noopExported = () => n.exported;
  }
  return pipeline;
}

export function plainStats(stats: PostHogStats): PostHogStats {
  return JSON.parse(JSON.stringify(stats)) as PostHogStats;
}

// The log pipelines under test, each an OpenTelemetry LoggerProvider with one processor:
//   ours        PostHogLogRecordProcessor (its own BatchLogRecordProcessor + PostHogLogRecordExporter),
//               default compression (zstd level 1)
//   ours-gzip   the same with POSTHOG_CAPTURE_COMPRESSION=gzip (level 1), to compare with the gzip contenders
//   ours-before-send  ours with a beforeSend hook that blanks one property (what a redaction costs)
//   otlp-http   BatchLogRecordProcessor + @opentelemetry/exporter-logs-otlp-http (http/json), gzip
//   otlp-proto  BatchLogRecordProcessor + @opentelemetry/exporter-logs-otlp-proto, gzip
//   stock-noop  BatchLogRecordProcessor + an exporter that does nothing (the SDK's own cost)
//   bound       BatchLogRecordProcessor + MapAndPostExporter (bound-exporter.ts)
//   noop-processor  a processor whose onEmit does nothing (the SDK's own cost of building the record)
// Every batching pipeline gets the same BLRP settings.

import type { Logger } from '@opentelemetry/api';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { PostHogStats } from '../../src/delivery/ledger.ts';
import type { PostHogLogRecordProcessor } from '../../src/log-record-processor.ts';
import { BATCH_SIZE, SCOPE_NAME } from '../workload/records.ts';
import { benchResource } from '../workload/resource.ts';
import { MapAndPostExporter } from './bound-exporter.ts';
import { NoopLogExporter, NoopLogProcessor } from './noop.ts';
import { otlpExporter } from './otlp.ts';
import { oursProcessor, redactRequestId } from './ours.ts';

export type LogContender =
  'ours' | 'ours-gzip' | 'ours-before-send' | 'otlp-http' | 'otlp-proto' | 'stock-noop' | 'bound' | 'noop-processor';

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
      processor = new BatchLogRecordProcessor({ exporter: otlpExporter('http/json', sinkUrl), ...(settings ?? {}) });
      break;
    case 'otlp-proto':
      processor = new BatchLogRecordProcessor({ exporter: otlpExporter('http/protobuf', sinkUrl), ...(settings ?? {}) });
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

/** getStats() as plain data, to send back to the parent process. */
export function plainStats(stats: PostHogStats): PostHogStats {
  return JSON.parse(JSON.stringify(stats)) as PostHogStats;
}

// An end-to-end test pipeline: a FakeCaptureServer, a PostHogLogRecordProcessor pointed at it through
// the `internals.env` seam (process.env is never read), and real OpenTelemetry Logger and Tracer
// providers feeding it. Nothing is mocked: records go through the SDK, the batch processor, the
// mapping, the capture client and HTTP.

import assert from 'node:assert/strict';
import type { Logger, Tracer } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import type { CaptureEvent } from '../../src/capture/types.ts';
import type { Environment } from '../../src/config/env.ts';
import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';
import { totalDropped, type DeliveryCounts } from '../../src/delivery/ledger.ts';
import type { ExporterInternals } from '../../src/log-record-exporter.ts';
import { PostHogLogRecordProcessor } from '../../src/log-record-processor.ts';
import { PostHogSpanEventProcessor } from '../../src/span-event-processor.ts';
import { FakeCaptureServer, type RecordedRequest } from './fake-capture-server.ts';

export interface PipelineOptions {
  /** Processor options; the API key and host come from the env seam unless set here. */
  options?: PostHogLogRecordProcessorOptions;
  /** Extra variables for the env seam, over `POSTHOG_API_KEY` / `POSTHOG_HOST`. */
  env?: Environment;
  /** Resource of both providers. Default: an empty resource, so no SDK-detected attributes show up. */
  resource?: Resource;
  /** Log processors placed before ours in the LoggerProvider (they see each record first). */
  processorsBefore?: LogRecordProcessor[];
  /** Log processors placed after ours in the LoggerProvider. */
  processorsAfter?: LogRecordProcessor[];
  /** Use this server instead of starting one; `close()` then leaves it running. */
  server?: FakeCaptureServer;
  /** Extra seams for the processor (`print`, `clock`, `random`…); the env seam is built from `env` above. */
  internals?: Omit<ExporterInternals, 'env'>;
}

export interface Pipeline {
  server: FakeCaptureServer;
  processor: PostHogLogRecordProcessor;
  spanProcessor: PostHogSpanEventProcessor;
  loggerProvider: LoggerProvider;
  tracerProvider: TracerProvider;
  /** `loggerProvider.getLogger(name)`. */
  logger(name?: string): Logger;
  /** `tracerProvider.getTracer(name)`. */
  tracer(name?: string): Tracer;
  /** Flushes both providers and returns every event the server accepted so far, in arrival order. */
  flush(): Promise<CaptureEvent[]>;
  /** Every request the server received so far. */
  requests(): RecordedRequest[];
  /** Requests that failed the server's validation (should be empty). */
  invalidRequests(): RecordedRequest[];
  /** Shuts both providers down, then closes the server (unless it was given). Safe to call twice. */
  close(): Promise<void>;
}

export async function startPipeline(settings: PipelineOptions = {}): Promise<Pipeline> {
  const server = settings.server ?? (await FakeCaptureServer.start());
  const ownsServer = settings.server === undefined;
  const processor = new PostHogLogRecordProcessor(settings.options ?? {}, {
    ...settings.internals,
    env: { POSTHOG_API_KEY: server.apiKey, POSTHOG_HOST: server.url, ...settings.env },
  });
  const spanProcessor = new PostHogSpanEventProcessor({ processor });
  const resource = settings.resource ?? resourceFromAttributes({});
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [...(settings.processorsBefore ?? []), processor, ...(settings.processorsAfter ?? [])],
  });
  const tracerProvider = new TracerProvider({ resource, spanProcessors: [spanProcessor] });
  let closed: Promise<void> | undefined;

  return {
    server,
    processor,
    spanProcessor,
    loggerProvider,
    tracerProvider,
    logger: (name = 'test') => loggerProvider.getLogger(name),
    tracer: (name = 'test') => tracerProvider.getTracer(name),
    async flush() {
      await tracerProvider.forceFlush();
      await loggerProvider.forceFlush();
      return server.acceptedEvents();
    },
    requests: () => [...server.requests],
    invalidRequests: () => server.requests.filter((request) => !request.validation.ok),
    close() {
      closed ??= (async () => {
        try {
          // The span processor shares our log processor, which the LoggerProvider shuts down.
          await tracerProvider.shutdown();
          await loggerProvider.shutdown();
        } finally {
          if (ownsServer) await server.close();
        }
      })();
      return closed;
    },
  };
}

/** Starts a pipeline, runs the body, always shuts the providers down and closes the server. */
export async function withPipeline(settings: PipelineOptions, body: (p: Pipeline) => Promise<void>): Promise<void> {
  const pipeline = await startPipeline(settings);
  try {
    await body(pipeline);
  } finally {
    await pipeline.close();
  }
}

/**
 * The accounting identity of {@link DeliveryCounts}, which holds once a flush has completed:
 * every selected record is delivered, dropped (for some reason) or still pending.
 */
export function assertIdentity(stats: DeliveryCounts, message = 'selected === delivered + sum(dropped) + pending'): void {
  assert.equal(stats.selected, stats.delivered + totalDropped(stats) + stats.pending, `${message}: ${JSON.stringify(stats)}`);
}

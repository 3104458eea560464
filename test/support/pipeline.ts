// The end-to-end test pipeline: a FakeCaptureServer, a PostHogLogRecordProcessor pointed at it through
// the `internals.env` seam (process.env is never read), and real OpenTelemetry Logger and Tracer
// providers feeding it. Nothing is mocked: records go through the SDK, the batch processor, the
// mapping, the capture client and HTTP.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Attributes, Logger, Tracer } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordLimits, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import type { CaptureEvent } from '../../src/capture/types.ts';
import type { Environment } from '../../src/config/env.ts';
import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';
import type { PostHogStats } from '../../src/delivery/ledger.ts';
import type { ExporterInternals } from '../../src/log-record-exporter.ts';
import { PostHogLogRecordProcessor } from '../../src/log-record-processor.ts';
import { PostHogSpanEventProcessor } from '../../src/span-event-processor.ts';
import { FakeCaptureServer, type RecordedRequest } from './fake-capture-server.ts';

export interface PipelineOptions {
  /** Processor options; the API key and host come from the env seam unless set here. */
  options?: PostHogLogRecordProcessorOptions;
  /** Extra variables for the env seam, over `POSTHOG_API_KEY` / `POSTHOG_HOST`. */
  env?: Environment;
  /** Send here instead of the server (a closed port, a TLS server, an unknown host). */
  host?: string;
  /** Resource of both providers. Default: an empty resource, so no SDK-detected attributes show up. */
  resource?: Resource;
  logRecordLimits?: LogRecordLimits;
  /** Log processors placed before ours in the LoggerProvider (they see, and may change, each record first). */
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
  /** Emits `count` event records named `${prefix}-${i}`, with attribute `i`. */
  emit(count: number, prefix?: string, attributes?: Attributes): void;
  stats(): PostHogStats;
  /** Flushes the pipeline and returns every event the server accepted so far, in arrival order. */
  flush(): Promise<CaptureEvent[]>;
  /** Flushes the pipeline; resolves to the wall time it took, in milliseconds. */
  timedFlush(): Promise<number>;
  /** Shuts both providers down (the server stays up); resolves to the wall time it took. Safe to call twice. */
  shutdown(): Promise<number>;
  /**
   * Lets requests the client aborted at a deadline land first: one whose body was already on the
   * wire still reaches the server, which answers it with whatever it answers at that moment. Call
   * before switching an outage off, so the late arrival does not get stored as a "duplicate".
   */
  settle(): Promise<void>;
  /** Every request the server received so far. */
  requests(): RecordedRequest[];
  /** Requests that failed the server's validation (should be empty). */
  invalidRequests(): RecordedRequest[];
  /** Shuts both providers down, then closes the server (unless it was given). Safe to call twice. */
  close(): Promise<void>;
}

/** Options that keep the batch processor quiet until a flush and every wait short. */
export const FAST_OPTIONS: PostHogLogRecordProcessorOptions = {
  scheduledDelayMillis: 60_000,
  exportTimeoutMillis: 5_000,
  timeoutMillis: 500,
  flushTimeoutMillis: 1_000,
  maxAttempts: 3,
  retryInitialDelayMillis: 10,
  retryMaxDelayMillis: 50,
};

export async function startPipeline(settings: PipelineOptions = {}): Promise<Pipeline> {
  const server = settings.server ?? (await FakeCaptureServer.start());
  const ownsServer = settings.server === undefined;
  const processor = new PostHogLogRecordProcessor(settings.options ?? {}, {
    ...settings.internals,
    env: { POSTHOG_API_KEY: server.apiKey, POSTHOG_HOST: settings.host ?? server.url, ...settings.env },
  });
  const spanProcessor = new PostHogSpanEventProcessor({ processor });
  const resource = settings.resource ?? resourceFromAttributes({});
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [...(settings.processorsBefore ?? []), processor, ...(settings.processorsAfter ?? [])],
    ...(settings.logRecordLimits ? { logRecordLimits: settings.logRecordLimits } : {}),
  });
  const tracerProvider = new TracerProvider({ resource, spanProcessors: [spanProcessor] });
  let shutdown: Promise<void> | undefined;
  let closed: Promise<void> | undefined;
  const shutdownProviders = (): Promise<void> =>
    (shutdown ??= (async () => {
      // The span processor shares our log processor, which the LoggerProvider shuts down.
      await tracerProvider.shutdown();
      await loggerProvider.shutdown();
    })());
  // Span events reach our log processor as their span ends, so flushing the LoggerProvider sends
  // them too; flushing the TracerProvider as well would be a second pass.
  const flushProviders = (): Promise<void> => loggerProvider.forceFlush();

  return {
    server,
    processor,
    spanProcessor,
    loggerProvider,
    tracerProvider,
    logger: (name = 'test') => loggerProvider.getLogger(name),
    tracer: (name = 'test') => tracerProvider.getTracer(name),
    emit(count, prefix = 'evt', attributes = {}) {
      const logger = loggerProvider.getLogger('test');
      for (let i = 0; i < count; i++) logger.emit({ eventName: `${prefix}-${i}`, attributes: { i, ...attributes } });
    },
    stats: () => processor.getStats(),
    async flush() {
      await flushProviders();
      return server.acceptedEvents();
    },
    async timedFlush() {
      const start = performance.now();
      await flushProviders();
      return performance.now() - start;
    },
    async shutdown() {
      const start = performance.now();
      await shutdownProviders();
      return performance.now() - start;
    },
    async settle() {
      const start = performance.now();
      while (server.requests.length < processor.getStats().requests && performance.now() - start < 150) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    requests: () => [...server.requests],
    invalidRequests: () => server.requests.filter((request) => !request.validation.ok),
    close() {
      closed ??= (async () => {
        try {
          await shutdownProviders();
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
 * A pipeline with {@link FAST_OPTIONS} under `settings.options`, closed in t.after: providers shut
 * down (bounded by flushTimeoutMillis), then the server closed unless it was given.
 */
export async function startFastPipeline(t: TestContext, settings: PipelineOptions = {}): Promise<Pipeline> {
  const pipeline = await startPipeline({ ...settings, options: { ...FAST_OPTIONS, ...settings.options } });
  t.after(() => pipeline.close());
  return pipeline;
}

/** Flushes, checks every request passed the server's validation and was answered 200, returns the accepted events. */
export async function flushValid(p: Pipeline): Promise<CaptureEvent[]> {
  const events = await p.flush();
  assert.deepEqual(
    p.invalidRequests().map((r) => r.validation),
    [],
    'every request passes the fake server validation',
  );
  for (const request of p.requests()) assert.equal(request.responseStatus, 200);
  return events;
}

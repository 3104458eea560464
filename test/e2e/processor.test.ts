// End-to-end tests of the PostHog log pipeline as a host application wires it: real OpenTelemetry
// LoggerProvider, TracerProvider, BatchSpanProcessor and NodeSDK, our processors and exporter, and
// a real HTTP fake capture server. Nothing of the code under test is mocked: behaviour is observed
// through the server, the export callbacks, getStats(), OpenTelemetry's diag and the print seam.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, diag, DiagLogLevel, logs, propagation, trace } from '@opentelemetry/api';
import type { DiagLogger, Logger } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, InMemorySpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { CaptureEvent, DropReason } from '../../src/capture/types.ts';
import type { Environment } from '../../src/config/env.ts';
import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';
import type { PostHogStats } from '../../src/delivery/ledger.ts';
import { PostHogExportError } from '../../src/export-error.ts';
import { PostHogLogRecordExporter } from '../../src/log-record-exporter.ts';
import type { ExporterInternals } from '../../src/log-record-exporter.ts';
import { PostHogLogRecordProcessor } from '../../src/log-record-processor.ts';
import { identityFromHeaders, withPostHogIdentity } from '../../src/request-identity.ts';
import { withFlush } from '../../src/serverless.ts';
import { PostHogSpanEventProcessor } from '../../src/span-event-processor.ts';
import type { EndedSpan } from '../../src/selection/span-event-record.ts';
import { FakeCaptureServer } from '../support/fake-capture-server.ts';
import { InstantClock } from '../support/instant-clock.ts';
import { ManualClock } from '../support/manual-clock.ts';
import type { RecordedRequest } from '../support/fake-capture-server.ts';
import { assertIdentity, withPipeline } from '../support/pipeline.ts';

const NAMESPACE = 'opentelemetry-exporter-posthog';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type DiagLevel = 'error' | 'warn' | 'info' | 'debug' | 'verbose';

interface DiagCapture {
  /** Every diag message, the component namespace (if any) first. */
  readonly entries: Array<{ level: DiagLevel; text: string }>;
  /** Messages of one level from any component. */
  all(level: DiagLevel): string[];
  /** Messages of one level from this package's component logger. */
  ours(level: DiagLevel): string[];
  stop(): void;
}

/** Installs a DiagLogger that records everything at every level; `stop()` removes it. */
function captureDiag(): DiagCapture {
  const entries: Array<{ level: DiagLevel; text: string }> = [];
  const recorder =
    (level: DiagLevel) =>
    (...args: unknown[]): void => {
      entries.push({
        level,
        text: args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' '),
      });
    };
  const logger: DiagLogger = {
    error: recorder('error'),
    warn: recorder('warn'),
    info: recorder('info'),
    debug: recorder('debug'),
    verbose: recorder('verbose'),
  };
  diag.disable();
  diag.setLogger(logger, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
  return {
    entries,
    all: (level) => entries.filter((e) => e.level === level).map((e) => e.text),
    ours: (level) => entries.filter((e) => e.level === level && e.text.startsWith(`${NAMESPACE} `)).map((e) => e.text),
    stop: () => diag.disable(),
  };
}

/** Configuration is reported on the next turn of the event loop (or at the first export). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function withDiag(body: (d: DiagCapture) => Promise<void>): Promise<void> {
  const d = captureDiag();
  try {
    await body(d);
  } finally {
    d.stop();
  }
}

async function withServer(body: (server: FakeCaptureServer) => Promise<void>): Promise<void> {
  const server = await FakeCaptureServer.start();
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

function envFor(server: FakeCaptureServer, extra: Environment = {}): Environment {
  return { POSTHOG_API_KEY: server.apiKey, POSTHOG_HOST: server.url, ...extra };
}

function newProvider(...processors: LogRecordProcessor[]): LoggerProvider {
  return new LoggerProvider({ resource: resourceFromAttributes({}), processors });
}

/** Polls until `condition` holds (checked every 5 ms), failing after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** How many times the server answered each uuid with an accepted result, over every request. */
function acceptances(requests: readonly RecordedRequest[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of requests) {
    if (!request.results) continue;
    for (const event of request.events) {
      const uuid = event.uuid.toLowerCase();
      const result = request.results[uuid]?.result;
      if (result === undefined || result === 'retry' || result === 'drop') continue;
      counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
    }
  }
  return counts;
}

/** Asserts the server accepted exactly `n` distinct events, each exactly once. */
function assertAcceptedOnce(server: FakeCaptureServer, n: number): void {
  const counts = acceptances(server.requests);
  assert.deepEqual(
    [...counts.values()],
    Array.from({ length: n }, () => 1),
    `each of ${n} events accepted exactly once`,
  );
  assert.equal(server.acceptedEvents().length, n);
}

function names(events: readonly CaptureEvent[]): string[] {
  return events.map((e) => e.event).sort();
}

function emitEvents(logger: Logger, prefix: string, count: number): void {
  for (let i = 0; i < count; i++) logger.emit({ eventName: `${prefix}_${i}` });
}

/** Records as the SDK hands them to exporters, captured with an InMemoryLogRecordExporter. */
async function sdkRecords(emit: (logger: Logger) => void): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = newProvider(new SimpleLogRecordProcessor({ exporter: memory }));
  emit(provider.getLogger('direct'));
  await provider.forceFlush();
  const records = [...memory.getFinishedLogRecords()];
  await provider.shutdown();
  return records;
}

/** Calls `exporter.export` and resolves with the first result, after checking no second call follows. */
async function exportOnce(exporter: PostHogLogRecordExporter, records: ReadableLogRecord[]): Promise<ExportResult> {
  const results: ExportResult[] = [];
  let first: (result: ExportResult) => void = () => undefined;
  const done = new Promise<ExportResult>((resolve) => (first = resolve));
  exporter.export(records, (result) => {
    results.push(result);
    first(result);
  });
  const result = await done;
  await sleep(30);
  assert.equal(results.length, 1, 'the result callback is called exactly once');
  return result;
}

function newExporter(
  server: FakeCaptureServer,
  options: PostHogLogRecordProcessorOptions = {},
  internals: Omit<ExporterInternals, 'env'> = {},
): PostHogLogRecordExporter {
  return new PostHogLogRecordExporter(options, { ...internals, env: envFor(server) });
}

/** Blocks the event loop, as an expensive synchronous hook would. */
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

/** Unregisters what NodeSDK.start() registered globally. */
function resetGlobals(): void {
  trace.disable();
  logs.disable();
  context.disable();
  propagation.disable();
}

/** A span exporter that also remembers the names it was given (InMemorySpanExporter forgets at shutdown). */
class RememberingSpanExporter extends InMemorySpanExporter {
  readonly exportedNames: string[] = [];
  override export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    for (const span of spans) this.exportedNames.push(span.name);
    super.export(spans, resultCallback);
  }
}

function zeroStats(overrides: Partial<PostHogStats>): PostHogStats {
  return {
    emitted: 0,
    selected: 0,
    delivered: 0,
    dropped: {},
    pending: 0,
    requests: 0,
    retries: 0,
    retryBuffered: 0,
    recovered: 0,
    corruptSpoolFiles: 0,
    status: 'ok',
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// 1-2. Wiring: NodeSDK, and span events sharing the log queue
// ---------------------------------------------------------------------------------------------

describe('wiring', () => {
  test("a span event processor built from options owns its pipeline: the tracer provider's shutdown delivers its events", async () => {
    await withServer(async (server) => {
      const spanProcessor = new PostHogSpanEventProcessor({ apiKey: server.apiKey, host: server.url, scheduledDelayMillis: 60_000 });
      const tracerProvider = new TracerProvider({ spanProcessors: [spanProcessor] });
      const span = tracerProvider.getTracer('app').startSpan('checkout');
      span.addEvent('cart_viewed');
      span.addEvent('payment_started');
      span.end();
      await tracerProvider.shutdown();
      assert.deepEqual(names(server.acceptedEvents()), ['cart_viewed', 'payment_started']);
      const stats = spanProcessor.processor.getStats();
      assert.deepEqual(stats, zeroStats({ emitted: 2, selected: 2, delivered: 2, requests: 1 }));
    });
  });

  test('a span event processor given a shared pipeline leaves it running at its own shutdown', async () => {
    await withServer(async (server) => {
      const processor = new PostHogLogRecordProcessor({ scheduledDelayMillis: 60_000 }, { env: envFor(server) });
      const provider = newProvider(processor);
      const tracerProvider = new TracerProvider({ spanProcessors: [new PostHogSpanEventProcessor({ processor })] });
      try {
        await tracerProvider.shutdown();
        emitEvents(provider.getLogger('app'), 'still_open', 1);
        await processor.forceFlush();
        assert.deepEqual(names(server.acceptedEvents()), ['still_open_0']);
      } finally {
        await provider.shutdown();
      }
    });
  });

  test('NodeSDK: a log event, a span event and a recorded exception reach PostHog; the trace exporter still gets the span', async () => {
    await withServer(async (server) => {
      const spanExporter = new RememberingSpanExporter();
      const processor = new PostHogLogRecordProcessor({}, { env: envFor(server) });
      const sdk = new NodeSDK({
        autoDetectResources: false,
        resource: resourceFromAttributes({ 'service.name': 'checkout' }),
        metricReaders: [],
        spanProcessors: [new BatchSpanProcessor({ exporter: spanExporter }), new PostHogSpanEventProcessor({ processor })],
        logRecordProcessors: [processor],
      });
      let shutDown = false;
      try {
        sdk.start();
        logs.getLogger('shop').emit({ eventName: 'order_placed', attributes: { 'posthog.distinct_id': 'user-1', amount: 42 } });
        const span = trace.getTracer('shop').startSpan('pay');
        span.addEvent('card_checked', { 'posthog.distinct_id': 'user-1', brand: 'visa' });
        span.recordException(new TypeError('card declined'));
        span.end();
        await sdk.shutdown();
        shutDown = true;

        assert.deepEqual(
          server.requests.filter((r) => !r.validation.ok),
          [],
          'every request passes validation',
        );
        const accepted = server.acceptedEvents();
        assert.deepEqual(names(accepted), ['$exception', 'card_checked', 'order_placed']);
        const order = accepted.find((e) => e.event === 'order_placed')!;
        assert.equal(order.distinct_id, 'user-1');
        assert.equal(order.properties.amount, 42);
        assert.equal(order.properties.service_name, 'checkout');
        const checked = accepted.find((e) => e.event === 'card_checked')!;
        assert.equal(checked.properties.otel_span_name, 'pay');
        assert.equal(checked.properties.brand, 'visa');
        const exception = accepted.find((e) => e.event === '$exception')!;
        assert.equal((exception.properties.$exception_list as Array<{ type: string; value: string }>)[0]!.type, 'TypeError');
        assert.equal((exception.properties.$exception_list as Array<{ type: string; value: string }>)[0]!.value, 'card declined');
        assert.equal(checked.properties.$trace_id, exception.properties.$trace_id, 'both span events carry the span trace id');

        assert.deepEqual(spanExporter.exportedNames, ['pay'], 'the trace exporter next to ours still got the span');
        const stats = processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 3, selected: 3, delivered: 3, requests: 1 }));
        assertIdentity(stats);
      } finally {
        if (!shutDown) await sdk.shutdown();
        resetGlobals();
      }
    });
  });

  test('span events and log events share one queue: they go out in ONE request', async () => {
    await withPipeline({ options: { scheduledDelayMillis: 60_000, maxExportBatchSize: 100 } }, async (p) => {
      p.logger().emit({ eventName: 'signup' });
      const span = p.tracer().startSpan('register');
      span.addEvent('form_viewed');
      span.addEvent('form_submitted');
      span.end();
      p.logger().emit({ eventName: 'welcome_sent' });
      assert.equal(p.requests().length, 0, 'nothing is sent before the flush');

      await p.processor.forceFlush();
      assert.equal(p.requests().length, 1);
      assert.deepEqual(names(p.requests()[0]!.events), ['form_submitted', 'form_viewed', 'signup', 'welcome_sent']);
      const stats = p.processor.getStats();
      assert.deepEqual(stats, zeroStats({ emitted: 4, selected: 4, delivered: 4, requests: 1 }));
      assertIdentity(stats);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// 3-6. Configuration from the environment
// ---------------------------------------------------------------------------------------------

describe('configuration', () => {
  test('no API key: one warning naming POSTHOG_API_KEY; records are accepted and discarded, nothing is sent', async () => {
    await withServer(async (server) => {
      for (const env of [{}, { POSTHOG_HOST: server.url }] as Environment[]) {
        await withDiag(async (d) => {
          const processor = new PostHogLogRecordProcessor({}, { env });
          const provider = newProvider(processor);
          const logger = provider.getLogger('app');
          emitEvents(logger, 'ignored', 3);
          logger.emit({ body: 'a plain log line' });
          await provider.forceFlush();
          await processor.forceFlush();
          await provider.shutdown();
          await nextTurn();

          const warnings = d.all('warn');
          assert.equal(warnings.length, 1, `exactly one warning, got ${JSON.stringify(warnings)}`);
          assert.match(warnings[0]!, /POSTHOG_API_KEY/);
          assert.match(warnings[0]!, /^opentelemetry-exporter-posthog disabled: no PostHog API key/);
          assert.deepEqual(d.all('error'), []);
          assert.equal(server.requests.length, 0);
          const stats = processor.getStats();
          assert.deepEqual(
            stats,
            zeroStats({
              emitted: 4,
              status: 'disabled',
              disabledReason: 'no PostHog API key: set POSTHOG_API_KEY (or the apiKey option) to send events',
            }),
          );
          assertIdentity(stats);
        });
      }
    });
  });

  test('a personal (phx_) key: a diag error saying so, nothing sent, and the key never appears in diag output', async () => {
    const personalKey = 'phx_Zr8sQq3SuperSecretPersonalKey';
    await withServer(async (server) => {
      await withDiag(async (d) => {
        const processor = new PostHogLogRecordProcessor({}, { env: { POSTHOG_API_KEY: personalKey, POSTHOG_HOST: server.url } });
        const provider = newProvider(processor);
        emitEvents(provider.getLogger('app'), 'secret', 2);
        await provider.forceFlush();
        await provider.shutdown();
        await nextTurn();

        const errors = d.ours('error');
        assert.equal(errors.length, 1, JSON.stringify(d.entries));
        assert.match(errors[0]!, /personal API key/);
        assert.deepEqual(d.all('warn'), []);
        assert.equal(server.requests.length, 0);
        for (const entry of d.entries) assert.ok(!entry.text.includes(personalKey), `diag output leaks the key: ${entry.text}`);
        for (const entry of d.entries) assert.ok(!entry.text.includes('Zr8sQq3'), `diag output leaks part of the key: ${entry.text}`);
        const { disabledReason, ...stats } = processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 2, status: 'disabled' }));
        assert.match(disabledReason ?? '', /personal API key/);
      });
    });
  });

  test('bad environment values: one warning per variable, the pipeline still delivers with defaults', async () => {
    const bad: Environment = {
      OTEL_BLRP_SCHEDULE_DELAY: 'soon',
      OTEL_BLRP_MAX_QUEUE_SIZE: '-1',
      OTEL_BLRP_EXPORT_TIMEOUT: '0',
      POSTHOG_OTEL_TIMEOUT: '1.5',
      POSTHOG_CAPTURE_COMPRESSION: 'brotli',
      POSTHOG_OTEL_DEBUG: 'loud',
      POSTHOG_OTEL_MIN_SEVERITY: 'LOUD',
      POSTHOG_OTEL_HEADERS: 'no pairs here',
    };
    await withDiag(async (d) => {
      await withPipeline({ env: bad, options: { scheduledDelayMillis: 60_000 } }, async (p) => {
        await nextTurn();
        const warnings = d.all('warn');
        assert.equal(warnings.length, Object.keys(bad).length, JSON.stringify(warnings));
        for (const name of Object.keys(bad)) {
          assert.equal(warnings.filter((w) => w.includes(name)).length, 1, `one warning names ${name}`);
        }
        assert.deepEqual(d.all('error'), []);

        emitEvents(p.logger(), 'still_works', 3);
        const accepted = await p.flush();
        assert.equal(accepted.length, 3);
        assert.equal(p.requests()[0]!.headers['content-encoding'], 'zstd', 'the bad compression fell back to the default');
        assert.equal(p.processor.exporter.exportDeadlineMillis, 10_000, 'bad timeouts fell back to the defaults');
        assertIdentity(p.processor.getStats());
      });
    });
  });

  test('an extra header the HTTP client refuses (Expect) is left out with one warning; events are still delivered, the other headers sent', async () => {
    await withDiag(async (d) => {
      await withPipeline(
        {
          env: { POSTHOG_OTEL_HEADERS: 'Expect=100-continue' },
          options: { scheduledDelayMillis: 60_000, headers: { 'Keep-Alive': 'timeout=5', 'x-proxy-auth': 'token-s3cr3t' } },
        },
        async (p) => {
          await nextTurn();
          const warnings = d.all('warn');
          assert.equal(warnings.length, 1, JSON.stringify(warnings));
          assert.match(warnings[0]!, /"Expect", "Keep-Alive" are ignored/);
          assert.ok(!warnings[0]!.includes('s3cr3t'));
          emitEvents(p.logger(), 'through_a_proxy', 2);
          await p.flush();
          assertAcceptedOnce(p.server, 2);
          const request = p.requests()[0]!;
          assert.equal(request.headers['x-proxy-auth'], 'token-s3cr3t');
          assert.equal(request.headers['expect'], undefined);
          assertIdentity(p.processor.getStats());
        },
      );
    });
  });

  test('OTEL_BLRP_MAX_EXPORT_BATCH_SIZE (through the env seam) sizes the batches', async () => {
    await withPipeline({ env: { OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '2', OTEL_BLRP_SCHEDULE_DELAY: '60000' } }, async (p) => {
      emitEvents(p.logger(), 'batched', 5);
      await p.flush();
      assert.deepEqual(
        p.requests().map((r) => r.events.length),
        [2, 2, 1],
      );
      assert.deepEqual(names(p.server.acceptedEvents()), ['batched_0', 'batched_1', 'batched_2', 'batched_3', 'batched_4']);
      assertIdentity(p.processor.getStats());
    });
  });

  test('OTEL_BLRP_SCHEDULE_DELAY (through the env seam): a small delay exports without any flush', async () => {
    await withPipeline({ env: { OTEL_BLRP_SCHEDULE_DELAY: '20' } }, async (p) => {
      p.logger().emit({ eventName: 'on_schedule' });
      const requests = await p.server.waitForRequests(1, 1000);
      assert.deepEqual(names(requests[0]!.events), ['on_schedule']);
    });
  });

  test('options from code override the OTEL_BLRP_* environment', async () => {
    await withPipeline(
      {
        env: { OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '2', OTEL_BLRP_SCHEDULE_DELAY: '20', OTEL_BLRP_EXPORT_TIMEOUT: '100' },
        options: { maxExportBatchSize: 3, scheduledDelayMillis: 60_000, exportTimeoutMillis: 20_000 },
      },
      async (p) => {
        assert.equal(p.processor.exporter.exportDeadlineMillis, 10_000, 'min(timeoutMillis, 0.9 × the code exportTimeoutMillis)');
        emitEvents(p.logger(), 'code', 4);
        await sleep(150);
        assert.equal(p.requests().length, 1, 'one full batch of 3 went at once; the code schedule delay holds the last one');
        await p.flush();
        assert.deepEqual(
          p.requests().map((r) => r.events.length),
          [3, 1],
        );
        assertIdentity(p.processor.getStats());
      },
    );
  });

  const compressionCases: {
    name: string;
    settings: { env?: Environment; options?: PostHogLogRecordProcessorOptions };
    encoding: string;
    magic: number[];
  }[] = [
    { name: 'the default', settings: {}, encoding: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd] },
    {
      name: 'POSTHOG_CAPTURE_COMPRESSION=ZSTD',
      settings: { env: { POSTHOG_CAPTURE_COMPRESSION: 'ZSTD' } },
      encoding: 'zstd',
      magic: [0x28, 0xb5, 0x2f, 0xfd],
    },
    {
      name: 'POSTHOG_CAPTURE_COMPRESSION=gzip',
      settings: { env: { POSTHOG_CAPTURE_COMPRESSION: 'gzip' } },
      encoding: 'gzip',
      magic: [0x1f, 0x8b],
    },
    {
      name: 'compression: gzip in code over POSTHOG_CAPTURE_COMPRESSION=zstd',
      settings: { env: { POSTHOG_CAPTURE_COMPRESSION: 'zstd' }, options: { compression: 'gzip' } },
      encoding: 'gzip',
      magic: [0x1f, 0x8b],
    },
  ];
  for (const c of compressionCases) {
    test(`compression, ${c.name}: Content-Encoding ${c.encoding}, and the server decodes the exact events`, async () => {
      await withPipeline({ env: c.settings.env, options: { scheduledDelayMillis: 60_000, ...c.settings.options } }, async (p) => {
        emitEvents(p.logger(), 'compressed', 4);
        const accepted = await p.flush();
        assert.deepEqual(names(accepted), ['compressed_0', 'compressed_1', 'compressed_2', 'compressed_3']);
        assert.equal(p.requests().length, 1);
        const req = p.requests()[0]!;
        assert.deepEqual(req.validation, { ok: true });
        assert.equal(req.headers['content-encoding'], c.encoding);
        assert.deepEqual([...req.rawBody.subarray(0, c.magic.length)], c.magic);
        assert.deepEqual(req.events, accepted);
        assertIdentity(p.processor.getStats());
      });
    });
  }
});

describe('compression refused', () => {
  test('a proxy refusing zstd (415): one warning, the events go as gzip, and so do later requests', async () => {
    await withDiag(async (d) => {
      await withPipeline({ options: { scheduledDelayMillis: 60_000 } }, async (p) => {
        p.server.script({ status: 415 });
        emitEvents(p.logger(), 'refused', 2);
        await p.flush();
        emitEvents(p.logger(), 'later', 1);
        await p.flush();
        assert.deepEqual(
          p.requests().map((r) => r.headers['content-encoding']),
          ['zstd', 'gzip', 'gzip'],
        );
        assert.deepEqual(names(p.server.acceptedEvents()).sort(), ['later_0', 'refused_0', 'refused_1']);
        const stats = p.processor.getStats();
        assert.deepEqual(stats.dropped, {});
        assertIdentity(stats);
        const warnings = d.ours('warn').filter((w) => w.includes('415'));
        assert.equal(warnings.length, 1, warnings.join('\n'));
        assert.match(warnings[0]!, /gzip/);
      });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// 7. The exporter on its own: the export callback contract
// ---------------------------------------------------------------------------------------------

describe('exporter result callback', () => {
  test('SUCCESS, exactly once, when every event is accepted', async () => {
    await withServer(async (server) => {
      const exporter = newExporter(server);
      try {
        const records = await sdkRecords((logger) => emitEvents(logger, 'ok', 3));
        const result = await exportOnce(exporter, records);
        assert.deepEqual(result, { code: ExportResultCode.SUCCESS });
        assert.equal(server.acceptedEvents().length, 3);
        const stats = exporter.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 3, selected: 3, delivered: 3, requests: 1 }));
        assertIdentity(stats);
      } finally {
        await exporter.shutdown();
      }
    });
  });

  test('behind a SimpleLogRecordProcessor (one export per record, overlapping) every record is delivered', async () => {
    await withServer(async (server) => {
      const exporter = newExporter(server);
      const provider = newProvider(new SimpleLogRecordProcessor({ exporter }));
      server.setDefault({ delayMs: 20 });
      emitEvents(provider.getLogger('simple'), 'simple', 4);
      await provider.forceFlush();
      await exporter.forceFlush();
      assertAcceptedOnce(server, 4);
      assert.deepEqual(exporter.getStats(), zeroStats({ emitted: 4, selected: 4, delivered: 4, requests: 4 }));
      await provider.shutdown();
    });
  });

  test('FAILED with a PostHogExportError counting the drops by reason', async () => {
    await withServer(async (server) => {
      const exporter = newExporter(server, { beforeSend: (e) => (e.event === 'blocked' ? null : e) });
      try {
        const records = await sdkRecords((logger) => {
          for (const name of ['kept', 'refused', 'blocked', 'kept_too']) logger.emit({ eventName: name });
        });
        server.script({
          results: (events) =>
            Object.fromEntries(
              events.filter((e) => e.event === 'refused').map((e) => [e.uuid, { result: 'drop', details: 'event_too_big' }]),
            ),
        });
        const result = await exportOnce(exporter, records);
        assert.equal(result.code, ExportResultCode.FAILED);
        assert.ok(result.error instanceof PostHogExportError, `a PostHogExportError, got ${String(result.error)}`);
        assert.deepEqual(result.error.dropped, { before_send: 1, server_drop: 1 });
        assert.match(result.error.message, /^2 of 4 PostHog event\(s\) not delivered/);
        assert.deepEqual(names(server.acceptedEvents()), ['kept', 'kept_too']);
        const stats = exporter.getStats();
        assert.deepEqual(
          stats,
          zeroStats({ emitted: 4, selected: 4, delivered: 2, dropped: { before_send: 1, server_drop: 1 }, requests: 1 }),
        );
        assertIdentity(stats);
      } finally {
        await exporter.shutdown();
      }
    });
  });

  test('export after shutdown: FAILED, counted as shutdown, no request', async () => {
    await withServer(async (server) => {
      const exporter = newExporter(server);
      const records = await sdkRecords((logger) => emitEvents(logger, 'late', 2));
      await exporter.shutdown();
      await withDiag(async (d) => {
        const result = await exportOnce(exporter, records);
        assert.equal(result.code, ExportResultCode.FAILED);
        assert.ok(result.error instanceof Error);
        assert.equal(server.requests.length, 0);
        assert.equal(d.ours('warn').filter((w) => /shut down/.test(w)).length, 1);
      });
      const stats = exporter.getStats();
      assert.deepEqual(stats, zeroStats({ emitted: 2, selected: 2, dropped: { shutdown: 2 } }));
      assertIdentity(stats);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// 8-12. Delivery under pressure: overlap, queue bound, bounded flush and shutdown, retries
// ---------------------------------------------------------------------------------------------

describe('delivery', () => {
  test('exports overlapping after the batch export timeout deliver every event exactly once', async () => {
    // A slow synchronous beforeSend on the first batch makes its export outlive the batch
    // processor's 300 ms export timeout, so the batch processor starts the next export while the
    // first one's request is still in flight.
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      if (event.event === 'slow') busyWait(150);
      return event;
    };
    await withPipeline(
      { options: { exportTimeoutMillis: 300, timeoutMillis: 5000, maxExportBatchSize: 2, scheduledDelayMillis: 5, beforeSend } },
      async (p) => {
        assert.equal(p.processor.exporter.exportDeadlineMillis, 270, 'the exporter deadline stays below the batch export timeout');
        p.server.setDefault({ delayMs: 200 });
        p.logger().emit({ eventName: 'slow' });
        for (const name of ['first', 'a', 'b', 'c', 'd']) p.logger().emit({ eventName: name });
        await p.server.waitForRequests(3, 3000);
        await p.processor.forceFlush();

        // Request i is in flight from receivedAt to receivedAt + 200 ms: count the overlap.
        const times = p.requests().map((r) => r.receivedAt);
        const overlapping = times.some((t, i) => times.some((u, j) => j !== i && u >= t && u < t + 200));
        assert.ok(
          overlapping,
          `two exports were in flight at once (requests received at ${times.map((t) => t - times[0]!).join(', ')} ms)`,
        );
        // A request cut off by the export deadline may have reached the server before its answer
        // did; the resend carries the same uuids, which PostHog dedupes. Stored: each event once.
        assert.deepEqual(names(p.server.acceptedEvents()), ['a', 'b', 'c', 'd', 'first', 'slow']);
        const stats = p.processor.getStats();
        assert.equal(stats.delivered, 6);
        assert.equal(stats.pending, 0);
        assertIdentity(stats);
      },
    );
  });

  test('queue_full: records over maxQueueSize are counted, warned about, and the rest delivered', async () => {
    await withDiag(async (d) => {
      await withPipeline({ options: { maxQueueSize: 5, scheduledDelayMillis: 60_000 } }, async (p) => {
        emitEvents(p.logger(), 'burst', 12);
        const during = p.processor.getStats();
        assert.equal(during.dropped.queue_full, 7);
        assertIdentity(during, 'identity holds even before the flush');

        await p.flush();
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 12, selected: 12, delivered: 5, dropped: { queue_full: 7 }, requests: 1 }));
        assertIdentity(stats);
        assert.deepEqual(names(p.server.acceptedEvents()), ['burst_0', 'burst_1', 'burst_2', 'burst_3', 'burst_4']);
        const warnings = d.ours('warn');
        assert.equal(warnings.length, 1, JSON.stringify(warnings));
        assert.match(warnings[0]!, /queue was full/);
        assert.match(warnings[0]!, /maxQueueSize/);
      });
    });
  });

  test('forceFlush is bounded by flushTimeoutMillis when the server hangs; the events stay pending and go out later', async () => {
    await withPipeline(
      { options: { flushTimeoutMillis: 300, scheduledDelayMillis: 60_000, retryInitialDelayMillis: 5_000 } },
      async (p) => {
        p.server.setDefault({ hang: true });
        emitEvents(p.logger(), 'stuck', 4);
        const start = performance.now();
        await p.processor.forceFlush();
        const elapsed = performance.now() - start;
        assert.ok(elapsed < 2000, `forceFlush took ${elapsed.toFixed(0)} ms`);
        assert.ok(elapsed >= 250, `forceFlush gave the request its budget (${elapsed.toFixed(0)} ms)`);

        const stuck = p.processor.getStats();
        assert.deepEqual(stuck.dropped, {}, 'nothing is dropped by a forceFlush deadline');
        assert.equal(stuck.pending, 4);
        assert.equal(stuck.retryBuffered, 4);
        assertIdentity(stuck);
        assert.equal(p.server.acceptedEvents().length, 0);

        p.server.setDefault({});
        await p.processor.forceFlush();
        assertAcceptedOnce(p.server, 4);
        const stats = p.processor.getStats();
        assert.equal(stats.delivered, 4);
        assert.equal(stats.pending, 0);
        assert.equal(stats.retryBuffered, 0);
        assert.deepEqual(stats.dropped, {});
        assertIdentity(stats);
      },
    );
  });

  test('shutdown is bounded when the server hangs: leftovers count as deadline; later records as shutdown, with no request', async () => {
    await withServer(async (server) => {
      server.setDefault({ hang: true });
      const processor = new PostHogLogRecordProcessor({ flushTimeoutMillis: 300, scheduledDelayMillis: 60_000 }, { env: envFor(server) });
      const provider = newProvider(processor);
      const logger = provider.getLogger('app');
      try {
        emitEvents(logger, 'doomed', 3);
        const start = performance.now();
        await processor.shutdown();
        const elapsed = performance.now() - start;
        assert.ok(elapsed < 2000, `shutdown took ${elapsed.toFixed(0)} ms`);
        assert.equal(server.requests.length, 1);
        const afterShutdown = processor.getStats();
        assert.deepEqual(afterShutdown, zeroStats({ emitted: 3, selected: 3, dropped: { deadline: 3 }, requests: 1 }));
        assertIdentity(afterShutdown);

        emitEvents(logger, 'too_late', 2);
        await processor.forceFlush();
        await sleep(20);
        assert.equal(server.requests.length, 1, 'records after shutdown cause no request');
        const stats = processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 5, selected: 5, dropped: { deadline: 3, shutdown: 2 }, requests: 1 }));
        assertIdentity(stats);
      } finally {
        await provider.shutdown();
      }
    });
  });

  test(
    'a resource whose async attributes never settle: forceFlush and shutdown end at flushTimeoutMillis, and the held records stay counted',
    { timeout: 10_000 },
    async () => {
      await withServer(async (server) => {
        await withDiag(async (d) => {
          const clock = new ManualClock();
          const processor = new PostHogLogRecordProcessor(
            { scheduledDelayMillis: 60_000, flushTimeoutMillis: 3_000 },
            { env: envFor(server), clock },
          );
          // A stuck cloud-metadata detector: the batch processor awaits it before every export.
          const provider = new LoggerProvider({
            resource: resourceFromAttributes({ 'cloud.region': new Promise<string>(() => undefined) }),
            processors: [processor],
          });
          emitEvents(provider.getLogger('app'), 'held', 2);

          const flushStart = clock.now();
          await clock.run(processor.forceFlush());
          assert.equal(clock.now() - flushStart, 3_000, 'forceFlush ended at its deadline');
          let stats = processor.getStats();
          assert.deepEqual(
            { pending: stats.pending, delivered: stats.delivered, dropped: stats.dropped },
            { pending: 2, delivered: 0, dropped: {} },
          );
          assertIdentity(stats);

          const shutdownStart = clock.now();
          await clock.run(processor.shutdown());
          assert.ok(clock.now() - shutdownStart <= 3_000, 'shutdown ended by its deadline');
          assert.equal(server.requests.length, 0);
          stats = processor.getStats();
          assert.equal(stats.pending, 2, 'still held by the batch processor, and said so');
          assertIdentity(stats);
          assert.equal(
            d.all('warn').filter((w) => /shutdown: 2 record\(s\) never reached the exporter/.test(w)).length,
            1,
            JSON.stringify(d.all('warn')),
          );
        });
      });
    },
  );

  test(
    'a resource whose async attributes never settle: shutdown on its own ends at flushTimeoutMillis and shuts the exporter down',
    { timeout: 10_000 },
    async () => {
      await withServer(async (server) => {
        const clock = new ManualClock();
        const processor = new PostHogLogRecordProcessor(
          { scheduledDelayMillis: 60_000, flushTimeoutMillis: 3_000 },
          { env: envFor(server), clock },
        );
        const provider = new LoggerProvider({
          resource: resourceFromAttributes({ 'cloud.region': new Promise<string>(() => undefined) }),
          processors: [processor],
        });
        emitEvents(provider.getLogger('app'), 'held', 2);
        const start = clock.now();
        await clock.run(processor.shutdown());
        assert.equal(clock.now() - start, 3_000, 'shutdown ended at its deadline');
        // The exporter is shut down: an export the batch processor makes later counts its records as shutdown.
        const late = await exportOnce(processor.exporter, await sdkRecords((logger) => logger.emit({ eventName: 'late' })));
        assert.equal(late.code, ExportResultCode.FAILED);
        assert.equal(server.requests.length, 0);
      });
    },
  );

  test('a forceFlush asked for during shutdown waits for it, and every queued batch is delivered', async () => {
    await withServer(async (server) => {
      server.setDefault({ delayMs: 30 });
      const processor = new PostHogLogRecordProcessor({ maxExportBatchSize: 10, scheduledDelayMillis: 60_000 }, { env: envFor(server) });
      const provider = newProvider(processor);
      try {
        emitEvents(provider.getLogger('app'), 'queued', 25);
        const shutdown = processor.shutdown();
        await processor.forceFlush();
        await shutdown;
        assert.equal(server.acceptedEvents().length, 25);
        const stats = processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 25, selected: 25, delivered: 25, requests: 3 }));
        assertIdentity(stats);
      } finally {
        await provider.shutdown();
      }
    });
  });

  test('shutdown keeps resending within its window: Retry-After is honoured, and the events are delivered', async () => {
    await withPipeline(
      { options: { flushTimeoutMillis: 10_000, retryInitialDelayMillis: 300, scheduledDelayMillis: 60_000 } },
      async (p) => {
        // Two failures put the next attempt past the short wait an export takes in place.
        p.server.script({ status: 503 }, { status: 503, headers: { 'retry-after': '1' } });
        emitEvents(p.logger(), 'last_words', 2);
        const start = performance.now();
        await p.processor.shutdown();
        const elapsed = performance.now() - start;
        assert.deepEqual(
          p.server.requests.map((r) => r.responseStatus),
          [503, 503, 200],
        );
        assert.ok(elapsed >= 1000, `the third attempt waited for Retry-After (${elapsed.toFixed(0)} ms)`);
        assertAcceptedOnce(p.server, 2);
        // The third attempt is a resend from the retry buffer: the same request, its third attempt.
        assert.deepEqual(
          p.server.requests.map((r) => r.headers['posthog-attempt']),
          ['1', '2', '3'],
        );
        assert.equal(new Set(p.server.requests.map((r) => r.headers['posthog-request-id'])).size, 1);
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 2, selected: 2, delivered: 2, requests: 3, retries: 2 }));
        assertIdentity(stats);
      },
    );
  });

  test('shutdown while a forceFlush runs still exports what arrived during that flush', async () => {
    await withServer(async (server) => {
      server.setDefault({ delayMs: 200 });
      const processor = new PostHogLogRecordProcessor({ scheduledDelayMillis: 60_000 }, { env: envFor(server) });
      const provider = newProvider(processor);
      const logger = provider.getLogger('app');
      try {
        emitEvents(logger, 'before_flush', 1);
        // A flush at the end of an invocation, racing the process's shutdown.
        const flush = processor.forceFlush();
        await sleep(50);
        emitEvents(logger, 'during_flush', 1);
        await processor.shutdown();
        await flush;
        assert.deepEqual(
          server.acceptedEvents().map((e) => e.event),
          ['before_flush_0', 'during_flush_0'],
        );
        const stats = processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 2, selected: 2, delivered: 2, requests: 2 }));
        assertIdentity(stats);
        const start = performance.now();
        await processor.forceFlush();
        assert.ok(performance.now() - start < 1000, 'a flush after shutdown returns at once');
      } finally {
        await provider.shutdown();
      }
    });
  });

  test('a 503 is retried within the export and the events are delivered exactly once', async () => {
    await withPipeline({ options: { maxAttempts: 2, retryInitialDelayMillis: 0, scheduledDelayMillis: 60_000 } }, async (p) => {
      p.server.script({ status: 503 });
      emitEvents(p.logger(), 'retried', 3);
      await p.flush();
      const requests = p.requests();
      assert.deepEqual(
        requests.map((r) => [r.responseStatus, r.headers['posthog-attempt']]),
        [
          [503, '1'],
          [200, '2'],
        ],
      );
      assert.equal(requests[0]!.headers['posthog-request-id'], requests[1]!.headers['posthog-request-id']);
      assertAcceptedOnce(p.server, 3);
      const stats = p.processor.getStats();
      assert.deepEqual(stats, zeroStats({ emitted: 3, selected: 3, delivered: 3, requests: 2, retries: 1 }));
      assertIdentity(stats);
    });
  });

  test('events the deadline cuts short wait in the retry buffer and go out again on a timer, as the same request, exactly once', async () => {
    // 503, then 503 with a Retry-After longer than the export deadline: the second wait cannot fit, so
    // the events are kept (2 of 3 attempts spent) and a timer resends them after the Retry-After.
    await withPipeline(
      { options: { maxAttempts: 3, retryInitialDelayMillis: 0, timeoutMillis: 150, scheduledDelayMillis: 5 } },
      async (p) => {
        p.server.script({ status: 503 }, { status: 503, headers: { 'retry-after': '0.25' } });
        emitEvents(p.logger(), 'buffered', 2);
        await p.server.waitForRequests(2, 1000);
        await until(() => p.processor.getStats().retryBuffered === 2, 'the events to wait in the retry buffer');
        const waiting = p.processor.getStats();
        assert.deepEqual(
          waiting,
          zeroStats({
            emitted: 2,
            selected: 2,
            pending: 2,
            retryBuffered: 2,
            requests: 2,
            retries: 1,
            status: 'outage',
            outage: waiting.outage,
          }),
        );
        assertIdentity(waiting);

        const [, second, third] = await p.server.waitForRequests(3, 2000);
        assert.ok(
          third!.receivedAt - second!.receivedAt >= 240,
          `the resend respected Retry-After (${third!.receivedAt - second!.receivedAt} ms)`,
        );
        await p.processor.forceFlush();
        assert.equal(p.requests().length, 3);
        assert.deepEqual(
          p.requests().map((r) => r.headers['posthog-attempt']),
          ['1', '2', '3'],
        );
        assert.equal(new Set(p.requests().map((r) => r.headers['posthog-request-id'])).size, 1);
        assertAcceptedOnce(p.server, 2);
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 2, selected: 2, delivered: 2, requests: 3, retries: 2 }));
        assertIdentity(stats);
      },
    );
  });

  test('retries exhausted with the retry buffer off: the events are dropped as retry_exhausted at once and the identity still holds', async () => {
    await withPipeline(
      { options: { maxAttempts: 2, retryInitialDelayMillis: 0, scheduledDelayMillis: 60_000, retryBufferMaxEvents: 0 } },
      async (p) => {
        p.server.script({ status: 503 }, { status: 503 });
        emitEvents(p.logger(), 'lost', 2);
        await p.flush();
        const stats = p.processor.getStats();
        assert.deepEqual(
          stats,
          zeroStats({
            emitted: 2,
            selected: 2,
            dropped: { retry_exhausted: 2 },
            requests: 2,
            retries: 1,
            status: 'outage',
            outage: stats.outage,
          }),
        );
        assertIdentity(stats);
        assert.equal(p.requests().length, 2);
      },
    );
  });

  test('retries exhausted with the retry buffer on: maxAttempts counts every request, so the flush does not resend them', async () => {
    await withPipeline({ options: { maxAttempts: 2, retryInitialDelayMillis: 0, scheduledDelayMillis: 60_000 } }, async (p) => {
      p.server.script({ status: 503 }, { status: 503 });
      emitEvents(p.logger(), 'spent', 2);
      await p.flush();
      const requests = p.requests();
      assert.deepEqual(
        requests.map((r) => [r.responseStatus, r.headers['posthog-attempt']]),
        [
          [503, '1'],
          [503, '2'],
        ],
      );
      assert.equal(requests[0]!.headers['posthog-request-id'], requests[1]!.headers['posthog-request-id']);
      const stats = p.processor.getStats();
      assert.deepEqual(
        stats,
        zeroStats({
          emitted: 2,
          selected: 2,
          dropped: { retry_exhausted: 2 },
          requests: 2,
          retries: 1,
          status: 'outage',
          outage: stats.outage,
        }),
      );
      assertIdentity(stats);
    });
  });

  test('waiting past retryBufferMaxAgeMillis: retry_exhausted at the next delivery, the details naming the age, no further request', async () => {
    const drops: Array<[string, number, string | undefined]> = [];
    const onDrop = (events: readonly unknown[], reason: string, details: string | undefined): void => {
      drops.push([reason, events.length, details]);
    };
    // An age bound of 0: whatever waits is too old by the next delivery. A 2 s Retry-After puts the
    // request in the buffer, past the 1 s flush window.
    await withPipeline(
      { options: { maxAttempts: 10, scheduledDelayMillis: 60_000, flushTimeoutMillis: 1_000, retryBufferMaxAgeMillis: 0, onDrop } },
      async (p) => {
        p.server.script({ status: 503, headers: { 'retry-after': '2' } });
        emitEvents(p.logger(), 'aged', 2);
        await p.flush();
        assert.equal(p.processor.getStats().retryBuffered, 2);
        emitEvents(p.logger(), 'fresh', 1);
        await p.flush();
        // The fresh event waits, unsent, for the outage's next probe (after the Retry-After).
        assert.equal(p.requests().length, 1);
        const stats = p.processor.getStats();
        assert.deepEqual(
          stats,
          zeroStats({
            emitted: 3,
            selected: 3,
            pending: 1,
            retryBuffered: 1,
            dropped: { retry_exhausted: 2 },
            requests: 1,
            status: 'outage',
            outage: stats.outage,
          }),
        );
        assertIdentity(stats);
        assert.deepEqual(drops, [['retry_exhausted', 2, 'still undelivered after 0 ms of retries']]);
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 13-14. Serverless and request identity
// ---------------------------------------------------------------------------------------------

describe('serverless and identity', () => {
  test('withFlush: when the wrapped handler resolves, its event is already at PostHog', async () => {
    await withPipeline({ options: { scheduledDelayMillis: 60_000 } }, async (p) => {
      const handler = withFlush(async (event: { id: string }) => {
        p.logger().emit({ eventName: 'invoked', attributes: { request: event.id } });
        await sleep(1);
        return { statusCode: 200, body: event.id };
      }, p.processor);
      const result = await handler({ id: 'r-1' });
      assert.deepEqual(result, { statusCode: 200, body: 'r-1' });
      const accepted = p.server.acceptedEvents();
      assert.deepEqual(names(accepted), ['invoked']);
      assert.equal(accepted[0]!.properties.request, 'r-1');
    });
  });

  test('withFlush: a throwing handler still flushes, and its error is rethrown unchanged', async () => {
    await withPipeline({ options: { scheduledDelayMillis: 60_000 } }, async (p) => {
      const asyncError = new RangeError('async failure');
      const asyncHandler = withFlush(async () => {
        p.logger().emit({ eventName: 'before_async_throw' });
        await sleep(1);
        throw asyncError;
      }, p.processor);
      await assert.rejects(asyncHandler(), (error) => error === asyncError);
      assert.deepEqual(names(p.server.acceptedEvents()), ['before_async_throw']);

      const syncError = new TypeError('sync failure');
      const syncHandler = withFlush((): string => {
        p.logger().emit({ eventName: 'before_sync_throw' });
        throw syncError;
      }, p.processor);
      await assert.rejects(syncHandler(), (error) => error === syncError);
      assert.deepEqual(names(p.server.acceptedEvents()), ['before_async_throw', 'before_sync_throw']);
      assertIdentity(p.processor.getStats());
    });
  });

  test('request identity (NodeSDK context): log and span events get distinct_id and session_id; record attributes win', async () => {
    await withServer(async (server) => {
      const processor = new PostHogLogRecordProcessor({ scheduledDelayMillis: 60_000 }, { env: envFor(server) });
      const sdk = new NodeSDK({
        autoDetectResources: false,
        metricReaders: [],
        spanProcessors: [new PostHogSpanEventProcessor({ processor })],
        logRecordProcessors: [processor],
      });
      let shutDown = false;
      try {
        sdk.start();
        const logger = logs.getLogger('web');
        const tracer = trace.getTracer('web');
        withPostHogIdentity(identityFromHeaders({ 'x-posthog-distinct-id': 'u-1', 'x-posthog-session-id': 's-1' }), () => {
          logger.emit({ eventName: 'a' });
          const span = tracer.startSpan('op');
          span.addEvent('b');
          span.addEvent('b_explicit', { 'user.id': 'u-span', 'posthog.session_id': 's-span' });
          span.end();
          logger.emit({ eventName: 'a_explicit', attributes: { 'posthog.distinct_id': 'u-explicit', 'posthog.session_id': 's-explicit' } });
        });
        logger.emit({ eventName: 'outside' });
        await sdk.shutdown();
        shutDown = true;

        const byName = new Map(server.acceptedEvents().map((e) => [e.event, e]));
        assert.deepEqual([...byName.keys()].sort(), ['a', 'a_explicit', 'b', 'b_explicit', 'outside']);
        const ids = (name: string): [string | undefined, string | undefined] => [
          byName.get(name)!.distinct_id,
          byName.get(name)!.session_id,
        ];
        assert.deepEqual(ids('a'), ['u-1', 's-1']);
        assert.deepEqual(ids('b'), ['u-1', 's-1']);
        assert.deepEqual(ids('a_explicit'), ['u-explicit', 's-explicit']);
        assert.deepEqual(ids('b_explicit'), ['u-span', 's-span']);
        const outside = byName.get('outside')!;
        assert.notEqual(outside.distinct_id, 'u-1', 'the identity does not leak outside its scope');
        assert.equal(outside.session_id, undefined);
        assert.equal(outside.options.process_person_profile, false, 'outside the scope the event is personless');
      } finally {
        if (!shutDown) await sdk.shutdown();
        resetGlobals();
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------
// 15-16. Dry run and onDrop (debug output is last: it turns console echo on for the process)
// ---------------------------------------------------------------------------------------------

describe('dry run and onDrop', () => {
  test('dryRun: nothing is sent, every event is printed and counted as dry_run', async () => {
    const lines: string[] = [];
    await withPipeline(
      { options: { dryRun: true, scheduledDelayMillis: 60_000 }, internals: { print: (l) => lines.push(l) } },
      async (p) => {
        emitEvents(p.logger(), 'dry', 3);
        const span = p.tracer().startSpan('op');
        span.addEvent('dry_span_event');
        span.end();
        await p.flush();
        assert.equal(p.requests().length, 0);
        assert.equal(lines.length, 5);
        assert.match(
          lines[0]!,
          /^\[posthog-otel\] start: dry run \(events are printed, nothing is sent\); host http:\/\/127\.0\.0\.1:\d+; API key from POSTHOG_API_KEY; /,
        );
        const printed = lines.slice(1).map((l) => {
          assert.ok(l.startsWith('[posthog-otel] dry run, not sent: event '), l);
          return JSON.parse(l.slice('[posthog-otel] dry run, not sent: event '.length)) as CaptureEvent;
        });
        assert.deepEqual(names(printed), ['dry_0', 'dry_1', 'dry_2', 'dry_span_event']);
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 4, selected: 4, dropped: { dry_run: 4 }, status: 'dry-run' }));
        assertIdentity(stats);
      },
    );
  });

  test('onDrop is called with the events and the reason, for beforeSend drops and server drops', async () => {
    const calls: Array<{ reason: DropReason; events: string[]; details: string | undefined }> = [];
    const dropped: CaptureEvent[] = [];
    const options: PostHogLogRecordProcessorOptions = {
      scheduledDelayMillis: 60_000,
      beforeSend: (e) => (e.event === 'blocked' ? null : e),
      onDrop: (events, reason, details) => {
        calls.push({ reason, events: events.map((e) => e.event), details });
        dropped.push(...events);
      },
    };
    await withPipeline({ options }, async (p) => {
      p.server.script({
        results: (events) =>
          Object.fromEntries(
            events.filter((e) => e.event === 'refused').map((e) => [e.uuid, { result: 'drop', details: 'event_too_big' }]),
          ),
      });
      for (const name of ['fine', 'blocked', 'refused']) p.logger().emit({ eventName: name });
      await p.flush();
      assert.deepEqual(calls, [
        { reason: 'before_send', events: ['blocked'], details: 'beforeSend returned null' },
        { reason: 'server_drop', events: ['refused'], details: 'event_too_big' },
      ]);
      // Plain objects, complete even when spread: the hook may keep or change them freely.
      for (const event of dropped) {
        assert.equal(Object.getPrototypeOf(event), Object.prototype);
        const copy = { ...event };
        assert.deepEqual(copy.options, { process_person_profile: false });
        assert.equal(copy.properties.otel_scope_name, 'test');
      }
      assert.deepEqual(names(p.server.acceptedEvents()), ['fine']);
      const stats = p.processor.getStats();
      assert.deepEqual(stats.dropped, { before_send: 1, server_drop: 1 });
      assertIdentity(stats);
    });
  });

  test('a server message that quotes the API key reaches onDrop details and the drop warning redacted', async () => {
    const details: Array<string | undefined> = [];
    await withDiag(async (d) => {
      await withPipeline({ options: { scheduledDelayMillis: 60_000, onDrop: (_events, _reason, why) => details.push(why) } }, async (p) => {
        const key = p.server.apiKey;
        p.server.script({ status: 401, body: JSON.stringify({ error_description: `token ${key} is not valid here` }) });
        emitEvents(p.logger(), 'refused', 2);
        await p.flush();
        assert.deepEqual(details, ['HTTP 401: token [redacted] is not valid here']);
        const warnings = d.ours('warn');
        assert.ok(
          warnings.some((w) => w.includes('token [redacted] is not valid here')),
          warnings.join('\n'),
        );
        assert.ok(!d.entries.some((e) => e.text.includes(key)), 'the key is in no diag message');
        assert.deepEqual(p.processor.getStats().dropped, { status_401: 2 });
      });
    });
  });

  test('beforeSend redaction: a property set to undefined or deleted is not sent; the rest is', async () => {
    const options: PostHogLogRecordProcessorOptions = {
      scheduledDelayMillis: 60_000,
      beforeSend: (e) => {
        e.properties['user.email'] = undefined;
        delete e.properties['card.last4'];
        return e;
      },
    };
    await withPipeline({ options }, async (p) => {
      p.logger().emit({ eventName: 'signed_up', attributes: { 'user.email': 'a@example.com', 'card.last4': '4242', plan: 'pro' } });
      await p.flush();
      const [event] = p.server.acceptedEvents();
      assert.ok(event);
      assert.equal(event.properties.plan, 'pro');
      assert.ok(!('user.email' in event.properties), 'undefined is left out of the JSON');
      assert.ok(!('card.last4' in event.properties));
      assert.deepEqual(p.processor.getStats().dropped, {});
    });
  });

  test('a throwing onDrop is reported and changes nothing', async () => {
    await withDiag(async (d) => {
      let calls = 0;
      const options: PostHogLogRecordProcessorOptions = {
        scheduledDelayMillis: 60_000,
        beforeSend: (e) => (e.event === 'blocked' ? null : e),
        onDrop: () => {
          calls++;
          throw new Error('onDrop exploded');
        },
      };
      await withPipeline({ options }, async (p) => {
        for (const name of ['fine', 'blocked', 'fine_too']) p.logger().emit({ eventName: name });
        await p.flush();
        p.logger().emit({ eventName: 'blocked' });
        p.logger().emit({ eventName: 'after' });
        await p.flush();
        assert.equal(calls, 2);
        assert.deepEqual(names(p.server.acceptedEvents()), ['after', 'fine', 'fine_too']);
        assert.equal(d.ours('warn').filter((w) => w.includes('onDrop threw: Error: onDrop exploded')).length, 2);
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 5, selected: 5, delivered: 3, dropped: { before_send: 2 }, requests: 2 }));
        assertIdentity(stats);
      });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// 17. Nothing throws into the host
// ---------------------------------------------------------------------------------------------

describe('nothing throws into the host', () => {
  test('hostile records, spans and export arguments: no exception escapes, no unhandled rejection, stats account for them', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      await withDiag(async (d) => {
        const throwing = new Proxy(
          {},
          {
            get: () => {
              throw new Error('attribute getter exploded');
            },
            ownKeys: () => {
              throw new Error('attribute enumeration exploded');
            },
          },
        );
        // A processor before ours that leaves every record's attributes as a throwing Proxy.
        const saboteur: LogRecordProcessor = {
          onEmit(record: ReadWriteLogRecord) {
            Object.defineProperty(record, 'attributes', { value: throwing, configurable: true });
          },
          forceFlush: async () => undefined,
          shutdown: async () => undefined,
        };
        await withPipeline({ options: { scheduledDelayMillis: 60_000 }, processorsBefore: [saboteur] }, async (p) => {
          // Selected (it has an eventName), then unmappable at export time: dropped as invalid.
          assert.doesNotThrow(() => p.logger().emit({ eventName: 'poisoned' }));
          // Not selectable: selection itself reads the attributes.
          assert.doesNotThrow(() => p.logger().emit({ body: 'no event name' }));
          // A record that throws on every property read.
          const hostileRecord = new Proxy({} as ReadWriteLogRecord, {
            get: () => {
              throw new Error('record exploded');
            },
          });
          assert.doesNotThrow(() => p.processor.onEmit(hostileRecord));

          // Broken spans straight into the span processor.
          assert.doesNotThrow(() => p.spanProcessor.onEnd({} as EndedSpan));
          assert.doesNotThrow(() =>
            p.spanProcessor.onEnd({
              name: 'broken',
              get events(): EndedSpan['events'] {
                throw new Error('events exploded');
              },
            } as unknown as EndedSpan),
          );
          assert.doesNotThrow(() => p.spanProcessor.onStart({}, undefined as never));

          await p.flush();
          const stats = p.processor.getStats();
          assert.deepEqual(stats, zeroStats({ emitted: 3, selected: 1, dropped: { invalid: 1 } }));
          assertIdentity(stats);
          assert.equal(p.requests().length, 0);
          assert.ok(d.ours('error').length >= 3, `errors are reported through diag: ${JSON.stringify(d.ours('error'))}`);
        });

        // Garbage straight into the exporter.
        await withServer(async (server) => {
          const exporter = newExporter(server);
          try {
            const garbage = [null, undefined, 42, 'record', {}, { attributes: throwing }] as unknown as ReadableLogRecord[];
            let result: ExportResult | undefined;
            assert.doesNotThrow(() => exporter.export(garbage, (r) => (result = r)));
            await until(() => result !== undefined, 'the export callback');
            assert.equal(result!.code, ExportResultCode.FAILED);
            assert.deepEqual((result!.error as PostHogExportError).dropped, { invalid: 6 });
            assert.doesNotThrow(() => exporter.export(null as unknown as ReadableLogRecord[], () => undefined));
            assert.doesNotThrow(() => exporter.export([], undefined as unknown as (r: ExportResult) => void));
            const [valid] = await sdkRecords((logger) => logger.emit({ eventName: 'valid' }));
            let validResult: ExportResult | undefined;
            exporter.export([valid!], (r) => (validResult = r));
            await until(() => validResult !== undefined, 'the valid export callback');
            assert.deepEqual(validResult, { code: ExportResultCode.SUCCESS });
            await sleep(20);
            const stats = exporter.getStats();
            assert.deepEqual(stats, zeroStats({ emitted: 7, selected: 7, delivered: 1, dropped: { invalid: 6 }, requests: 1 }));
            assertIdentity(stats);
          } finally {
            await exporter.shutdown();
          }
        });
      });
      await sleep(20);
      assert.deepEqual(rejections, [], 'no unhandled rejection');
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Found in review: each test states behaviour that was once wrong.
// ---------------------------------------------------------------------------------------------

describe('known bugs', () => {
  test('concurrent forceFlush: the second call waits for the records emitted before it', async () => {
    await withPipeline({ options: { scheduledDelayMillis: 60_000 } }, async (p) => {
      p.server.setDefault({ delayMs: 100 });
      p.logger().emit({ eventName: 'first' });
      const firstFlush = p.processor.forceFlush();
      await sleep(20);
      p.logger().emit({ eventName: 'second' });
      await p.processor.forceFlush();
      const afterSecond = names(p.server.acceptedEvents());
      await firstFlush;
      assert.deepEqual(afterSecond, ['first', 'second']);
    });
  });

  test('withFlush with overlapping invocations: each one resolves only once its own event is at PostHog', async () => {
    await withPipeline({ options: { scheduledDelayMillis: 60_000 } }, async (p) => {
      p.server.setDefault({ delayMs: 100 });
      const handler = withFlush(async (name: string) => {
        p.logger().emit({ eventName: name });
      }, p.processor);
      const first = handler('invocation_1');
      await sleep(20);
      await handler('invocation_2');
      const afterSecond = names(p.server.acceptedEvents());
      await first;
      assert.deepEqual(afterSecond, ['invocation_1', 'invocation_2']);
    });
  });

  test('an export ends within exportDeadlineMillis of export(), so the batch processor never times it out', async () => {
    await withDiag(async (d) => {
      const beforeSend = (event: CaptureEvent): CaptureEvent => {
        busyWait(150);
        return event;
      };
      await withPipeline(
        { options: { exportTimeoutMillis: 300, timeoutMillis: 5000, scheduledDelayMillis: 60_000, beforeSend } },
        async (p) => {
          p.server.setDefault({ delayMs: 200 });
          p.logger().emit({ eventName: 'slow_hook' });
          await p.processor.forceFlush();
          assert.equal(p.server.acceptedEvents().length, 1);
          assert.deepEqual(
            d.all('error').filter((e) => /Timeout/.test(e)),
            [],
            'the batch processor reported no export timeout',
          );
        },
      );
    });
  });

  test('forceFlush waits out the Retry-After the server asked for, then resends and delivers', async () => {
    const clock = new InstantClock();
    await withPipeline(
      { options: { maxAttempts: 3, retryInitialDelayMillis: 0, scheduledDelayMillis: 5 }, internals: { clock } },
      async (p) => {
        p.server.script({ status: 503, headers: { 'retry-after': '2' } });
        p.logger().emit({ eventName: 'patient' });
        await until(() => p.processor.getStats().retryBuffered === 1, 'the event to wait in the retry buffer');
        assert.deepEqual(clock.sleeps, [], 'a 2 s Retry-After is longer than an export waits in place');
        await p.processor.forceFlush();
        assert.deepEqual(clock.sleeps, [2000], 'the flush slept exactly the Retry-After before resending');
        assert.equal(p.requests().length, 2);
        assert.deepEqual(
          p.requests().map((r) => r.headers['posthog-attempt']),
          ['1', '2'],
        );
        assertAcceptedOnce(p.server, 1);
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 1, selected: 1, delivered: 1, requests: 2, retries: 1 }));
        assertIdentity(stats);
      },
    );
  });

  test('a disabled exporter on its own is a no-op: SUCCESS, and no counts (nothing runs)', async () => {
    const exporter = new PostHogLogRecordExporter({}, { env: {} });
    const records = await sdkRecords((logger) => emitEvents(logger, 'discarded', 2));
    const result = await exportOnce(exporter, records);
    assert.deepEqual(result, { code: ExportResultCode.SUCCESS });
    const stats = exporter.getStats();
    assert.deepEqual([stats.emitted, stats.selected, stats.delivered, stats.pending], [0, 0, 0, 0]);
    await exporter.shutdown();
  });
});

// ---------------------------------------------------------------------------------------------
// 15. Debug output. Last, because debug mode echoes warnings to the console for the whole process.
// ---------------------------------------------------------------------------------------------

describe('debug output', () => {
  test('debug: an event a hook made unserialisable is printed as such, refused alone, and the rest of its batch delivered', async () => {
    const lines: string[] = [];
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      if (event.event === 'bad') event.properties.row_id = 42n;
      return event;
    };
    await withPipeline(
      { options: { debug: true, beforeSend, scheduledDelayMillis: 60_000 }, internals: { print: (l) => lines.push(l) } },
      async (p) => {
        for (const name of ['good', 'bad', 'good_too']) p.logger().emit({ eventName: name });
        await p.flush();
        assert.deepEqual(names(p.server.acceptedEvents()).sort(), ['good', 'good_too']);
        assert.equal(
          lines.filter((l) => l.startsWith('[posthog-otel] event (not serialisable as JSON: ')).length,
          1,
          JSON.stringify(lines),
        );
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 3, selected: 3, delivered: 2, dropped: { invalid: 1 }, requests: 1 }));
        assertIdentity(stats);
      },
    );
  });

  test('debug: a JSON line per event and a line per request attempt, never the API key', async () => {
    const lines: string[] = [];
    await withPipeline(
      {
        options: { debug: true, maxAttempts: 2, retryInitialDelayMillis: 0, scheduledDelayMillis: 60_000 },
        internals: { print: (l) => lines.push(l) },
      },
      async (p) => {
        p.server.script({ status: 503 });
        p.logger().emit({ eventName: 'debugged', attributes: { note: `pasted ${p.server.apiKey} by mistake` } });
        p.logger().emit({ eventName: 'debugged_too' });
        await p.flush();

        const eventLines = lines.filter((l) => l.startsWith('[posthog-otel] event '));
        const requestLines = lines.filter((l) => l.startsWith('[posthog-otel] request '));
        assert.equal(lines.length, 1 + eventLines.length + requestLines.length, JSON.stringify(lines));
        assert.equal(
          lines[0],
          `[posthog-otel] start: enabled; host ${p.server.url}; API key from POSTHOG_API_KEY; compression zstd; batches of up to 512 records every 60000 ms, queue 2048, export timeout 30000 ms; flush timeout 10000 ms, flush on exit`,
        );
        assert.equal(eventLines.length, 2);
        const printed = eventLines.map((l) => JSON.parse(l.slice('[posthog-otel] event '.length)) as CaptureEvent);
        assert.deepEqual(names(printed), ['debugged', 'debugged_too']);
        assert.equal(printed.find((e) => e.event === 'debugged')!.properties.note, 'pasted [redacted] by mistake');
        assert.deepEqual(
          printed.map((e) => e.uuid).sort(),
          p.server
            .acceptedEvents()
            .map((e) => e.uuid)
            .sort(),
          'the printed events are the sent ones',
        );

        assert.equal(requestLines.length, p.requests().length);
        const to = `to ${p.server.url}/i/v1/analytics/events`.replace(/[.]/g, '\\.');
        assert.match(
          requestLines[0]!,
          new RegExp(
            `^\\[posthog-otel\\] request [0-9a-f-]{36} attempt 1: 2 event\\(s\\) ${to} → 503 \\(HTTP 503: .*\\); ok 0, drop 0, retry 0$`,
          ),
        );
        assert.match(
          requestLines[1]!,
          new RegExp(`^\\[posthog-otel\\] request [0-9a-f-]{36} attempt 2: 2 event\\(s\\) ${to} → 200; ok 2, drop 0, retry 0$`),
        );
        for (const line of lines) assert.ok(!line.includes(p.server.apiKey), `a printed line holds the API key: ${line}`);
      },
    );
  });
});

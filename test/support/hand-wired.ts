// For tests that wire our exporter and processors into OpenTelemetry by hand, as a host would,
// rather than through the pipeline helper: a fake server's environment, providers, records as the
// SDK hands them to exporters, and one export call observed to its single result.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { LogRecordProcessor, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { Environment } from '../../src/config/env.ts';
import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';
import type { PostHogStats } from '../../src/delivery/ledger.ts';
import { PostHogLogRecordExporter } from '../../src/log-record-exporter.ts';
import type { ExporterInternals } from '../../src/log-record-exporter.ts';
import { FakeCaptureServer } from './fake-capture-server.ts';

export async function withServer(body: (server: FakeCaptureServer) => Promise<void>): Promise<void> {
  const server = await FakeCaptureServer.start();
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

/** The env seam pointing at `server`, with its key. */
export function envFor(server: FakeCaptureServer, extra: Environment = {}): Environment {
  return { POSTHOG_API_KEY: server.apiKey, POSTHOG_HOST: server.url, ...extra };
}

export function newProvider(...processors: LogRecordProcessor[]): LoggerProvider {
  return new LoggerProvider({ resource: resourceFromAttributes({}), processors });
}

/** Emits `count` event records named `${prefix}_${i}`. */
export function emitEvents(logger: Logger, prefix: string, count: number): void {
  for (let i = 0; i < count; i++) logger.emit({ eventName: `${prefix}_${i}` });
}

/** Records as the SDK hands them to exporters, captured with an InMemoryLogRecordExporter. */
export async function sdkRecords(emit: (logger: Logger) => void): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = newProvider(new SimpleLogRecordProcessor({ exporter: memory }));
  emit(provider.getLogger('direct'));
  await provider.forceFlush();
  const records = [...memory.getFinishedLogRecords()];
  await provider.shutdown();
  return records;
}

/** Calls `exporter.export` and resolves with the first result, after checking no second call follows. */
export async function exportOnce(exporter: PostHogLogRecordExporter, records: ReadableLogRecord[]): Promise<ExportResult> {
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

export function newExporter(
  server: FakeCaptureServer,
  options: PostHogLogRecordProcessorOptions = {},
  internals: Omit<ExporterInternals, 'env'> = {},
): PostHogLogRecordExporter {
  return new PostHogLogRecordExporter(options, { ...internals, env: envFor(server) });
}

/** Blocks the event loop, as an expensive synchronous hook would. */
export function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

export function zeroStats(overrides: Partial<PostHogStats>): PostHogStats {
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

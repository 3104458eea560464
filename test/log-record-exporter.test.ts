// The exporter's own diagnostics: a record that cannot be mapped, values that cannot be converted,
// events PostHog would discard. The API key appears in none of them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { PostHogLogRecordExporter } from '../src/log-record-exporter.ts';
import { FakeCaptureServer } from './support/fake-capture-server.ts';
import { recordOf } from './support/log-records.ts';

/** Every diag message at every level while `body` runs. */
async function withDiag(body: (messages: Array<{ level: string; text: string }>) => Promise<void>): Promise<void> {
  const messages: Array<{ level: string; text: string }> = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      void messages.push({ level, text: args.map(String).join(' ') });
  const logger: DiagLogger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), verbose: at('verbose') };
  diag.disable();
  diag.setLogger(logger, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
  try {
    await body(messages);
  } finally {
    diag.disable();
  }
}

async function exportWith(
  server: FakeCaptureServer,
  records: ReadableLogRecord[],
  now?: () => number,
): Promise<{ exporter: PostHogLogRecordExporter; result: ExportResult }> {
  const clock = now ? { now, sleep: () => Promise.resolve() } : undefined;
  const exporter = new PostHogLogRecordExporter(
    { debug: false },
    { env: { POSTHOG_API_KEY: server.apiKey, POSTHOG_HOST: server.url }, ...(clock ? { clock } : {}) },
  );
  const result = await new Promise<ExportResult>((resolve) => exporter.export(records, resolve));
  return { exporter, result };
}

test('a record that cannot be mapped: counted as invalid, and the debug line about it has the key redacted', async () => {
  const server = await FakeCaptureServer.start();
  try {
    await withDiag(async (messages) => {
      const real = recordOf({ eventName: 'broken' });
      const hostile = Object.create(real, {
        resource: {
          get() {
            throw new Error(`resource lookup failed for ${server.apiKey}`);
          },
        },
      }) as ReadableLogRecord;
      const { exporter, result } = await exportWith(server, [hostile, recordOf({ eventName: 'fine' })]);
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.deepEqual(exporter.getStats().dropped, { invalid: 1 });
      assert.equal(exporter.getStats().delivered, 1);
      const debug = messages.filter((m) => m.level === 'debug' && m.text.includes('record could not be mapped'));
      assert.equal(debug.length, 1, JSON.stringify(messages));
      assert.match(debug[0]!.text, /resource lookup failed for \[redacted\]/);
      assert.ok(!messages.some((m) => m.text.includes(server.apiKey)), JSON.stringify(messages));
      await exporter.shutdown();
    });
  } finally {
    await server.close();
  }
});

test('person events PostHog would discard are dropped as invalid, with the reason in the warning', async () => {
  const server = await FakeCaptureServer.start();
  try {
    await withDiag(async (messages) => {
      const { exporter, result } = await exportWith(server, [
        recordOf({ eventName: '$identify', attributes: { $anon_distinct_id: 'a' } }),
        recordOf({ eventName: '$groupidentify', attributes: { $group_type: 'org', $group_key: 'acme' } }),
      ]);
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.deepEqual(exporter.getStats().dropped, { invalid: 1 });
      assert.deepEqual(
        server.acceptedEvents().map((e) => [e.event, e.distinct_id]),
        [['$groupidentify', '$org_acme']],
      );
      const warnings = messages.filter((m) => m.level === 'warn').map((m) => m.text);
      assert.ok(
        warnings.some((w) => w.includes('$identify without a distinct id')),
        warnings.join('\n'),
      );
      await exporter.shutdown();
    });
  } finally {
    await server.close();
  }
});

test('values that cannot be converted: the event goes, and a warning counts them, at most once a minute', async () => {
  const server = await FakeCaptureServer.start();
  try {
    await withDiag(async (messages) => {
      let now = 1_000_000;
      const hostile = (): ReadableLogRecord => {
        const record = recordOf({ eventName: 'converted', attributes: { kept: 'yes' } });
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        (record.attributes as Record<string, unknown>).secretish = proxy;
        return record;
      };
      const exporter = new PostHogLogRecordExporter(
        {},
        { env: { POSTHOG_API_KEY: server.apiKey, POSTHOG_HOST: server.url }, clock: { now: () => now, sleep: () => Promise.resolve() } },
      );
      const run = (records: ReadableLogRecord[]) => new Promise<ExportResult>((resolve) => exporter.export(records, resolve));
      assert.equal((await run([hostile(), hostile()])).code, ExportResultCode.SUCCESS);
      now += 30_000;
      await run([hostile()]);
      now += 30_000;
      await run([hostile()]);
      const warnings = messages.filter((m) => m.level === 'warn' && m.text.includes('could not be converted')).map((m) => m.text);
      assert.equal(warnings.length, 2, warnings.join('\n'));
      // The first at once; the next a minute later, with the three since.
      assert.match(
        warnings[0]!,
        / 1 attribute value\(s\) could not be converted .* sent as "\[unserializable\]"; the rest of their events went on\. 1 in all/,
      );
      assert.match(warnings[1]!, / 3 attribute value\(s\) could not be converted .* 4 in all/);
      assert.deepEqual(
        server.acceptedEvents().map((e) => [e.properties.kept, e.properties.secretish]),
        Array.from({ length: 4 }, () => ['yes', '[unserializable]']),
      );
      assert.equal(exporter.getStats().delivered, 4);
      await exporter.shutdown();
    });
  } finally {
    await server.close();
  }
});

// What the exporter says about an outage, on the manual clock over the scripted endpoint, with real
// OpenTelemetry log records: a warning on diag at the first failed delivery naming the host (its
// origin only) and the cause, at most one more a minute while it lasts, one on recovery; and drop
// warnings that name the host and the last failure. The API key and the host's path appear nowhere.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { PostHogExporterOptions } from '../src/config/options.ts';
import { PostHogLogRecordExporter } from '../src/log-record-exporter.ts';
import { ManualClock } from './support/clocks.ts';
import { ScriptedTransport } from './support/scripted-transport.ts';

const API_KEY = 'phc_outage_warning_test_key';
const SECOND = 1_000;
const MINUTE = 60_000;

function records(count: number, name = 'checkout'): ReadableLogRecord[] {
  const captured: ReadableLogRecord[] = [];
  const capture: LogRecordProcessor = {
    onEmit: (r) => void captured.push(r as unknown as ReadableLogRecord),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const logger = new LoggerProvider({ resource: resourceFromAttributes({}), processors: [capture] }).getLogger('app');
  for (let i = 0; i < count; i++) logger.emit({ eventName: `${name}-${i}`, attributes: { 'user.id': 'u-1' } });
  return captured;
}

interface Setup {
  clock: ManualClock;
  transport: ScriptedTransport;
  exporter: PostHogLogRecordExporter;
  warnings: string[];
  all: string[];
  export(count: number): Promise<ExportResult>;
}

async function withExporter(options: PostHogExporterOptions, body: (s: Setup) => Promise<void>): Promise<void> {
  const all: string[] = [];
  const warnings: string[] = [];
  // The component logger passes its namespace first.
  const at =
    (level: string) =>
    (...args: unknown[]) => {
      const text = args
        .slice(args[0] === 'opentelemetry-exporter-posthog' ? 1 : 0)
        .map(String)
        .join(' ');
      all.push(text);
      if (level === 'warn') warnings.push(text);
    };
  const logger: DiagLogger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), verbose: at('verbose') };
  diag.disable();
  diag.setLogger(logger, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
  const clock = new ManualClock();
  const transport = new ScriptedTransport(clock);
  // Uncompressed, so the scripted endpoint can read the requests.
  const exporter = new PostHogLogRecordExporter(
    { compression: 'none', ...options },
    { env: { POSTHOG_API_KEY: API_KEY, POSTHOG_HOST: 'http://capture.test/ingest' }, clock, transport, random: () => 0 },
  );
  try {
    await body({
      clock,
      transport,
      exporter,
      warnings,
      all,
      export: (count) => clock.run(new Promise<ExportResult>((resolve) => exporter.export(records(count), resolve))),
    });
    for (const text of all) {
      assert.ok(!text.includes(API_KEY), text);
      assert.ok(!text.includes('/ingest'), `the host's path stays out of messages: ${text}`);
    }
  } finally {
    await clock.run(exporter.shutdown());
    diag.disable();
  }
}

/** Warnings about the outage itself (not drops, not configuration). */
function outageWarnings(warnings: readonly string[]): string[] {
  return warnings.filter((text) => text.includes('PostHog at http://capture.test') && !text.startsWith('dropped'));
}

test('connection refused: a warning at the first failed delivery, one a minute while it lasts, one on recovery', async () => {
  await withExporter({}, async (s) => {
    s.transport.setDefault({ fail: 'ECONNREFUSED' });
    assert.equal(s.exporter.getStats().status, 'ok');
    const began = s.clock.now();
    await s.export(3);
    // The first export retried in place once (500 ms) before the outage was known.
    assert.deepEqual(s.exporter.getStats().outage, { since: began + 500, cause: { kind: 'refused', code: 'ECONNREFUSED' } });
    assert.equal(s.exporter.getStats().status, 'outage');
    assert.deepEqual(outageWarnings(s.warnings), [
      "cannot deliver to PostHog at http://capture.test: connection refused (ECONNREFUSED). Events wait for retry and go out once it answers; getStats().status is 'outage'. Reported again at most once a minute while this lasts.",
    ]);

    // Probes fail at 1.5, 3.5, 7.5, 15.5 and 31.5 s: within the minute, nothing more is said.
    await s.clock.advance(10 * SECOND);
    await s.export(2);
    await s.clock.advance(45 * SECOND);
    assert.equal(outageWarnings(s.warnings).length, 1);

    // The first failure a minute or more after the warning says so, with what is held.
    await s.clock.advance(MINUTE);
    const again = outageWarnings(s.warnings);
    assert.equal(again.length, 2, again.join('\n'));
    assert.match(
      again[1]!,
      /^PostHog at http:\/\/capture\.test still fails after 1 min \d+ s: connection refused \(ECONNREFUSED\); 5 event\(s\) held for retry\.$/,
    );

    // Five more minutes (probes every 30 s): one warning a minute.
    await s.clock.advance(5 * MINUTE);
    const later = outageWarnings(s.warnings).length;
    assert.ok(later >= 2 + 4 && later <= 2 + 5, `${later} warnings after 7 minutes`);

    s.transport.setDefault({ status: 200 });
    await s.clock.advance(MINUTE);
    const last = outageWarnings(s.warnings).at(-1)!;
    assert.match(
      last,
      /^PostHog at http:\/\/capture\.test takes events again, after [78] min \d+ s of failures; up to 5 event\(s\) were held, the [0-5] still waiting are being sent now\.$/,
    );
    assert.equal(s.exporter.getStats().delivered, 5);
    assert.equal(s.exporter.getStats().status, 'ok');
  });
});

test('HTTP 503 and a DNS failure are named as such', async () => {
  for (const [answer, cause] of [
    [{ status: 503 }, 'HTTP 503'],
    [{ fail: 'ENOTFOUND' }, 'host name not found (DNS ENOTFOUND)'],
    [{ fail: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'TLS failed (DEPTH_ZERO_SELF_SIGNED_CERT)'],
  ] as const) {
    await withExporter({}, async (s) => {
      s.transport.setDefault(answer);
      await s.export(1);
      assert.equal(outageWarnings(s.warnings).length, 1);
      assert.ok(
        outageWarnings(s.warnings)[0]!.startsWith(`cannot deliver to PostHog at http://capture.test: ${cause}. `),
        s.warnings.join('\n'),
      );
    });
  }
});

test('events that ran out of attempts: the drop warning names the host and the last failure; the outage warning came first', async () => {
  await withExporter({ maxAttempts: 2 }, async (s) => {
    s.transport.setDefault({ fail: 'ECONNREFUSED' });
    await s.export(3);
    const relevant = s.warnings.filter((text) => text.includes('capture.test'));
    assert.equal(relevant.length, 2, relevant.join('\n'));
    assert.match(relevant[0]!, /^cannot deliver to PostHog at http:\/\/capture\.test: connection refused/);
    assert.equal(
      relevant[1],
      'dropped 3 event(s): every attempt failed (request failed (ECONNREFUSED); PostHog at http://capture.test, last failure: connection refused (ECONNREFUSED)). Later drops of this kind are reported at most once a minute; getStats() counts them all.',
    );
  });
});

test('events dropped at shutdown: the warning names the host and why', async () => {
  await withExporter({}, async (s) => {
    s.transport.setDefault({ status: 503 });
    await s.export(2);
    await s.clock.run(s.exporter.shutdown());
    const dropped = s.warnings.filter((text) => text.startsWith('dropped'));
    assert.deepEqual(dropped, [
      'dropped 2 event(s): the export ran out of time (still undelivered at shutdown, and there is no spool; PostHog at http://capture.test, last failure: HTTP 503). Later drops of this kind are reported at most once a minute; getStats() counts them all.',
    ]);
  });
});

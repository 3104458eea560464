// How configuration is reported: the start-up line (debug and dry run) and the diag warnings and
// errors, which are deferred so that a diag logger installed after the processor (as NodeSDK does)
// still gets them.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { startupLine } from '../../src/config/report.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { PostHogLogRecordExporter } from '../../src/log-record-exporter.ts';
import { PostHogLogRecordProcessor } from '../../src/log-record-processor.ts';
import { runChild } from '../support/child-process.ts';
import { FakeCaptureServer } from '../support/fake-capture-server.ts';

const QUICK_START = fileURLToPath(new URL('../fixtures/quick-start-child.ts', import.meta.url));
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Installs a diag logger that keeps this package's messages; `stop()` removes it. */
function recordDiag(): { messages: string[]; stop(): void } {
  const messages: string[] = [];
  const keep =
    (level: string) =>
    (...args: unknown[]): void => {
      // A component logger passes its namespace first.
      const message = args.map(String).join(' ');
      if (message.startsWith('opentelemetry-exporter-posthog '))
        messages.push(`${level}: ${message.slice('opentelemetry-exporter-posthog '.length)}`);
    };
  const logger: DiagLogger = {
    error: keep('error'),
    warn: keep('warn'),
    info: keep('info'),
    debug: keep('debug'),
    verbose: keep('verbose'),
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  return { messages, stop: () => diag.disable() };
}

describe('startupLine', () => {
  const key = 'phc_startupLineSecret';

  test('an enabled processor: host, where the key came from, codec, batch settings, flush settings', () => {
    const { config } = resolveConfig(
      {},
      { POSTHOG_API_KEY: key, POSTHOG_HOST: 'https://eu.i.posthog.com', OTEL_BLRP_SCHEDULE_DELAY: '200' },
    );
    assert.equal(
      startupLine(config, 'processor'),
      'start: enabled; host https://eu.i.posthog.com; API key from POSTHOG_API_KEY; compression zstd; batches of up to 512 records every 200 ms, queue 2048, export timeout 30000 ms; flush timeout 10000 ms, flush on exit',
    );
  });

  test('a key from code, gzip, a spool, no flush on exit', () => {
    const { config } = resolveConfig(
      { apiKey: key, compression: 'gzip', spoolDir: '/var/spool/ph', flushOnExit: false, maxQueueSize: 100 },
      {},
    );
    assert.equal(
      startupLine(config, 'processor'),
      'start: enabled; host https://us.i.posthog.com; API key from the apiKey option; compression gzip; batches of up to 100 records every 1000 ms, queue 100, export timeout 30000 ms; flush timeout 10000 ms, no flush on exit; spool /var/spool/ph',
    );
  });

  test('a dry run says nothing is sent; it needs no key', () => {
    const { config } = resolveConfig({}, { POSTHOG_OTEL_DRY_RUN: 'yes' });
    assert.match(
      startupLine(config, 'processor'),
      /^start: dry run \(events are printed, nothing is sent\); host https:\/\/us\.i\.posthog\.com; no API key; /,
    );
  });

  test('a disabled pipeline says why; a refused key is named by its variable, never shown', () => {
    const personal = 'phx_personalStartupSecret';
    const { config } = resolveConfig({}, { POSTHOG_PROJECT_TOKEN: personal });
    const line = startupLine(config, 'processor');
    assert.match(
      line,
      /^start: disabled \(the API key is a personal API key \(phx_…\).*\); host https:\/\/us\.i\.posthog\.com; API key from POSTHOG_PROJECT_TOKEN; /,
    );
    assert.ok(!line.includes('personalStartupSecret'), line);
    assert.match(
      startupLine(resolveConfig({}, {}).config, 'processor'),
      /^start: disabled \(no PostHog API key: set POSTHOG_API_KEY .*\); host .*; no API key; /,
    );
  });

  test('an exporter on its own has no batch or exit-flush settings of its own', () => {
    const { config } = resolveConfig({}, { POSTHOG_API_KEY: key });
    assert.equal(
      startupLine(config, 'exporter'),
      'start: enabled; host https://us.i.posthog.com; API key from POSTHOG_API_KEY; compression zstd; flush timeout 10000 ms',
    );
  });

  test('the key never appears, whatever the configuration', () => {
    for (const env of [{ POSTHOG_API_KEY: key }, { POSTHOG_API_KEY: key, POSTHOG_OTEL_DRY_RUN: 'true' }, { POSTHOG_API_KEY: `${key} x` }]) {
      const { config } = resolveConfig({}, env);
      for (const kind of ['processor', 'exporter'] as const) assert.ok(!startupLine(config, kind).includes('startupLineSecret'));
    }
  });
});

describe('deferred reports', () => {
  test('warnings and errors found at construction reach a diag logger installed afterwards, once', async () => {
    const env = { POSTHOG_API_KEY: 'phx_personalDeferredSecret', POSTHOG_OTEL_DEBUG: 'loud', POSTHOG_HOST: 'eu.i.posthog.com' };
    const processor = new PostHogLogRecordProcessor({}, { env });
    const exporter = new PostHogLogRecordExporter({}, { env: { POSTHOG_OTEL_TIMEOUT: 'soon' } });
    const d = recordDiag();
    try {
      await nextTurn();
      assert.deepEqual(d.messages, [
        'warn: POSTHOG_OTEL_DEBUG is ignored: expected true/false, 1/0, yes/no or on/off, got "loud".',
        'warn: POSTHOG_HOST has no scheme: using https://eu.i.posthog.com. Write the https:// (or http:// for a server without TLS) to silence this note.',
        'error: disabled: the API key is a personal API key (phx_…), which PostHog refuses for capture and which must not be shipped with an application: use the project API key (phc_…) from your project settings',
        'warn: POSTHOG_OTEL_TIMEOUT is ignored: expected a positive whole number up to 2147483647, got "soon".',
        'warn: disabled: no PostHog API key: set POSTHOG_API_KEY (or the apiKey option) to send events. Records are accepted and discarded.',
      ]);
      await nextTurn();
      assert.equal(d.messages.length, 5, 'reported once');
    } finally {
      d.stop();
      await Promise.all([processor.shutdown(), exporter.shutdown()]);
    }
  });

  test('an export before the next turn reports first, so the start-up line comes before any event line', async () => {
    const server = await FakeCaptureServer.start();
    const lines: string[] = [];
    const processor = new PostHogLogRecordProcessor(
      { debug: true, scheduledDelayMillis: 60_000 },
      { env: { POSTHOG_API_KEY: server.apiKey, POSTHOG_HOST: server.url }, print: (line) => lines.push(line) },
    );
    const provider = new LoggerProvider({ resource: resourceFromAttributes({}), processors: [processor] });
    try {
      provider.getLogger('t').emit({ eventName: 'early' });
      const flushed = provider.forceFlush();
      await flushed;
      assert.match(lines[0] ?? '', /^\[posthog-otel\] start: enabled; /);
      assert.match(lines[1] ?? '', /^\[posthog-otel\] event \{"event":"early"/);
      await nextTurn();
      assert.equal(lines.filter((l) => l.includes(' start: ')).length, 1, 'the start-up line is printed once');
    } finally {
      await provider.shutdown();
      await server.close();
    }
  });

  test('in the documented NodeSDK set-up, OTEL_LOG_LEVEL=warn shows configuration problems on the console', async () => {
    const cases: [Record<string, string>, RegExp[]][] = [
      [{}, [/disabled: no PostHog API key: set POSTHOG_API_KEY/]],
      [
        { POSTHOG_API_KEY: 'phx_personalNodeSdkSecret', POSTHOG_OTEL_FLUSH_ON_EXIT: 'nope' },
        [
          /disabled: the API key is a personal API key/,
          /POSTHOG_OTEL_FLUSH_ON_EXIT is ignored: expected true\/false, 1\/0, yes\/no or on\/off, got "nope"\./,
        ],
      ],
      [
        { POSTHOG_API_KEY: 'phc_x', POSTHOG_HOST: 'https//eu.i.posthog.com' },
        [/disabled: the PostHog host "https\/\/eu\.i\.posthog\.com" is not usable/],
      ],
    ];
    const runs = await Promise.all(cases.map(([env]) => runChild([QUICK_START], { env: { OTEL_LOG_LEVEL: 'warn', ...env } })));
    for (const [i, [, expected]] of cases.entries()) {
      const run = runs[i]!;
      assert.equal(run.code, 0, run.stderr);
      for (const message of expected) assert.match(run.stderr, message);
      assert.ok(!run.stderr.includes('personalNodeSdkSecret'), run.stderr);
    }
  });
});

describe('no key in any configuration message', () => {
  test('a key put in the wrong variable, or in the host, is hidden from warnings, errors and the start-up line', async () => {
    const secret = 'phc_wrongPlaceSecret0123456789abcdefghijklmnop';
    const lines: string[] = [];
    const processor = new PostHogLogRecordProcessor(
      { debug: true },
      {
        env: {
          POSTHOG_API_KEY: secret,
          POSTHOG_OTEL_TIMEOUT: secret,
          POSTHOG_OTEL_LOG_RECORDS: secret,
          POSTHOG_HOST: `https://proxy.example/${secret}/`,
          POSTHOG_OTEL_DEBUG: 'true',
        },
        print: (line) => lines.push(line),
      },
    );
    const exporter = new PostHogLogRecordExporter(
      { dryRun: true },
      {
        env: { POSTHOG_PROJECT_TOKEN: 'phx_personal9876543210', POSTHOG_CAPTURE_COMPRESSION: 'phx_personal9876543210' },
        print: (line) => lines.push(line),
      },
    );
    const d = recordDiag();
    try {
      await nextTurn();
      const all = [...lines, ...d.messages].join('\n');
      assert.ok(
        d.messages.some((m) => m.startsWith('warn: POSTHOG_OTEL_TIMEOUT is ignored')),
        all,
      );
      assert.ok(
        lines.some((l) => l.includes('start: enabled; host https://proxy.example/')),
        all,
      );
      for (const fragment of ['wrongPlaceSecret', 'personal9876543210']) assert.ok(!all.includes(fragment), all);
    } finally {
      d.stop();
      await Promise.all([processor.shutdown(), exporter.shutdown()]);
    }
  });
});

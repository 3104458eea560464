// Configuration reaching a running processor, end to end: a missing or personal key, bad variables,
// refused headers, OTEL_BLRP_* sizing and timing, code over environment, and compression, each
// observed on what the fake capture server receives and on OpenTelemetry's diag output.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Environment } from '../src/config/env.ts';
import type { PostHogLogRecordProcessorOptions } from '../src/config/options.ts';
import { PostHogLogRecordProcessor } from '../src/log-record-processor.ts';
import { assertAcceptedOnce, assertIdentity, names } from './support/accounting.ts';
import { nextTurn, withDiag } from './support/diag-capture.ts';
import { emitEvents, newProvider, withServer, zeroStats } from './support/hand-wired.ts';
import { withPipeline } from './support/pipeline.ts';

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

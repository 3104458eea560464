// The flush on beforeExit: a short script that never calls shutdown() still delivers its events.
// The scripts run in child processes (as a user runs them) against the fake capture server.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { PostHogLogRecordProcessor } from '../../src/log-record-processor.ts';
import { runChild, type ChildRun } from '../support/child-process.ts';
import { closedPort } from '../support/closed-port.ts';
import { FakeCaptureServer } from '../support/fake-capture-server.ts';

const QUICK_START = fileURLToPath(new URL('../fixtures/quick-start-child.ts', import.meta.url));

function assertExitedCleanly(run: ChildRun): void {
  assert.deepEqual({ code: run.code, signal: run.signal }, { code: 0, signal: null }, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
}

describe('flush on exit', () => {
  let server: FakeCaptureServer;
  const env = (extra: Record<string, string> = {}) => ({
    POSTHOG_API_KEY: server.apiKey,
    POSTHOG_HOST: server.url,
    OTEL_LOG_LEVEL: 'warn',
    ...extra,
  });

  before(async () => {
    server = await FakeCaptureServer.start();
  });
  after(async () => {
    await server.close();
  });

  test('a script that ends without shutdown delivers its event', async () => {
    server.reset();
    const run = await runChild([QUICK_START], { env: env() });
    assertExitedCleanly(run);
    assert.equal(run.stderr, '');
    assert.deepEqual(
      server.acceptedEvents().map((e) => `${e.event} ${e.distinct_id}`),
      ['script_ran u-1'],
    );
    assert.equal(server.requests.length, 1);
  });

  test('POSTHOG_OTEL_FLUSH_ON_EXIT=off turns it off: the script exits with its event unsent', async () => {
    server.reset();
    const run = await runChild([QUICK_START], { env: env({ POSTHOG_OTEL_FLUSH_ON_EXIT: 'off' }) });
    assertExitedCleanly(run);
    assert.equal(run.stderr, '');
    assert.equal(server.requests.length, 0);
  });

  test('the exit flush is bounded by the flush timeout, and says what it could not deliver', async () => {
    server.reset();
    server.setDefault({ hang: true });
    try {
      const run = await runChild([QUICK_START], { env: env({ POSTHOG_OTEL_FLUSH_TIMEOUT: '300' }) });
      assertExitedCleanly(run);
      assert.ok(server.requests.length >= 1, 'the flush tried');
      assert.match(
        run.stderr,
        /flush at exit: 1 event\(s\) not delivered within flushTimeoutMillis \(300 ms\); they are lost if the process exits now\. Set spoolDir to keep them for the next start\./,
      );
    } finally {
      server.setDefault({});
    }
  });

  test('with PostHog unreachable, the exit flush stops at once and names the cause, not the time budget', async () => {
    const closed = await closedPort();
    const run = await runChild([QUICK_START], {
      env: { ...env({ POSTHOG_OTEL_FLUSH_TIMEOUT: '30000' }), POSTHOG_HOST: `http://127.0.0.1:${closed}` },
    });
    assertExitedCleanly(run);
    assert.match(
      run.stderr,
      /flush at exit: 1 event\(s\) not delivered: PostHog cannot be reached, [^;]*\(ECONNREFUSED\); they are lost if the process exits now\./,
    );
    assert.doesNotMatch(run.stderr, /flushTimeoutMillis/);
  });

  test('with PostHog answering 503, the exit flush says PostHog is not taking events, with the status', async () => {
    server.reset();
    server.setDefault({ status: 503 });
    try {
      const run = await runChild([QUICK_START], { env: env({ POSTHOG_OTEL_FLUSH_TIMEOUT: '30000' }) });
      assertExitedCleanly(run);
      assert.ok(server.requests.length >= 1, 'the flush tried');
      assert.match(run.stderr, /flush at exit: 1 event\(s\) not delivered: PostHog is not taking events, HTTP 503; they are lost/);
      assert.doesNotMatch(run.stderr, /cannot be reached|flushTimeoutMillis/);
    } finally {
      server.setDefault({});
    }
  });
});

describe('flushAtExit', () => {
  test('flushes once for the records that arrived since the last exit flush, never again for the same ones', async () => {
    const server = await FakeCaptureServer.start();
    const processor = new PostHogLogRecordProcessor(
      { scheduledDelayMillis: 60_000 },
      { env: { POSTHOG_API_KEY: server.apiKey, POSTHOG_HOST: server.url } },
    );
    const provider = new LoggerProvider({ resource: resourceFromAttributes({}), processors: [processor] });
    try {
      assert.equal(processor.flushAtExit(), undefined, 'nothing emitted: no flush');
      provider.getLogger('t').emit({ eventName: 'first' });
      const flush = processor.flushAtExit();
      assert.ok(flush instanceof Promise);
      await flush;
      assert.deepEqual(
        server.acceptedEvents().map((e) => e.event),
        ['first'],
      );
      assert.equal(processor.flushAtExit(), undefined, 'nothing new: no second flush');

      provider.getLogger('t').emit({ eventName: 'second' });
      await processor.flushAtExit();
      assert.deepEqual(
        server.acceptedEvents().map((e) => e.event),
        ['first', 'second'],
      );
      assert.equal(processor.flushAtExit(), undefined);
    } finally {
      await provider.shutdown();
      await server.close();
    }
    provider.getLogger('t').emit({ eventName: 'after_shutdown' });
    assert.equal(processor.flushAtExit(), undefined, 'a shut down processor never flushes at exit');
  });

  test('an enabled pipeline registers until shutdown; a disabled one, or flushOnExit: false, never does', async () => {
    const env = { POSTHOG_API_KEY: 'phc_x', POSTHOG_HOST: 'http://127.0.0.1:9' };
    // The test runner has a listener of its own; the pipelines of earlier tests are shut down.
    const others = process.listenerCount('beforeExit');
    const disabled = new PostHogLogRecordProcessor({}, { env: {} });
    const off = new PostHogLogRecordProcessor({ flushOnExit: false }, { env });
    assert.equal(process.listenerCount('beforeExit'), others);
    const on = new PostHogLogRecordProcessor({}, { env });
    const dryRun = new PostHogLogRecordProcessor({ dryRun: true }, { env: {} });
    assert.equal(process.listenerCount('beforeExit'), others + 1, 'one listener for every pipeline');
    await on.shutdown();
    assert.equal(process.listenerCount('beforeExit'), others + 1, 'the dry run is still registered');
    await dryRun.shutdown();
    assert.equal(process.listenerCount('beforeExit'), others);
    await Promise.all([disabled.shutdown(), off.shutdown()]);
  });
});

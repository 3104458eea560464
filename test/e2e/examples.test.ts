// Runs each example in examples/ as a user would (`node examples/<name>`, configured only by
// environment) against the fake capture server, and checks exactly which events PostHog accepted.
// The examples import the package by name, so they run against the build in dist/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../support/built-package.ts';
import { runChild, type ChildRun } from '../support/child-process.ts';
import { closedPort } from '../support/closed-port.ts';
import { FakeCaptureServer } from '../support/fake-capture-server.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** `node examples/<name>` from the repository root, as a user runs it; fails if it has not exited within 20 s. */
function runExample(name: string, env: Record<string, string>): Promise<ChildRun> {
  return runChild([`examples/${name}`], { cwd: REPO, env });
}

function assertExitedCleanly(run: ChildRun): void {
  assert.deepEqual({ code: run.code, signal: run.signal }, { code: 0, signal: null }, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
}

/** Every request the server got was valid and answered 200. */
function assertAllRequestsAccepted(server: FakeCaptureServer): void {
  for (const request of server.requests) {
    assert.deepEqual(request.validation, { ok: true });
    assert.equal(request.responseStatus, 200);
  }
}

/** An event without its random parts (uuid, timestamp), for exact comparison. */
function stable(event: CaptureEvent): Omit<CaptureEvent, 'uuid' | 'timestamp'> {
  const { uuid, timestamp, ...rest } = event;
  assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(Number.isFinite(Date.parse(timestamp)), `timestamp ${timestamp}`);
  return rest;
}

/** The default resource's service name (`unknown_service:<node>`), checked and removed. */
function withoutUnknownServiceName(event: Omit<CaptureEvent, 'uuid' | 'timestamp'>): Omit<CaptureEvent, 'uuid' | 'timestamp'> {
  const { service_name: serviceName, ...properties } = event.properties ?? {};
  assert.match(String(serviceName), /^unknown_service:/);
  return { ...event, properties };
}

interface SinkRequest {
  method: string;
  path: string;
  body: string;
}

/** A tiny OTLP/HTTP collector that accepts everything. */
async function startOtlpSink(): Promise<{ url: string; requests: SinkRequest[]; close(): Promise<void> }> {
  const requests: SinkRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

before(() => ensureBuilt(REPO));

describe("the README's guide code is the examples' code", () => {
  const readme = readFileSync(`${REPO}README.md`, 'utf8');
  /** The fenced block whose first line is `// <name>`, without that line. */
  const block = (name: string): string => {
    const match = new RegExp('```(?:ts|js)\\n// ' + name.replace(/[.]/g, '\\.') + '\\n([\\s\\S]*?)```').exec(readme);
    assert.ok(match, `the README has a block for ${name}`);
    return match[1]!;
  };
  const cases: [string, string][] = [
    ['instrumentation.ts', 'examples/nextjs/instrumentation.ts'],
    ['instrumentation.node.ts', 'examples/nextjs/instrumentation.node.ts'],
    ['instrumentation.mjs', 'examples/zero-code/instrumentation.mjs'],
  ];
  for (const [name, file] of cases) {
    test(`every line of the README's ${name} is in ${file}, in order`, () => {
      const example = readFileSync(`${REPO}${file}`, 'utf8').split('\n');
      let at = 0;
      for (const line of block(name)
        .split('\n')
        .filter((l) => l.trim() !== '')) {
        const found = example.indexOf(line, at);
        assert.ok(found !== -1, `${file} lacks, or has out of order: ${line}`);
        at = found + 1;
      }
    });
  }
});

describe('examples', () => {
  let server: FakeCaptureServer;
  const env = () => ({ POSTHOG_API_KEY: server.apiKey, POSTHOG_HOST: server.url });

  before(async () => {
    server = await FakeCaptureServer.start({ apiKey: 'phc_examples' });
  });
  after(async () => {
    await server.close();
  });

  const fresh = () => server.reset();

  describe('nodesdk', () => {
    const expectedEvents = (traceId: string) => [
      {
        event: 'checkout_completed',
        distinct_id: 'user-42',
        options: {},
        properties: { service_name: 'shop', otel_scope_name: 'shop', 'user.id': 'user-42', amount: 99.5, $geoip_disable: true },
      },
      {
        event: 'payment_authorized',
        distinct_id: 'user-42',
        options: {},
        properties: {
          service_name: 'shop',
          $trace_id: traceId,
          otel_scope_name: 'shop',
          otel_span_name: 'checkout',
          provider: 'card',
          $geoip_disable: true,
        },
      },
      {
        event: '$exception',
        distinct_id: 'user-42',
        options: {},
        properties: {
          service_name: 'shop',
          $trace_id: traceId,
          severity_number: 17,
          severity_text: 'ERROR',
          otel_scope_name: 'shop',
          otel_span_name: 'checkout',
          $geoip_disable: true,
          $exception_level: 'error',
          $exception_list: [
            {
              type: 'Error',
              value: 'receipt email failed',
              mechanism: { type: 'generic', handled: true, synthetic: false, exception_id: 0 },
            },
          ],
        },
      },
    ];

    /** The accepted events with span ids and stack frames checked, then left out. */
    function normalized(events: CaptureEvent[]): { traceId: string; events: unknown[] } {
      const traceId = String(events[1]?.properties?.$trace_id);
      assert.match(traceId, /^[0-9a-f]{32}$/);
      const out = events.map((event) => {
        const { $span_id: spanId, ...properties } = event.properties ?? {};
        if (event.event !== 'checkout_completed') assert.match(String(spanId), /^[0-9a-f]{16}$/);
        const list = properties.$exception_list as { stacktrace?: { type: string; frames: { filename: string }[] } }[] | undefined;
        if (list !== undefined) {
          const [first] = list;
          assert.equal(first?.stacktrace?.type, 'raw');
          assert.ok(
            first.stacktrace.frames.some((frame) => frame.filename.endsWith('examples/nodesdk.js')),
            'a frame in examples/nodesdk.js',
          );
          properties.$exception_list = list.map(({ stacktrace: _stacktrace, ...rest }) => rest);
        }
        return { ...stable(event), properties };
      });
      return { traceId, events: out };
    }

    test('log record and span events reach PostHog; the span reaches the OTLP collector', async () => {
      fresh();
      const sink = await startOtlpSink();
      try {
        const run = await runExample('nodesdk', { ...env(), OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
        assertExitedCleanly(run);
        assert.equal(run.stderr, '');
        assertAllRequestsAccepted(server);

        const { traceId, events } = normalized(server.acceptedEvents());
        assert.deepEqual(events, expectedEvents(traceId));

        const traces = sink.requests.filter((r) => r.path === '/v1/traces');
        assert.deepEqual(
          sink.requests.map((r) => `${r.method} ${r.path}`),
          ['POST /v1/traces'],
        );
        const spans = (
          JSON.parse(traces[0]!.body) as {
            resourceSpans: { scopeSpans: { spans: { name: string; traceId: string; events: { name: string }[] }[] }[] }[];
          }
        ).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
        assert.deepEqual(
          spans.map((s) => ({ name: s.name, traceId: s.traceId, events: s.events.map((e) => e.name) })),
          [{ name: 'checkout', traceId, events: ['payment_authorized', 'exception'] }],
        );
      } finally {
        await sink.close();
      }
    });

    test('an unreachable collector loses only the traces', async () => {
      fresh();
      const port = await closedPort();
      const run = await runExample('nodesdk', {
        ...env(),
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
      });
      assertExitedCleanly(run);
      assert.match(run.stderr, /^shutdown: /);
      assertAllRequestsAccepted(server);
      const { traceId, events } = normalized(server.acceptedEvents());
      assert.deepEqual(events, expectedEvents(traceId));
    });
  });

  test('logger-provider: records with an event name become events, the plain line does not', async () => {
    fresh();
    const run = await runExample('logger-provider', env());
    assertExitedCleanly(run);
    assert.equal(run.stderr, '');
    assertAllRequestsAccepted(server);
    assert.deepEqual(server.acceptedEvents().map(stable), [
      {
        event: 'subscription_started',
        distinct_id: 'user-7',
        options: {},
        properties: {
          service_name: 'billing',
          otel_scope_name: 'billing',
          'user.id': 'user-7',
          plan: 'pro',
          seats: 5,
          $geoip_disable: true,
        },
      },
      {
        event: 'invoice_paid',
        distinct_id: 'user-7',
        options: {},
        properties: { service_name: 'billing', otel_scope_name: 'billing', amount_cents: 4900, $geoip_disable: true },
      },
    ]);
  });

  test('pino: only the lines marked with posthog.event become events; every line is still printed', async () => {
    fresh();
    const run = await runExample('pino', env());
    assertExitedCleanly(run);
    assert.equal(run.stderr, '');
    assertAllRequestsAccepted(server);

    const printed = run.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    assert.deepEqual(printed, ['hello', 'user signed up', 'quota almost used', 'disk almost full']);

    const events = server.acceptedEvents();
    assert.deepEqual(
      events.map((e) => e.properties?.body),
      ['user signed up', 'quota almost used'],
      'the plain lines "hello" and "disk almost full" are not events',
    );
    const scope = '@opentelemetry/instrumentation-pino';
    assert.deepEqual(events.map(stable).map(withoutUnknownServiceName), [
      {
        event: 'signup_completed',
        distinct_id: 'u1',
        options: {},
        properties: {
          severity_number: 9,
          severity_text: 'info',
          body: 'user signed up',
          otel_scope_name: scope,
          'user.id': 'u1',
          plan: 'free',
          $geoip_disable: true,
        },
      },
      {
        event: 'quota_warning',
        distinct_id: 'u1',
        options: {},
        properties: {
          severity_number: 13,
          severity_text: 'warn',
          body: 'quota almost used',
          otel_scope_name: scope,
          'user.id': 'u1',
          used: 0.9,
          $geoip_disable: true,
        },
      },
    ]);
  });

  test('http-identity: both events of the request carry the distinct id and session from its headers', async () => {
    fresh();
    const run = await runExample('http-identity', env());
    assertExitedCleanly(run);
    assert.equal(run.stdout, '200 ok\n\n');
    assert.equal(run.stderr, '');
    assertAllRequestsAccepted(server);
    const session = '01960000-0000-7000-8000-000000000001';
    assert.deepEqual(server.acceptedEvents().map(stable).map(withoutUnknownServiceName), [
      {
        event: 'report_requested',
        distinct_id: 'user-123',
        session_id: session,
        options: {},
        properties: { otel_scope_name: 'reports', format: 'csv', $geoip_disable: true },
      },
      {
        event: 'report_exported',
        distinct_id: 'user-123',
        session_id: session,
        options: {},
        properties: { otel_scope_name: 'reports', rows: 120, $geoip_disable: true },
      },
    ]);
  });

  describe('winston', () => {
    const expected = [
      {
        event: 'signup_completed',
        distinct_id: 'u1',
        options: {},
        properties: {
          service_name: 'accounts',
          severity_number: 9,
          severity_text: 'info',
          body: 'user signed up',
          otel_scope_name: '@opentelemetry/winston-transport',
          'user.id': 'u1',
          plan: 'free',
          $geoip_disable: true,
        },
      },
      {
        event: 'quota_warning',
        distinct_id: 'u1',
        options: {},
        properties: {
          service_name: 'accounts',
          severity_number: 13,
          severity_text: 'warn',
          body: 'quota almost used',
          otel_scope_name: '@opentelemetry/winston-transport',
          'user.id': 'u1',
          used: 0.9,
          $geoip_disable: true,
        },
      },
    ];

    test('on OpenTelemetry 3.x, with the api-logs bridge: the marked lines become events, every line is printed', async () => {
      fresh();
      const run = await runExample('winston', env());
      assertExitedCleanly(run);
      assert.equal(run.stderr, '');
      assert.deepEqual(
        run.stdout
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { message: string }).message),
        ['user signed up', 'cache warmed', 'quota almost used'],
      );
      assertAllRequestsAccepted(server);
      assert.deepEqual(server.acceptedEvents().map(stable), expected);
    });

    test('without the bridge line, winston-transport sends nothing: the reason the guide has it', async () => {
      fresh();
      const source = readFileSync(`${REPO}examples/winston.js`, 'utf8');
      const bridge = 'apiLogs.setGlobalLoggerProvider(logs.getLoggerProvider());\n';
      assert.ok(source.includes(bridge), 'the example has the bridge line');
      // Beside the example, so that it resolves the same packages.
      const copy = 'examples/.winston-without-bridge.js';
      writeFileSync(`${REPO}${copy}`, source.replace(bridge, ''));
      try {
        const run = await runChild([copy], { cwd: REPO, env: env() });
        assertExitedCleanly(run);
        assert.equal(run.stdout.trim().split('\n').length, 3, 'winston still prints every line');
        assert.equal(server.requests.length, 0);
      } finally {
        rmSync(`${REPO}${copy}`, { force: true });
      }
    });
  });

  test('zero-code: instrumentation.mjs loaded with --import sends the events of an application that only uses the API', async () => {
    fresh();
    const sink = await startOtlpSink();
    try {
      const run = await runChild(['--import', './examples/zero-code/instrumentation.mjs', 'examples/zero-code/app.mjs'], {
        cwd: REPO,
        env: { ...env(), OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'jobs' },
      });
      assertExitedCleanly(run);
      assert.equal(run.stderr, '');
      assertAllRequestsAccepted(server);
      const events = server.acceptedEvents().map(stable);
      const traceId = String(events[1]?.properties?.$trace_id);
      assert.match(traceId, /^[0-9a-f]{32}$/);
      assert.match(String(events[1]?.properties?.$span_id), /^[0-9a-f]{16}$/);
      assert.deepEqual(events, [
        {
          event: 'report_generated',
          distinct_id: 'user-3',
          options: {},
          properties: { service_name: 'jobs', otel_scope_name: 'jobs', 'user.id': 'user-3', rows: 120, $geoip_disable: true },
        },
        {
          event: 'export_uploaded',
          distinct_id: 'user-3',
          options: {},
          properties: {
            service_name: 'jobs',
            $trace_id: traceId,
            $span_id: events[1]?.properties?.$span_id,
            otel_scope_name: 'jobs',
            otel_span_name: 'export',
            'user.id': 'user-3',
            bytes: 2048,
            $geoip_disable: true,
          },
        },
      ]);
      assert.deepEqual(
        sink.requests.map((r) => `${r.method} ${r.path}`),
        ['POST /v1/traces'],
        'the trace reaches the collector too',
      );
    } finally {
      await sink.close();
    }
  });

  test('serverless: each invocation is flushed at its end, in its own request', async () => {
    fresh();
    const run = await runExample('serverless', env());
    assertExitedCleanly(run);
    assert.equal(run.stderr, '');
    assert.match(
      run.stdout,
      /^\{ statusCode: 201, body: '\{"orderId":"order-1"\}' \} \d+ ms\n\{ statusCode: 201, body: '\{"orderId":"order-2"\}' \} \d+ ms\n$/,
    );
    assertAllRequestsAccepted(server);
    // Nothing shuts the provider down: without withFlush the batch (1 s delay) would never be sent.
    const perRequest = server.requests.map((request) =>
      request.events.map((e) => `${e.event} ${e.distinct_id} ${String(e.properties?.order_id)}`),
    );
    assert.deepEqual(perRequest, [['order_placed user-1 order-1'], ['order_placed user-2 order-2']]);
    assert.deepEqual(server.acceptedEvents().map(stable).map(withoutUnknownServiceName), [
      {
        event: 'order_placed',
        distinct_id: 'user-1',
        options: {},
        properties: { otel_scope_name: 'orders-fn', 'user.id': 'user-1', order_id: 'order-1', $geoip_disable: true },
      },
      {
        event: 'order_placed',
        distinct_id: 'user-2',
        options: {},
        properties: { otel_scope_name: 'orders-fn', 'user.id': 'user-2', order_id: 'order-2', $geoip_disable: true },
      },
    ]);
  });
});

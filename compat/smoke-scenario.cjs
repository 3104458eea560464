'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS, so that both smoke entries can load it */
// The end-to-end scenario that both smoke entries (otel2-smoke.mjs and otel2-smoke.cjs) run:
// real OpenTelemetry providers of whichever line is installed beside them, our processors from the
// packed package, and the repo's fake capture server. The entries load the modules their own way
// (import or require) and pass them in, so this file tests nothing about module loading itself.
const assert = require('node:assert/strict');

const SEVERITY_ERROR = 17;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * @param {object} m
 * @param {object} m.posthog   `opentelemetry-exporter-posthog`
 * @param {object} m.api       `@opentelemetry/api`
 * @param {object} m.sdkLogs   `@opentelemetry/sdk-logs`
 * @param {object} m.resources `@opentelemetry/resources`
 * @param {Function} m.TracerProvider BasicTracerProvider (sdk-trace-base 2.x) or TracerProvider (sdk-trace 3.x)
 * @param {object} m.FakeCaptureServer from test/support/fake-capture-server.ts
 * @returns {Promise<{ events: number, requests: number }>}
 */
async function runSmoke({ posthog, api, sdkLogs, resources, TracerProvider, FakeCaptureServer }) {
  // Our processors never throw into the SDK: they report through diag. Collect what they report.
  const diagnostics = [];
  const collect =
    (level) =>
    (message, ...args) =>
      diagnostics.push(`${level}: ${message} ${args.map(String).join(' ')}`.trim());
  api.diag.setLogger({ error: collect('error'), warn: collect('warn'), info() {}, debug() {}, verbose() {} }, api.DiagLogLevel.WARN);

  const server = await FakeCaptureServer.start();
  let loggerProvider;
  let tracerProvider;
  let shutDown = false;
  try {
    const resource = resources.resourceFromAttributes({ 'service.name': 'compat-smoke' });
    const processor = new posthog.PostHogLogRecordProcessor({ apiKey: server.apiKey, host: server.url, logRecords: 'events' });
    const spanProcessor = new posthog.PostHogSpanEventProcessor({ processor });
    loggerProvider = new sdkLogs.LoggerProvider({ resource, processors: [processor] });
    tracerProvider = new TracerProvider({ resource, spanProcessors: [spanProcessor] });
    const logger = loggerProvider.getLogger('compat-smoke');
    const tracer = tracerProvider.getTracer('compat-smoke');

    // Log records: an event, a plain line (not an event), an exception inside a span, an identity from the context.
    logger.emit({ eventName: 'subscription_started', attributes: { 'user.id': 'user-7', plan: 'pro', seats: 5 } });
    logger.emit({ body: 'cache warmed' });
    const span = tracer.startSpan(
      'checkout',
      {},
      posthog.setPostHogIdentity(api.ROOT_CONTEXT, { distinctId: 'user-9', sessionId: 'session-1' }),
    );
    const { traceId, spanId } = span.spanContext();
    logger.emit({
      severityNumber: SEVERITY_ERROR,
      severityText: 'ERROR',
      body: 'payment failed',
      attributes: {
        'user.id': 'user-8',
        'exception.type': 'TypeError',
        'exception.message': 'card declined',
        'exception.stacktrace': 'TypeError: card declined\n    at pay (/app/billing.js:10:5)\n    at main (/app/index.js:3:1)',
      },
      context: api.trace.setSpan(api.ROOT_CONTEXT, span),
    });
    logger.emit({
      eventName: 'invoice_paid',
      attributes: { amount_cents: 4900 },
      context: posthog.setPostHogIdentity(api.ROOT_CONTEXT, { distinctId: 'user-10' }),
    });

    // Span events: one added, one recorded exception; both get the identity of the span's start context.
    span.addEvent('checkout_completed', { total_cents: 4200 });
    span.recordException(new RangeError('out of stock'));
    span.end();

    await loggerProvider.forceFlush();
    await tracerProvider.forceFlush();

    assert.deepEqual(
      server.requests.filter((r) => !r.validation.ok).map((r) => r.validation),
      [],
      'every request passes the server validation',
    );
    const events = server.acceptedEvents();
    const byKey = new Map(events.map((e) => [`${e.event} ${e.distinct_id}`, e]));
    assert.deepEqual(
      [...byKey.keys()].sort(),
      ['$exception user-8', '$exception user-9', 'checkout_completed user-9', 'invoice_paid user-10', 'subscription_started user-7'],
      'the accepted events (name and distinct_id)',
    );
    assert.equal(events.length, 5, 'no event twice');
    for (const e of events) {
      assert.match(e.uuid, UUID_RE);
      assert.equal(e.properties.service_name, 'compat-smoke');
      assert.equal(e.properties.$geoip_disable, true);
      assert.equal(e.properties.otel_scope_name, 'compat-smoke');
    }

    const started = byKey.get('subscription_started user-7');
    assert.equal(started.properties.plan, 'pro');
    assert.equal(started.properties.seats, 5);
    assert.equal(started.properties.$trace_id, undefined, 'no span, no trace id');

    assert.equal(byKey.get('invoice_paid user-10').properties.amount_cents, 4900);

    const logException = byKey.get('$exception user-8');
    assert.equal(logException.properties.$trace_id, traceId);
    assert.equal(logException.properties.$span_id, spanId);
    assert.equal(logException.properties.$exception_level, 'error');
    assert.equal(logException.properties.body, 'payment failed');
    const [logEntry, ...logRest] = logException.properties.$exception_list;
    assert.deepEqual(logRest, []);
    assert.equal(logEntry.type, 'TypeError');
    assert.equal(logEntry.value, 'card declined');
    assert.deepEqual(logEntry.mechanism, { type: 'generic', handled: true, synthetic: false, exception_id: 0 });
    assert.deepEqual(
      logEntry.stacktrace.frames.map((f) => [f.function, f.lineno]),
      [
        ['main', 3],
        ['pay', 10],
      ],
      'frames, oldest call first',
    );
    assert.equal('exception.type' in logException.properties, false);

    const completed = byKey.get('checkout_completed user-9');
    assert.equal(completed.properties.$trace_id, traceId);
    assert.equal(completed.properties.$span_id, spanId);
    assert.equal(completed.properties.otel_span_name, 'checkout');
    assert.equal(completed.properties.total_cents, 4200);
    assert.equal(completed.session_id, 'session-1');

    const spanException = byKey.get('$exception user-9');
    assert.equal(spanException.properties.$trace_id, traceId);
    assert.equal(spanException.session_id, 'session-1');
    const [spanEntry] = spanException.properties.$exception_list;
    assert.equal(spanEntry.type, 'RangeError');
    assert.equal(spanEntry.value, 'out of stock');
    assert.ok(spanEntry.stacktrace.frames.length > 0, 'the real stack is parsed');

    const stats = processor.getStats();
    const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
    assert.equal(stats.emitted, 6, 'four log records and two span events were offered');
    assert.equal(stats.selected, 5, 'the plain line is not an event');
    assert.equal(stats.delivered, 5);
    assert.equal(dropped, 0);
    assert.equal(stats.pending, 0);
    assert.equal(stats.selected, stats.delivered + dropped + stats.pending, 'the stats identity');
    assert.equal(stats.requests, server.requests.length);

    shutDown = true;
    await tracerProvider.shutdown();
    await loggerProvider.shutdown();
    assert.deepEqual(diagnostics, [], 'no warning or error reported through diag');
    return { events: events.length, requests: server.requests.length };
  } finally {
    if (!shutDown) {
      await tracerProvider?.shutdown().catch(() => {});
      await loggerProvider?.shutdown().catch(() => {});
    }
    await server.close();
    api.diag.disable();
  }
}

module.exports = { runSmoke };

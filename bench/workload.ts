// The benchmark workload: log records an application would emit as product events, and the same
// events in the shapes each contender needs (OTel LogRecord, posthog-node capture() message,
// PostHog capture v1 event). Every contender gets the same record i for the same index.

import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, SeverityNumber, TraceFlags, trace, type Attributes, type Context, type LogRecord } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';

export const BENCH_API_KEY = 'phc_bench';
/** Records per export batch, for every contender (BLRP maxExportBatchSize, posthog-node maxBatchSize, floor). */
export const BATCH_SIZE = 512;
export const SCOPE_NAME = 'checkout-service';

/** A typical service resource, built without detectors so every run sees the same one. */
export const RESOURCE_ATTRIBUTES: Attributes = {
  'service.name': 'checkout-api',
  'service.version': '2.14.1',
  'service.namespace': 'shop',
  'service.instance.id': '6f1c2a9e-3b1d-4f7a-9a55-0c2f8d1e7b42',
  'deployment.environment.name': 'production',
  'host.name': 'ip-10-0-12-34.eu-west-1.compute.internal',
  'host.arch': 'amd64',
  'os.type': 'linux',
  'process.pid': 41237,
  'process.runtime.name': 'nodejs',
  'process.runtime.version': '24.11.0',
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.language': 'nodejs',
  'telemetry.sdk.version': '3.1.1',
  'cloud.provider': 'aws',
  'cloud.region': 'eu-west-1',
};

export function benchResource(): Resource {
  return resourceFromAttributes(RESOURCE_ATTRIBUTES);
}

const EVENT_NAMES = ['checkout_completed', 'page_viewed', 'signup_started', 'item_added_to_cart', 'search_performed'];
const PLANS = ['free', 'pro', 'enterprise'];
const ROUTES = ['/api/checkout/:id', '/api/cart', '/api/search', '/api/signup'];
const FLAGS = [['new-checkout', 'fast-search'], ['new-checkout'], ['fast-search', 'one-click', 'dark-mode']];
const USERS = 5_000;

/** 1,000 trace contexts, cycled: a record carries the trace context of the request that emitted it. */
const TRACE_POOL = 1_000;
const spanContexts: { traceId: string; spanId: string }[] = [];
const contexts: Context[] = [];
for (let i = 0; i < TRACE_POOL; i++) {
  const traceId = randomUUID().replace(/-/g, '');
  const spanId = randomUUID().replace(/-/g, '').slice(0, 16);
  spanContexts.push({ traceId, spanId });
  contexts.push(trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false }));
}

/** The 10 attributes of record i: strings, integers, doubles, a boolean and a string array. */
export function recordAttributes(i: number): Attributes {
  return {
    'user.id': `user_${i % USERS}`,
    'http.route': ROUTES[i % ROUTES.length],
    'http.response.status_code': i % 50 === 0 ? 500 : 200,
    duration_ms: 12.345 + (i % 100) * 0.731,
    'cart.items': i % 12,
    'cart.value': 19.99 + (i % 40) * 2.5,
    is_returning: i % 3 === 0,
    'feature.flags': FLAGS[i % FLAGS.length],
    plan: PLANS[i % PLANS.length],
    'request.id': `req_${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}`,
  };
}

export function eventName(i: number): string {
  return EVENT_NAMES[i % EVENT_NAMES.length]!;
}

export function recordBody(i: number): string {
  return `user_${i % USERS} finished step ${i % 17} of the checkout flow`;
}

/** Record i as an OpenTelemetry log record (`logger.emit` argument). */
export function logRecord(i: number): LogRecord {
  return {
    eventName: eventName(i),
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: recordBody(i),
    attributes: recordAttributes(i),
    context: contexts[i % TRACE_POOL]!,
  };
}

export function traceOf(i: number): { traceId: string; spanId: string } {
  return spanContexts[i % TRACE_POOL]!;
}

/**
 * The event properties our mapping produces for record i (default resource rule: service.version,
 * service.namespace, deployment.environment.name, plus service_name; trace ids; severity; body;
 * scope; the attributes; $geoip_disable). Used for the posthog-node messages and the floor, so all
 * three carry the same data.
 */
export function eventProperties(i: number): Record<string, unknown> {
  const { traceId, spanId } = traceOf(i);
  return {
    'service.version': RESOURCE_ATTRIBUTES['service.version'],
    'service.namespace': RESOURCE_ATTRIBUTES['service.namespace'],
    'deployment.environment.name': RESOURCE_ATTRIBUTES['deployment.environment.name'],
    service_name: RESOURCE_ATTRIBUTES['service.name'],
    $trace_id: traceId,
    $span_id: spanId,
    severity_number: SeverityNumber.INFO,
    severity_text: 'INFO',
    body: recordBody(i),
    otel_scope_name: SCOPE_NAME,
    ...recordAttributes(i),
    $geoip_disable: true,
  };
}

export function distinctId(i: number): string {
  return `user_${i % USERS}`;
}

/** Record i as a capture v1 event, shaped as our exporter sends it (the floor's payload). */
export function captureEvent(i: number, timeMillis: number): Record<string, unknown> {
  return {
    event: eventName(i),
    uuid: randomUUID(),
    distinct_id: distinctId(i),
    timestamp: new Date(timeMillis).toISOString(),
    options: {},
    properties: eventProperties(i),
  };
}

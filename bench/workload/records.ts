// Record i of the workload in the shape each contender takes: an OpenTelemetry log record
// (`logger.emit` argument), posthog-node capture() properties, a capture v1 event (the floor's).
// Every contender gets the same record i for the same index.

import { randomUUID } from 'node:crypto';
import { SeverityNumber, type Attributes, type LogRecord } from '@opentelemetry/api';
import { RESOURCE_ATTRIBUTES } from './resource.ts';
import { contextOf, traceOf } from './trace-contexts.ts';

export const BENCH_API_KEY = 'phc_bench';
/** Records per export batch, for every contender (BLRP maxExportBatchSize, posthog-node maxBatchSize, floor). */
export const BATCH_SIZE = 512;
export const SCOPE_NAME = 'checkout-service';

const EVENT_NAMES = ['checkout_completed', 'page_viewed', 'signup_started', 'item_added_to_cart', 'search_performed'];
const PLANS = ['free', 'pro', 'enterprise'];
const ROUTES = ['/api/checkout/:id', '/api/cart', '/api/search', '/api/signup'];
const FLAGS = [['new-checkout', 'fast-search'], ['new-checkout'], ['fast-search', 'one-click', 'dark-mode']];
const USERS = 5_000;

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
    'request.id': `req_${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}`,
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
    context: contextOf(i),
  };
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

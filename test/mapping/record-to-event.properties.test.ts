// Unit tests of what an event carries besides its identity: its uuid and timestamp, the record's
// attributes and body, trace context, the resource attributes each rule copies, $geoip_disable,
// and attributes named like properties the mapping sets itself.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, INVALID_SPAN_CONTEXT, SeverityNumber, trace, type Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { CaptureEvent } from '../../src/capture/types.ts';
import type { MappingSettings } from '../../src/config/sections.ts';
import { mapRecord, type MappingOutcome } from '../../src/mapping/record-to-event.ts';
import { DEFAULT_MAPPING, exceptionList, MAPPED_AT, only, RecordSource } from '../support/log-records.ts';

const TIME = new Date('2025-01-02T03:04:05.678Z');
const TIMESTAMP = '2025-01-02T03:04:05.678Z';
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuid and timestamp', () => {
  test('posthog.uuid is kept (canonical lower case) when valid; otherwise a UUIDv7 is generated', () => {
    const source = new RecordSource();
    const log = source.logger('app');
    const emit = (n: number, attributes: Attributes) =>
      log.emit({ eventName: 'e', timestamp: TIME, attributes: { 'user.id': 'u', n, ...attributes } });
    emit(0, { 'posthog.uuid': '0190F3C4-AAAA-7BBB-8CCC-0123456789AB' });
    emit(1, { 'posthog.uuid': '  0190f3c4-aaaa-7bbb-8ccc-0123456789ac ' });
    emit(2, { 'posthog.uuid': 'not-a-uuid' });
    emit(3, { 'posthog.uuid': 12345 });
    emit(4, {});
    emit(5, {});
    const events = source.events();
    assert.equal(events.length, 6);
    assert.equal(events[0]!.uuid, '0190f3c4-aaaa-7bbb-8ccc-0123456789ab');
    assert.equal(events[1]!.uuid, '0190f3c4-aaaa-7bbb-8ccc-0123456789ac');
    for (const event of events.slice(2)) assert.match(event.uuid, UUID_V7);
    assert.equal(new Set(events.map((e) => e.uuid)).size, 6);
    for (const event of events) assert.ok(!('posthog.uuid' in event.properties));
  });

  test('timestamp is the record time as UTC RFC 3339', () => {
    const source = new RecordSource();
    source.logger('app').emit({ eventName: 'from_date', timestamp: TIME });
    source.logger('app').emit({ eventName: 'from_millis', timestamp: Date.UTC(2024, 1, 29, 23, 59, 59, 1) });
    const span = source.tracer().startSpan('op');
    span.addEvent('from_span_event', TIME);
    span.end();
    const events = source.events();
    assert.deepEqual(
      events.map((e) => [e.event, e.timestamp]),
      [
        ['from_date', TIMESTAMP],
        ['from_millis', '2024-02-29T23:59:59.001Z'],
        ['from_span_event', TIMESTAMP],
      ],
    );
  });
});

describe('properties', () => {
  const resource = resourceFromAttributes({
    'service.name': 'checkout',
    'service.version': '1.2.3',
    'service.namespace': 'shop',
    'deployment.environment.name': 'prod',
    'host.name': 'web-1',
    'process.pid': 4321,
  });

  test('attributes are written the same whether one needs leaving out or converting, or none does', () => {
    const attributes = {
      plan: 'pro',
      'cart.items': 3,
      'cart.value': 19.5,
      returning: true,
      flags: ['a', 'b'],
      nothing: null,
      quote: 'say "hi"\n',
      '10': 'ten',
    };
    const source = new RecordSource();
    const log = source.logger('app');
    // Written as a whole (nothing to leave out or convert), then member by member (a control
    // attribute to leave out; a value to convert).
    log.emit({ eventName: 'whole', timestamp: TIME, attributes });
    log.emit({ eventName: 'one_by_one', timestamp: TIME, attributes: { ...attributes, 'posthog.distinct_id': 'u1' } });
    log.emit({ eventName: 'converted', timestamp: TIME, attributes: { ...attributes, ratio: Number.NaN } });
    const events = source.events();
    const whole = only(events, 'whole').properties;
    assert.deepEqual(whole, { otel_scope_name: 'app', ...attributes, $geoip_disable: true });
    assert.deepEqual(Object.entries(only(events, 'one_by_one').properties), Object.entries(whole));
    const { ratio, ...rest } = only(events, 'converted').properties;
    assert.equal(ratio, 'NaN');
    assert.deepEqual(Object.entries(rest), Object.entries(whole));
  });

  test('attributes keep keys and JSON shape; posthog.* removed; $set/$set_once/$groups pass through; $lib stripped', () => {
    const source = new RecordSource({ resource });
    source.logger('shop').emit({
      eventName: 'order_completed',
      timestamp: TIME,
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: 'order done',
      attributes: {
        'posthog.distinct_id': 'user-7',
        'posthog.session_id': 'sess-1',
        'posthog.something_else': 'control',
        'posthog.process_person_profile': 'true',
        amount: 12.5,
        items: 3,
        paid: true,
        nothing: null,
        tags: ['a', 'b'],
        matrix: [
          [1, 2],
          [3, 4],
        ],
        shipping: { address: { city: 'Lyon', zip: '69001' }, methods: ['post', { kind: 'express' }] },
        $set: { plan: 'pro', seats: 5 },
        $set_once: { first_plan: 'free' },
        $groups: { company: 'acme' },
        $lib: 'someone-else',
        $lib_version: '9.9.9',
      },
    });
    const [event, ...rest] = source.events();
    assert.deepEqual(rest, []);
    assert.deepEqual(event, {
      event: 'order_completed',
      uuid: event!.uuid,
      distinct_id: 'user-7',
      timestamp: TIMESTAMP,
      session_id: 'sess-1',
      options: { process_person_profile: true },
      properties: {
        service_name: 'checkout',
        'service.version': '1.2.3',
        'service.namespace': 'shop',
        'deployment.environment.name': 'prod',
        severity_number: SeverityNumber.INFO,
        severity_text: 'INFO',
        body: 'order done',
        otel_scope_name: 'shop',
        amount: 12.5,
        items: 3,
        paid: true,
        nothing: null,
        tags: ['a', 'b'],
        matrix: [
          [1, 2],
          [3, 4],
        ],
        shipping: { address: { city: 'Lyon', zip: '69001' }, methods: ['post', { kind: 'express' }] },
        $set: { plan: 'pro', seats: 5 },
        $set_once: { first_plan: 'free' },
        $groups: { company: 'acme' },
        $geoip_disable: true,
      },
    });
    assert.match(event!.uuid, UUID_V7);
  });

  test('body is kept only when it is a string', () => {
    const source = new RecordSource();
    const log = source.logger('app');
    log.emit({ body: 'text body', attributes: { n: 0 }, timestamp: TIME });
    log.emit({ body: { structured: true }, attributes: { n: 1 }, timestamp: TIME });
    log.emit({ body: 42, attributes: { n: 2 }, timestamp: TIME });
    const events = source.events();
    assert.deepEqual(
      events.map((e) => [e.properties.n, 'body' in e.properties ? e.properties.body : '<none>']),
      [
        [0, 'text body'],
        [1, '<none>'],
        [2, '<none>'],
      ],
    );
  });

  test('$trace_id / $span_id are present exactly when the record has a valid span context', () => {
    const source = new RecordSource();
    const log = source.logger('app');
    const span = source.tracer().startSpan('request');
    log.emit({ eventName: 'inside', timestamp: TIME, context: trace.setSpan(context.active(), span) });
    log.emit({ eventName: 'outside', timestamp: TIME });
    log.emit({
      eventName: 'invalid_context',
      timestamp: TIME,
      context: trace.setSpan(context.active(), trace.wrapSpanContext(INVALID_SPAN_CONTEXT)),
    });
    span.end();
    const events = source.events();
    const { traceId, spanId } = span.spanContext();
    assert.match(traceId, /^[0-9a-f]{32}$/);
    const inside = only(events, 'inside');
    assert.equal(inside.properties.$trace_id, traceId);
    assert.equal(inside.properties.$span_id, spanId);
    assert.ok(!('otel_span_name' in inside.properties), 'otel_span_name is for span events only');
    for (const name of ['outside', 'invalid_context']) {
      const event = only(events, name);
      assert.ok(!('$trace_id' in event.properties) && !('$span_id' in event.properties), name);
    }
  });

  test('resource attributes: default, all, none and a list', () => {
    const cases: Array<[Partial<MappingSettings>, Record<string, unknown>]> = [
      [{}, { service_name: 'checkout', 'service.version': '1.2.3', 'service.namespace': 'shop', 'deployment.environment.name': 'prod' }],
      [
        { resourceAttributes: 'all' },
        {
          service_name: 'checkout',
          'service.name': 'checkout',
          'service.version': '1.2.3',
          'service.namespace': 'shop',
          'deployment.environment.name': 'prod',
          'host.name': 'web-1',
          'process.pid': 4321,
        },
      ],
      [{ resourceAttributes: 'none' }, {}],
      [
        { resourceAttributes: ['host.name', 'process.pid', 'not.there'] },
        { service_name: 'checkout', 'host.name': 'web-1', 'process.pid': 4321 },
      ],
    ];
    for (const [options, expected] of cases) {
      const source = new RecordSource({ resource });
      source.logger('app').emit({ eventName: 'e', timestamp: TIME, attributes: { 'user.id': 'u' } });
      const span = source.tracer('app').startSpan('op');
      span.addEvent('span_e', TIME);
      span.end();
      const events = source.events({ ...DEFAULT_MAPPING, ...options });
      assert.equal(events.length, 2);
      const [logEvent, spanEvent] = events;
      assert.deepEqual(
        logEvent!.properties,
        { ...expected, otel_scope_name: 'app', 'user.id': 'u', $geoip_disable: true },
        JSON.stringify(options),
      );
      const { $trace_id: _t, $span_id: _s, otel_span_name: _n, ...spanProperties } = spanEvent!.properties;
      assert.deepEqual(spanProperties, { ...expected, otel_scope_name: 'app', $geoip_disable: true }, JSON.stringify(options));
    }
  });

  test('resource posthog.* attributes never become properties, even with resourceAttributes all', () => {
    const withId = resourceFromAttributes({ 'service.name': 'svc', 'posthog.distinct_id': 'svc-user', 'posthog.other': 'x' });
    const source = new RecordSource({ resource: withId });
    source.logger('app').emit({ eventName: 'e', timestamp: TIME });
    const [event] = source.events({ ...DEFAULT_MAPPING, resourceAttributes: 'all' });
    assert.equal(event!.distinct_id, 'svc-user');
    assert.deepEqual(event!.properties, { service_name: 'svc', 'service.name': 'svc', otel_scope_name: 'app', $geoip_disable: true });
  });

  test('the deprecated deployment.environment is still copied by default (many SDKs still set it); other keys are not', () => {
    const legacy = resourceFromAttributes({ 'service.name': 'svc', 'deployment.environment': 'staging', 'host.name': 'h1' });
    const source = new RecordSource({ resource: legacy });
    source.logger('app').emit({ eventName: 'e', timestamp: TIME, attributes: { 'user.id': 'u' } });
    const [event] = source.events();
    assert.deepEqual(event!.properties, {
      'deployment.environment': 'staging',
      service_name: 'svc',
      otel_scope_name: 'app',
      'user.id': 'u',
      $geoip_disable: true,
    });
  });

  test('$geoip_disable: true by default, absent with disableGeoip false, a user-set attribute wins', () => {
    const source = new RecordSource();
    const log = source.logger('app');
    log.emit({ eventName: 'default', timestamp: TIME });
    log.emit({ eventName: 'user_false', timestamp: TIME, attributes: { $geoip_disable: false } });
    const events = source.events();
    assert.equal(only(events, 'default').properties.$geoip_disable, true);
    assert.equal(only(events, 'user_false').properties.$geoip_disable, false);

    const geoipOn = new RecordSource();
    geoipOn.logger('app').emit({ eventName: 'geo_on', timestamp: TIME });
    geoipOn.logger('app').emit({ eventName: 'user_true', timestamp: TIME, attributes: { $geoip_disable: true } });
    const withGeoip = geoipOn.events({ ...DEFAULT_MAPPING, disableGeoip: false });
    assert.ok(!('$geoip_disable' in only(withGeoip, 'geo_on').properties));
    assert.equal(only(withGeoip, 'user_true').properties.$geoip_disable, true);
  });

  test('an attribute named like a property the mapping sets replaces it: the later value, sent once', () => {
    const clashing = resourceFromAttributes({ 'service.name': 'svc', body: 'from resource', 'host.name': 'h1' });
    const source = new RecordSource({ resource: clashing });
    const log = source.logger('app');
    log.emit({ eventName: 'plain', body: 'the body', timestamp: TIME });
    log.emit({
      eventName: 'clash',
      body: 'the body',
      severityText: 'INFO',
      timestamp: TIME,
      attributes: { body: 'from attribute', service_name: 'attr-svc', severity_text: 'custom', 'host.name': 'h2', otel_scope_name: 'mine' },
    });
    log.emit({ timestamp: TIME, attributes: { 'exception.type': 'Boom', $exception_list: 'not a list', $exception_level: 'warning' } });
    const events = source.events({ ...DEFAULT_MAPPING, resourceAttributes: 'all' });
    assert.deepEqual(only(events, 'plain').properties, {
      'service.name': 'svc',
      body: 'the body',
      'host.name': 'h1',
      service_name: 'svc',
      otel_scope_name: 'app',
      $geoip_disable: true,
    });
    const clash = only(events, 'clash').properties;
    assert.deepEqual(clash, {
      'service.name': 'svc',
      body: 'from attribute',
      'host.name': 'h2',
      service_name: 'attr-svc',
      severity_text: 'custom',
      otel_scope_name: 'mine',
      $geoip_disable: true,
    });
    // The later value takes the earlier place, as assignment to an object would.
    assert.deepEqual(Object.keys(clash), [
      'service.name',
      'body',
      'host.name',
      'service_name',
      'severity_text',
      'otel_scope_name',
      '$geoip_disable',
    ]);
    const exception = only(events, '$exception');
    assert.equal(exceptionList(exception)[0]!.type, 'Boom');
    assert.equal(exception.properties.$exception_level, 'warning');
    // The server reads the last of repeated keys, other readers the first: none may repeat.
    for (const record of source.records) {
      const outcome = mapRecord(record, { ...DEFAULT_MAPPING, resourceAttributes: 'all' }, MAPPED_AT);
      assert.equal(outcome.kind, 'mapped');
      for (const { json } of (outcome as Extract<MappingOutcome, { kind: 'mapped' }>).events) {
        const sent = JSON.parse(json) as CaptureEvent;
        for (const key of [
          'body',
          'service_name',
          'severity_text',
          'host.name',
          'otel_scope_name',
          '$exception_list',
          '$exception_level',
        ]) {
          const inText = json.split(`"${key}":`).length - 1;
          assert.equal(inText, key in sent.properties ? 1 : 0, `"${key}" written once in ${sent.event}, if at all`);
        }
      }
    }
  });
});

// Unit tests of values the wire cannot carry as they are: strings cut inside a UTF-16 pair, and
// attribute values JSON cannot hold (BigInt, NaN and Infinity, bytes, cycles, deep nesting). The
// events made of them must still be ones PostHog accepts; the mapping converts what it must.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Attributes } from '@opentelemetry/api';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { cymbalProblems } from '../support/cymbal-schema.ts';
import { exceptionList, only, RecordSource } from '../support/log-records.ts';
import { RawAttributeWriter } from '../support/raw-attribute-writer.ts';

const TIME = new Date('2025-01-02T03:04:05.678Z');

describe('lone surrogates', () => {
  test('strings cut inside an emoji, by attribute limits or by hand, in every typed field: each event is one PostHog accepts', () => {
    const lone = '\ud83d';
    // Five characters, then an emoji: a 6-unit attribute limit keeps its high surrogate only.
    const cut = (five: string): string => `${five}😀 and more`;
    const limits = { attributeValueLengthLimit: 6 };
    const limited = new RecordSource({ logRecordLimits: limits, spanLimits: limits });
    const log = limited.logger('cut');
    log.emit({
      timestamp: TIME,
      attributes: {
        'posthog.event': cut('named'),
        'posthog.distinct_id': cut('user1'),
        'posthog.session_id': cut('sess1'),
        'posthog.window_id': cut('wind1'),
        'posthog.product_tour_id': cut('tour1'),
        note: cut('note1'),
      },
    });
    log.emit({ timestamp: TIME, eventName: '$groupidentify', attributes: { $group_type: 'org', $group_key: cut('acme1') } });
    log.emit({
      timestamp: TIME,
      eventName: 'checkout_failed',
      attributes: { 'user.id': cut('user2'), 'exception.type': 'TypeError', 'exception.message': cut('boom1') },
    });
    const span = limited.tracer('cut').startSpan('op');
    span.addEvent('span_cut', { 'user.id': cut('user3'), 'posthog.session_id': cut('sess3') }, TIME);
    span.end();
    const unlimited = new RecordSource();
    unlimited
      .logger('app')
      .emit({ timestamp: TIME, eventName: `by hand ${lone}`, body: `body ${lone}`, attributes: { [`key ${lone}`]: `value ${lone}` } });
    const recording = unlimited.tracer().startSpan('op');
    recording.recordException(new Error(`message ${lone}`), TIME);
    recording.end();

    // events() checks each event passes the capture server's checks, which refuse lone surrogates in typed fields.
    const events = [...limited.events(), ...unlimited.events()];
    const fixed = '\ufffd';
    assert.deepEqual(
      events.map((e) => e.event),
      [`named${fixed}`, '$groupidentify', 'checkout_failed', '$exception', 'span_cut', `by hand ${fixed}`, '$exception'],
    );
    const [named, group, failed, linked, spanEvent, byHand, recorded] = events as CaptureEvent[];
    assert.deepEqual(
      [named!.distinct_id, named!.session_id, named!.window_id, named!.options.product_tour_id, named!.properties.note],
      [`user1${fixed}`, `sess1${fixed}`, `wind1${fixed}`, `tour1${fixed}`, `note1${fixed}`],
    );
    assert.equal(byHand!.properties.body, `body ${fixed}`);
    assert.equal(byHand!.properties[`key ${fixed}`], `value ${fixed}`);
    assert.equal(group!.distinct_id, `$org_acme1${fixed}`);
    assert.equal(failed!.distinct_id, `user2${fixed}`);
    assert.equal(exceptionList(linked!)[0]?.value, `boom1${fixed}`);
    assert.deepEqual([spanEvent!.distinct_id, spanEvent!.session_id], [`user3${fixed}`, `sess3${fixed}`]);
    assert.equal(exceptionList(recorded!)[0]?.value, `message ${fixed}`);
    for (const event of [linked!, recorded!]) assert.deepEqual(cymbalProblems(event.properties), []);
  });
});

describe('values JSON cannot hold', () => {
  test('BigInt, NaN/Infinity, bytes, cycles and 10 000-deep nesting are converted', () => {
    const writer = new RawAttributeWriter();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    writer.byEventName.set('raw_bigint', { big: 12345678901234567890n });
    writer.byEventName.set('raw_cyclic', { cyc: cyclic });
    writer.byEventName.set('raw_deep', { deep });

    const source = new RecordSource({ processorsBefore: [writer] });
    const log = source.logger('app');
    const emit = (eventName: string, attributes: Attributes = {}) =>
      log.emit({ eventName, timestamp: TIME, attributes: { 'user.id': 'u', ...attributes } });
    // Through the SDK: it refuses BigInt and cyclic values itself (the attribute is dropped).
    emit('sdk_bigint', { big: 10n as never, kept: 'yes' });
    emit('sdk_cyclic', { cyc: cyclic as never, kept: 'yes' });
    emit('numbers', { nan: NaN, inf: Infinity, ninf: -Infinity, nested: { n: NaN, list: [Infinity, 1] } as never });
    emit('bytes', { bytes: new Uint8Array([104, 105, 33]) });
    // Written straight into the record: the mapping itself must convert these.
    emit('raw_bigint');
    emit('raw_cyclic');
    emit('raw_deep');
    emit('normal', { plan: 'pro' });
    const events = source.events();

    assert.deepEqual(
      events.map((e) => e.event),
      ['sdk_bigint', 'sdk_cyclic', 'numbers', 'bytes', 'raw_bigint', 'raw_cyclic', 'raw_deep', 'normal'],
    );
    const sdkBig = only(events, 'sdk_bigint').properties;
    assert.equal(sdkBig.kept, 'yes');
    assert.ok(!('big' in sdkBig) || sdkBig.big === '10', `BigInt through the SDK: dropped or '10', got ${JSON.stringify(sdkBig.big)}`);
    const sdkCyc = only(events, 'sdk_cyclic').properties;
    assert.equal(sdkCyc.kept, 'yes');
    assert.ok(!('cyc' in sdkCyc) || JSON.stringify(sdkCyc.cyc) === '{"a":1,"self":"[Circular]"}');

    const numbers = only(events, 'numbers').properties;
    assert.deepEqual(
      [numbers.nan, numbers.inf, numbers.ninf, numbers.nested],
      ['NaN', 'Infinity', '-Infinity', { n: 'NaN', list: ['Infinity', 1] }],
    );
    assert.equal(only(events, 'bytes').properties.bytes, Buffer.from('hi!').toString('base64'));
    assert.equal(only(events, 'raw_bigint').properties.big, '12345678901234567890');
    assert.deepEqual(only(events, 'raw_cyclic').properties.cyc, { a: 1, self: '[Circular]' });

    let node: unknown = only(events, 'raw_deep').properties.deep;
    let levels = 0;
    while (typeof node === 'object' && node !== null) {
      assert.deepEqual(Object.keys(node), ['d']);
      node = (node as { d: unknown }).d;
      levels++;
    }
    assert.equal(node, '[Truncated]');
    assert.ok(levels >= 1 && levels <= 100, `truncated after ${levels} levels`);
    assert.equal(only(events, 'normal').properties.plan, 'pro');
  });
});

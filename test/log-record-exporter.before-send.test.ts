// The beforeSend hook, end to end through the processor and a real HTTP fake capture server: what
// it receives and may change, the events it drops (returning null, throwing, breaking an event), and
// that neither the hook nor the mapping changes the records other processors see.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeverityNumber } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { CaptureEvent } from '../src/capture/types.ts';
import { assertIdentity } from './support/accounting.ts';
import { cymbalProblems } from './support/cymbal-schema.ts';
import { flushValid, withPipeline } from './support/pipeline.ts';

const TIME = new Date('2025-01-02T03:04:05.678Z');
const TIMESTAMP = '2025-01-02T03:04:05.678Z';
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function caughtError(): Error {
  try {
    throw new TypeError('card declined');
  } catch (error) {
    return error as Error;
  }
}

describe('beforeSend', () => {
  test('receives the mapped event and can change it', async () => {
    const seen: CaptureEvent[] = [];
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      seen.push(structuredClone(event));
      return { ...event, event: `${event.event}_v2`, properties: { ...event.properties, added: 'by hook' } };
    };
    await withPipeline({ options: { beforeSend } }, async (p) => {
      p.logger('app').emit({
        eventName: 'signup',
        timestamp: TIME,
        attributes: { 'posthog.distinct_id': 'u-1', plan: 'pro', 'posthog.session_id': 's' },
      });
      const [event, ...rest] = await flushValid(p);
      assert.deepEqual(rest, []);
      assert.equal(seen.length, 1);
      const input = seen[0]!;
      assert.match(input.uuid, UUID_V7);
      assert.deepEqual(input, {
        event: 'signup',
        uuid: input.uuid,
        distinct_id: 'u-1',
        timestamp: TIMESTAMP,
        session_id: 's',
        options: {},
        properties: { otel_scope_name: 'app', plan: 'pro', $geoip_disable: true },
      });
      assert.deepEqual(event, { ...input, event: 'signup_v2', properties: { ...input.properties, added: 'by hook' } });
    });
  });

  test('returning null drops the event and counts it as before_send', async () => {
    await withPipeline({ options: { beforeSend: (e) => (e.event === 'secret' ? null : e) } }, async (p) => {
      p.logger('app').emit({ eventName: 'secret', timestamp: TIME });
      p.logger('app').emit({ eventName: 'public', timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => e.event),
        ['public'],
      );
      const stats = p.processor.getStats();
      assert.equal(stats.dropped.before_send, 1);
      assert.equal(stats.delivered, 1);
      assert.ok(!p.requests().some((r) => r.events.some((e) => e.event === 'secret')), 'the dropped event never reached the server');
    });
  });

  test('a throwing hook drops that event only', async () => {
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      if (event.event === 'explodes') throw new Error('redaction failed');
      return event;
    };
    await withPipeline({ options: { beforeSend } }, async (p) => {
      const log = p.logger('app');
      log.emit({ eventName: 'before', timestamp: TIME });
      log.emit({ eventName: 'explodes', timestamp: TIME });
      log.emit({ eventName: 'after', timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => e.event),
        ['before', 'after'],
      );
      const stats = p.processor.getStats();
      assert.equal(stats.dropped.before_send, 1);
      assert.equal(stats.delivered, 2);
    });
  });

  test('a hook returning an event with an invalid uuid drops that event only', async () => {
    await withPipeline({ options: { beforeSend: (e) => (e.event === 'bad' ? { ...e, uuid: 'not-a-uuid' } : e) } }, async (p) => {
      p.logger('app').emit({ eventName: 'bad', timestamp: TIME });
      p.logger('app').emit({ eventName: 'good', timestamp: TIME });
      const events = await p.flush();
      assert.ok(
        events.some((e) => e.event === 'good'),
        'the other event of the batch is delivered',
      );
      assert.ok(!p.requests().some((r) => r.rawBody.length > 0 && r.validation.ok === false), 'no request is rejected');
    });
  });

  test('a hook mutating a resource-derived property does not leak into later events', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'svc', 'app.tags': ['base'] });
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      (event.properties['app.tags'] as string[]).push(event.event);
      return event;
    };
    await withPipeline({ resource, options: { resourceAttributes: ['app.tags'], beforeSend } }, async (p) => {
      p.logger('app').emit({ eventName: 'first', timestamp: TIME });
      await p.flush();
      p.logger('app').emit({ eventName: 'second', timestamp: TIME });
      const events = await flushValid(p);
      assert.deepEqual(
        events.map((e) => [e.event, e.properties['app.tags']]),
        [
          ['first', ['base', 'first']],
          ['second', ['base', 'second']],
        ],
      );
    });
  });

  test('a $exception the hook breaks is refused as invalid with the reason, never sent for error tracking to dead-letter', async () => {
    const dropped: Array<{ reason: string; details: string | undefined; events: string[] }> = [];
    const lone = '\ud83d';
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      const list = event.properties.$exception_list as Array<Record<string, unknown>> | undefined;
      const frames = (list?.[0]?.stacktrace as { frames: Array<Record<string, unknown>> } | undefined)?.frames;
      switch (event.properties.case) {
        case 'no list':
          delete event.properties.$exception_list;
          break;
        case 'no filename':
          // A redaction that removes paths.
          for (const frame of frames ?? []) delete frame.filename;
          break;
        case 'renamed':
          return { ...event, event: '$exception' };
        case 'cut mid-emoji':
          // A redaction that shortens messages: repaired, not refused.
          list![0]!.value = `card 💳 declined`.slice(0, 6);
          event.properties.note = `x ${lone}`;
          break;
      }
      return event;
    };
    await withPipeline(
      {
        options: { beforeSend, onDrop: (events, reason, details) => dropped.push({ reason, details, events: events.map((e) => e.event) }) },
      },
      async (p) => {
        const log = p.logger('app');
        const error = caughtError();
        const attributes = { 'exception.type': error.name, 'exception.message': error.message, 'exception.stacktrace': error.stack };
        for (const which of ['no list', 'no filename', 'cut mid-emoji', 'untouched'])
          log.emit({ timestamp: TIME, attributes: { ...attributes, case: which } });
        log.emit({ eventName: 'plain', timestamp: TIME, attributes: { case: 'renamed' } });
        const events = await flushValid(p);
        assert.deepEqual(events.map((e) => e.properties.case).sort(), ['cut mid-emoji', 'untouched']);
        for (const event of events) assert.deepEqual(cymbalProblems(event.properties), []);
        const cut = events.find((e) => e.properties.case === 'cut mid-emoji')!;
        assert.equal((cut.properties.$exception_list as Array<{ value: string }>)[0]!.value, 'card \ufffd');
        assert.equal(cut.properties.note, 'x \ufffd');
        assert.deepEqual(
          dropped.map((d) => [d.reason, d.events, d.details]),
          [
            [
              'invalid',
              ['$exception'],
              'beforeSend returned a $exception error tracking cannot read: $exception_list is missing or not a list',
            ],
            [
              'invalid',
              ['$exception'],
              'beforeSend returned a $exception error tracking cannot read: $exception_list[0].stacktrace.frames[0].filename is not a string',
            ],
            [
              'invalid',
              ['$exception'],
              'beforeSend returned a $exception error tracking cannot read: $exception_list is missing or not a list',
            ],
          ],
        );
        const stats = p.processor.getStats();
        assert.deepEqual([stats.emitted, stats.selected, stats.delivered], [5, 5, 2]);
        assert.deepEqual(stats.dropped, { invalid: 3 });
        assertIdentity(stats);
      },
    );
  });

  test('a person event the hook makes one ingestion would discard is refused as invalid; a group event takes its group id', async () => {
    const dropped: Array<[string, string | undefined]> = [];
    // A privacy hook that turns person processing off everywhere, and one that blanks the user.
    const beforeSend = (event: CaptureEvent): CaptureEvent =>
      event.event === '$groupidentify'
        ? { ...event, distinct_id: 'null' }
        : { ...event, options: { ...event.options, process_person_profile: 'false' as never } };
    await withPipeline(
      { options: { beforeSend, onDrop: (events, reason, details) => dropped.push([`${reason} ${events[0]?.event}`, details]) } },
      async (p) => {
        const log = p.logger('app');
        log.emit({ eventName: '$identify', timestamp: TIME, attributes: { 'posthog.distinct_id': 'u-1' } });
        log.emit({
          eventName: '$groupidentify',
          timestamp: TIME,
          attributes: { 'posthog.distinct_id': 'u-1', $group_type: 'company', $group_key: 'acme' },
        });
        log.emit({ eventName: 'signed_up', timestamp: TIME, attributes: { 'posthog.distinct_id': 'u-1' } });
        const events = await flushValid(p);
        assert.deepEqual(
          events.map((e) => [e.event, e.distinct_id]),
          [
            ['$groupidentify', '$company_acme'],
            ['signed_up', 'u-1'],
          ],
        );
        assert.deepEqual(dropped, [
          [
            'invalid $identify',
            'beforeSend returned $identify with posthog.process_person_profile false: PostHog discards person and group events without person processing',
          ],
        ]);
        const stats = p.processor.getStats();
        assert.deepEqual(stats.dropped, { invalid: 1 });
        assertIdentity(stats);
      },
    );
  });
});

describe('records are not mutated', () => {
  test('a second log processor sees the record exactly as emitted, even when beforeSend mutates the event', async () => {
    const memory = new InMemoryLogRecordExporter();
    const error = caughtError();
    const attributes: Attributes = {
      'posthog.distinct_id': 'u-1',
      'posthog.uuid': '0190F3C4-AAAA-7BBB-8CCC-0123456789AB',
      'posthog.session_id': 's-1',
      'posthog.process_person_profile': 'false',
      'exception.type': error.name,
      'exception.message': error.message,
      'exception.stacktrace': error.stack,
      $lib: 'x',
      $session_id: 'legacy',
      nested: { list: [1, { deep: true }], map: { k: 'v' } },
      nan: NaN,
      bytes: new Uint8Array([1, 2, 3]),
    };
    const snapshot = structuredClone(attributes);
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      const nested = event.properties.nested as { list: unknown[]; map: Record<string, unknown> } | undefined;
      if (nested === undefined) return event;
      nested.list.push('mutated');
      nested.map.k = 'changed';
      if (Array.isArray(event.properties.$exception_list)) (event.properties.$exception_list[0] as { value: string }).value = 'redacted';
      event.properties.added = true;
      return event;
    };
    await withPipeline({ options: { beforeSend }, processorsAfter: [new SimpleLogRecordProcessor({ exporter: memory })] }, async (p) => {
      p.logger('app').emit({ eventName: 'checked', timestamp: TIME, severityNumber: SeverityNumber.ERROR, body: 'b', attributes });
      const span = p.tracer().startSpan('op');
      const spanAttributes: Attributes = {
        'posthog.distinct_id': 'u-2',
        'posthog.event': 'renamed',
        'exception.message': 'm',
        list: [1, 2],
      };
      span.addEvent('span_checked', spanAttributes, TIME);
      span.end();
      const events = await flushValid(p);
      // Each record is a named event with exception attributes: the event and its linked $exception.
      assert.equal(events.length, 4);
      const fromLog = events.find((e) => e.distinct_id === 'u-1');
      assert.deepEqual((fromLog?.properties.nested as { list: unknown[] }).list, [1, { deep: true }, 'mutated'], 'the hook ran');
      assert.deepEqual(
        events
          .filter((e) => e.distinct_id === 'u-2')
          .map((e) => e.event)
          .sort(),
        ['$exception', 'renamed'],
      );

      const [record, ...more] = memory.getFinishedLogRecords();
      assert.deepEqual(more, []);
      assert.deepEqual({ ...record!.attributes }, snapshot);
      assert.equal(record!.eventName, 'checked');
      assert.equal(record!.body, 'b');
      assert.equal(record!.severityNumber, SeverityNumber.ERROR);
      const spanEvent = (span as unknown as ReadableSpan).events[0]!;
      assert.equal(spanEvent.name, 'span_checked');
      assert.deepEqual(
        { ...spanEvent.attributes },
        { 'posthog.distinct_id': 'u-2', 'posthog.event': 'renamed', 'exception.message': 'm', list: [1, 2] },
      );
    });
  });
});

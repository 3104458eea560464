// Events that are not sent, and how the user sees them: dry run, onDrop with the events and the
// reason, redaction of a quoted key, beforeSend removing properties, a throwing onDrop.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureEvent, DropReason } from '../src/capture/types.ts';
import type { PostHogLogRecordProcessorOptions } from '../src/config/options.ts';
import { assertIdentity, names } from './support/accounting.ts';
import { withDiag } from './support/diag-capture.ts';
import { emitEvents, zeroStats } from './support/hand-wired.ts';
import { withPipeline } from './support/pipeline.ts';

describe('dry run and onDrop', () => {
  test('dryRun: nothing is sent, every event is printed and counted as dry_run', async () => {
    const lines: string[] = [];
    await withPipeline(
      { options: { dryRun: true, scheduledDelayMillis: 60_000 }, internals: { print: (l) => lines.push(l) } },
      async (p) => {
        emitEvents(p.logger(), 'dry', 3);
        const span = p.tracer().startSpan('op');
        span.addEvent('dry_span_event');
        span.end();
        await p.flush();
        assert.equal(p.requests().length, 0);
        assert.equal(lines.length, 5);
        assert.match(
          lines[0]!,
          /^\[posthog-otel\] start: dry run \(events are printed, nothing is sent\); host http:\/\/127\.0\.0\.1:\d+; API key from POSTHOG_API_KEY; /,
        );
        const printed = lines.slice(1).map((l) => {
          assert.ok(l.startsWith('[posthog-otel] dry run, not sent: event '), l);
          return JSON.parse(l.slice('[posthog-otel] dry run, not sent: event '.length)) as CaptureEvent;
        });
        assert.deepEqual(names(printed), ['dry_0', 'dry_1', 'dry_2', 'dry_span_event']);
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 4, selected: 4, dropped: { dry_run: 4 }, status: 'dry-run' }));
        assertIdentity(stats);
      },
    );
  });

  test('onDrop is called with the events and the reason, for beforeSend drops and server drops', async () => {
    const calls: Array<{ reason: DropReason; events: string[]; details: string | undefined }> = [];
    const dropped: CaptureEvent[] = [];
    const options: PostHogLogRecordProcessorOptions = {
      scheduledDelayMillis: 60_000,
      beforeSend: (e) => (e.event === 'blocked' ? null : e),
      onDrop: (events, reason, details) => {
        calls.push({ reason, events: events.map((e) => e.event), details });
        dropped.push(...events);
      },
    };
    await withPipeline({ options }, async (p) => {
      p.server.script({
        results: (events) =>
          Object.fromEntries(
            events.filter((e) => e.event === 'refused').map((e) => [e.uuid, { result: 'drop', details: 'event_too_big' }]),
          ),
      });
      for (const name of ['fine', 'blocked', 'refused']) p.logger().emit({ eventName: name });
      await p.flush();
      assert.deepEqual(calls, [
        { reason: 'before_send', events: ['blocked'], details: 'beforeSend returned null' },
        { reason: 'server_drop', events: ['refused'], details: 'event_too_big' },
      ]);
      // Plain objects, complete even when spread: the hook may keep or change them freely.
      for (const event of dropped) {
        assert.equal(Object.getPrototypeOf(event), Object.prototype);
        const copy = { ...event };
        assert.deepEqual(copy.options, { process_person_profile: false });
        assert.equal(copy.properties.otel_scope_name, 'test');
      }
      assert.deepEqual(names(p.server.acceptedEvents()), ['fine']);
      const stats = p.processor.getStats();
      assert.deepEqual(stats.dropped, { before_send: 1, server_drop: 1 });
      assertIdentity(stats);
    });
  });

  test('a server message that quotes the API key reaches onDrop details and the drop warning redacted', async () => {
    const details: Array<string | undefined> = [];
    await withDiag(async (d) => {
      await withPipeline({ options: { scheduledDelayMillis: 60_000, onDrop: (_events, _reason, why) => details.push(why) } }, async (p) => {
        const key = p.server.apiKey;
        p.server.script({ status: 401, body: JSON.stringify({ error_description: `token ${key} is not valid here` }) });
        emitEvents(p.logger(), 'refused', 2);
        await p.flush();
        assert.deepEqual(details, ['HTTP 401: token [redacted] is not valid here']);
        const warnings = d.ours('warn');
        assert.ok(
          warnings.some((w) => w.includes('token [redacted] is not valid here')),
          warnings.join('\n'),
        );
        assert.ok(!d.entries.some((e) => e.text.includes(key)), 'the key is in no diag message');
        assert.deepEqual(p.processor.getStats().dropped, { status_401: 2 });
      });
    });
  });

  test('beforeSend redaction: a property set to undefined or deleted is not sent; the rest is', async () => {
    const options: PostHogLogRecordProcessorOptions = {
      scheduledDelayMillis: 60_000,
      beforeSend: (e) => {
        e.properties['user.email'] = undefined;
        delete e.properties['card.last4'];
        return e;
      },
    };
    await withPipeline({ options }, async (p) => {
      p.logger().emit({ eventName: 'signed_up', attributes: { 'user.email': 'a@example.com', 'card.last4': '4242', plan: 'pro' } });
      await p.flush();
      const [event] = p.server.acceptedEvents();
      assert.ok(event);
      assert.equal(event.properties.plan, 'pro');
      assert.ok(!('user.email' in event.properties), 'undefined is left out of the JSON');
      assert.ok(!('card.last4' in event.properties));
      assert.deepEqual(p.processor.getStats().dropped, {});
    });
  });

  test('a throwing onDrop is reported and changes nothing', async () => {
    await withDiag(async (d) => {
      let calls = 0;
      const options: PostHogLogRecordProcessorOptions = {
        scheduledDelayMillis: 60_000,
        beforeSend: (e) => (e.event === 'blocked' ? null : e),
        onDrop: () => {
          calls++;
          throw new Error('onDrop exploded');
        },
      };
      await withPipeline({ options }, async (p) => {
        for (const name of ['fine', 'blocked', 'fine_too']) p.logger().emit({ eventName: name });
        await p.flush();
        p.logger().emit({ eventName: 'blocked' });
        p.logger().emit({ eventName: 'after' });
        await p.flush();
        assert.equal(calls, 2);
        assert.deepEqual(names(p.server.acceptedEvents()), ['after', 'fine', 'fine_too']);
        assert.equal(d.ours('warn').filter((w) => w.includes('onDrop threw: Error: onDrop exploded')).length, 2);
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 5, selected: 5, delivered: 3, dropped: { before_send: 2 }, requests: 2 }));
        assertIdentity(stats);
      });
    });
  });
});

// Debug output (debug: true): a JSON line per event and a line per request attempt, never the API
// key, and an event a hook made unserialisable printed as such. Debug mode echoes warnings to the
// console for the whole process, so these tests have a file, and a process, of their own.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureEvent } from '../src/capture/types.ts';
import { assertIdentity, names } from './support/accounting.ts';
import { zeroStats } from './support/hand-wired.ts';
import { withPipeline } from './support/pipeline.ts';

describe('debug output', () => {
  test('debug: an event a hook made unserialisable is printed as such, refused alone, and the rest of its batch delivered', async () => {
    const lines: string[] = [];
    const beforeSend = (event: CaptureEvent): CaptureEvent => {
      if (event.event === 'bad') event.properties.row_id = 42n;
      return event;
    };
    await withPipeline(
      { options: { debug: true, beforeSend, scheduledDelayMillis: 60_000 }, internals: { print: (l) => lines.push(l) } },
      async (p) => {
        for (const name of ['good', 'bad', 'good_too']) p.logger().emit({ eventName: name });
        await p.flush();
        assert.deepEqual(names(p.server.acceptedEvents()).sort(), ['good', 'good_too']);
        assert.equal(
          lines.filter((l) => l.startsWith('[posthog-otel] event (not serialisable as JSON: ')).length,
          1,
          JSON.stringify(lines),
        );
        const stats = p.processor.getStats();
        assert.deepEqual(stats, zeroStats({ emitted: 3, selected: 3, delivered: 2, dropped: { invalid: 1 }, requests: 1 }));
        assertIdentity(stats);
      },
    );
  });

  test('debug: a JSON line per event and a line per request attempt, never the API key', async () => {
    const lines: string[] = [];
    await withPipeline(
      {
        options: { debug: true, maxAttempts: 2, retryInitialDelayMillis: 0, scheduledDelayMillis: 60_000 },
        internals: { print: (l) => lines.push(l) },
      },
      async (p) => {
        p.server.script({ status: 503 });
        p.logger().emit({ eventName: 'debugged', attributes: { note: `pasted ${p.server.apiKey} by mistake` } });
        p.logger().emit({ eventName: 'debugged_too' });
        await p.flush();

        const eventLines = lines.filter((l) => l.startsWith('[posthog-otel] event '));
        const requestLines = lines.filter((l) => l.startsWith('[posthog-otel] request '));
        assert.equal(lines.length, 1 + eventLines.length + requestLines.length, JSON.stringify(lines));
        assert.equal(
          lines[0],
          `[posthog-otel] start: enabled; host ${p.server.url}; API key from POSTHOG_API_KEY; compression zstd; batches of up to 512 records every 60000 ms, queue 2048, export timeout 30000 ms; flush timeout 10000 ms, flush on exit`,
        );
        assert.equal(eventLines.length, 2);
        const printed = eventLines.map((l) => JSON.parse(l.slice('[posthog-otel] event '.length)) as CaptureEvent);
        assert.deepEqual(names(printed), ['debugged', 'debugged_too']);
        assert.equal(printed.find((e) => e.event === 'debugged')!.properties.note, 'pasted [redacted] by mistake');
        assert.deepEqual(
          printed.map((e) => e.uuid).sort(),
          p.server
            .acceptedEvents()
            .map((e) => e.uuid)
            .sort(),
          'the printed events are the sent ones',
        );

        assert.equal(requestLines.length, p.requests().length);
        const to = `to ${p.server.url}/i/v1/analytics/events`.replace(/[.]/g, '\\.');
        assert.match(
          requestLines[0]!,
          new RegExp(
            `^\\[posthog-otel\\] request [0-9a-f-]{36} attempt 1: 2 event\\(s\\) ${to} → 503 \\(HTTP 503: .*\\); ok 0, drop 0, retry 0$`,
          ),
        );
        assert.match(
          requestLines[1]!,
          new RegExp(`^\\[posthog-otel\\] request [0-9a-f-]{36} attempt 2: 2 event\\(s\\) ${to} → 200; ok 2, drop 0, retry 0$`),
        );
        for (const line of lines) assert.ok(!line.includes(p.server.apiKey), `a printed line holds the API key: ${line}`);
      },
    );
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '@opentelemetry/api';
import type { CaptureEvent } from '../src/capture/types.ts';
import { parseV8StackTrace, type PostHogException } from '../src/mapping/exception-list.ts';
import { recordExceptionWithCauses } from '../src/record-exception.ts';
import { cymbalProblems } from './support/cymbal-schema.ts';
import { withPipeline } from './support/pipeline.ts';
import { linkedErrors, realisticErrors } from './support/realistic-errors.ts';

const listOf = (event: CaptureEvent | undefined): PostHogException[] => event?.properties.$exception_list as PostHogException[];

test('an error with causes recorded on a span becomes linked entries, each with its own frames', async () => {
  const corpus = await realisticErrors();
  const chained = corpus.filter((e) =>
    ['causes', 'AggregateError with a cause and members with causes', 'AggregateError from Promise.any'].includes(e.name),
  );
  await withPipeline({}, async (p) => {
    const span = p.tracer('shop').startSpan('checkout');
    for (const { error } of chained) recordExceptionWithCauses(span, error);
    // What OpenTelemetry's own recordException keeps, for comparison: the error alone.
    span.recordException(chained[0]!.error);
    span.end();
    const events = await p.flush();
    assert.deepEqual(p.invalidRequests(), []);
    assert.equal(events.length, chained.length + 1);
    chained.forEach(({ name, error }, i) => {
      const event = events[i]!;
      assert.equal(event.event, '$exception', name);
      assert.deepEqual(cymbalProblems(event.properties), [], name);
      const expected = linkedErrors(error);
      const list = listOf(event);
      assert.deepEqual(
        list.map((e) => [e.type, e.value]),
        expected.map((e) => [e.name, e.message]),
        name,
      );
      expected.forEach((e, j) =>
        assert.deepEqual(list[j]!.stacktrace?.frames ?? [], parseV8StackTrace(e.stack ?? ''), `${name}: entry ${j}`),
      );
      assert.deepEqual(
        list.slice(1).map((e) => e.mechanism.type),
        list.slice(1).map(() => 'chained'),
      );
    });
    assert.equal(listOf(events.at(-1)).length, 1, 'recordException alone loses the causes');
  });
});

test('a string cause, a cause chain that loops, a non-error: recorded without throwing', async () => {
  const a = new Error('a');
  const b = new Error('b', { cause: a });
  (a as { cause?: unknown }).cause = b;
  await withPipeline({}, async (p) => {
    const span = p.tracer().startSpan('op');
    recordExceptionWithCauses(span, new Error('wrapped', { cause: "upstream's answer\nwas no" }));
    recordExceptionWithCauses(span, a);
    recordExceptionWithCauses(span, 'a plain string');
    recordExceptionWithCauses(span, { not: 'an error' });
    span.end();
    const events = await p.flush();
    assert.deepEqual(
      events.map((e) => listOf(e).map((x) => [x.type, x.value])),
      [
        [
          ['Error', 'wrapped'],
          ['Error', "upstream's answer was no"],
        ],
        [
          ['Error', 'a'],
          ['Error', 'b'],
        ],
        [['Error', 'a plain string']],
        [['Error', '[object Object]']],
      ],
    );
    for (const event of events) assert.deepEqual(cymbalProblems(event.properties), []);
  });
});

test('a cause chain 1000 deep: the 50 outermost exceptions, in order, each with its own frames', async () => {
  let error: Error | undefined;
  for (let i = 999; i >= 0; i--) error = new Error(`e${i}`, error === undefined ? {} : { cause: error });
  await withPipeline({}, async (p) => {
    const span = p.tracer().startSpan('op');
    recordExceptionWithCauses(span, error);
    span.end();
    const [event, ...rest] = await p.flush();
    assert.deepEqual(rest, []);
    assert.deepEqual(cymbalProblems(event!.properties), []);
    const list = listOf(event);
    assert.deepEqual(
      list.map((e) => e.value),
      Array.from({ length: 50 }, (_, i) => `e${i}`),
    );
    let cause: unknown = error;
    list.forEach((entry, i) => {
      assert.deepEqual(entry.stacktrace?.frames ?? [], parseV8StackTrace((cause as Error).stack ?? ''), `entry ${i}`);
      if (i > 0) assert.equal((entry.mechanism as { parent_id: number }).parent_id, i - 1);
      cause = (cause as Error).cause;
    });
  });
});

test('never throws, even from a span that does', () => {
  const span = {
    addEvent() {
      throw new Error('span is broken');
    },
  } as unknown as Span;
  assert.doesNotThrow(() => recordExceptionWithCauses(span, new Error('x')));
  const hostile = new Proxy(new Error('x'), {
    get() {
      throw new Error('hostile');
    },
  });
  const events: unknown[] = [];
  recordExceptionWithCauses({ addEvent: (...args: unknown[]) => events.push(args) } as unknown as Span, hostile);
  assert.equal(events.length, 1);
});

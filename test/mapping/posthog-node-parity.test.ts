// The same errors through posthog-node's captureException and through this package: error tracking
// must get the same $exception_list, so issues group alike (and together) whichever sent them.
// posthog-node runs in capture v1 mode against the fake capture server; its list is compared with
// ours on the fields error tracking reads and groups on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import type { Attributes, Span } from '@opentelemetry/api';
import { PostHog } from 'posthog-node';
import { TracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { buildExceptionList, type PostHogException } from '../../src/mapping/exception-list.ts';
import { recordExceptionWithCauses } from '../../src/record-exception.ts';
import { cymbalProblems } from '../support/cymbal-schema.ts';
import { FakeCaptureServer } from '../support/fake-capture-server.ts';
import { realisticErrors } from '../support/realistic-errors.ts';

type Projected = Array<{ type: unknown; value: unknown; mechanism: Record<string, unknown>; frames: Array<Record<string, unknown>> }>;

/** What error tracking reads and groups on: no context lines (posthog-node reads the source files for those). */
function project(list: unknown): Projected {
  return (list as PostHogException[]).map((entry) => ({
    type: entry.type,
    value: entry.value,
    mechanism: { ...entry.mechanism },
    frames: (entry.stacktrace?.frames ?? []).map((f) => ({
      function: f.function,
      filename: f.filename,
      module: f.module,
      lineno: f.lineno,
      colno: f.colno,
      in_app: f.in_app,
    })),
  }));
}

/**
 * The one place we differ on purpose: V8's `Promise.allSettled (index N)` frame, which posthog-node
 * names `index N` (it maps only all and any), is named `node:internal/promise` like the others.
 */
function normalisePromiseIndex(list: Projected): Projected {
  for (const entry of list) {
    for (const frame of entry.frames) {
      if (/^index \d+$/.test(String(frame.filename))) Object.assign(frame, { filename: 'node:internal/promise', module: 'promise' });
    }
  }
  return list;
}

/** The exception.stacktrace recordExceptionWithCauses writes for an error. */
function recordedStack(error: Error): Attributes {
  let attributes: Attributes = {};
  recordExceptionWithCauses({ addEvent: (_name: string, a: Attributes) => void (attributes = a) } as unknown as Span, error);
  return attributes;
}

/** The attributes OpenTelemetry's own `span.recordException(error)` writes: the type is the error's `code` when it has one. */
function otelRecordedException(error: Error): Attributes {
  const ended: ReadableSpan[] = [];
  const collect: SpanProcessor = {
    onStart: () => {},
    onEnd: (span) => void ended.push(span),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const span = new TracerProvider({ spanProcessors: [collect] }).getTracer('parity').startSpan('op');
  span.recordException(error);
  span.end();
  return ended[0]!.events[0]!.attributes!;
}

async function posthogNodeLists(errors: Array<{ name: string; error: Error }>): Promise<Map<string, CaptureEvent>> {
  const server = await FakeCaptureServer.start();
  const mode = process.env.POSTHOG_CAPTURE_MODE;
  process.env.POSTHOG_CAPTURE_MODE = 'v1';
  try {
    const client = new PostHog(server.apiKey, { host: server.url, flushAt: 1000, disableGeoip: true });
    for (const { name, error } of errors) client.captureException(error, 'parity', { corpus: name });
    await client.shutdown();
    assert.deepEqual(
      server.requests.map((r) => r.responseStatus),
      [200],
    );
    return new Map(server.acceptedEvents().map((e) => [String(e.properties.corpus), e]));
  } finally {
    if (mode === undefined) delete process.env.POSTHOG_CAPTURE_MODE;
    else process.env.POSTHOG_CAPTURE_MODE = mode;
    await server.close();
  }
}

test('errors give the $exception_list posthog-node gives: from util.inspect text and from recordExceptionWithCauses', async () => {
  const corpus = await realisticErrors();
  const theirs = await posthogNodeLists(corpus);
  assert.equal(theirs.size, corpus.length);
  for (const { name, error } of corpus) {
    const expected = normalisePromiseIndex(project(theirs.get(name)!.properties.$exception_list));
    const recorded = recordedStack(error);
    const fromSpan = buildExceptionList({
      type: recorded['exception.type'] as string,
      message: recorded['exception.message'] as string,
      stacktrace: recorded['exception.stacktrace'] as string,
    });
    const fromInspect = buildExceptionList({ type: error.name, message: error.message, stacktrace: inspect(error) });
    for (const [how, list] of [
      ['recordExceptionWithCauses', fromSpan],
      ['util.inspect', fromInspect],
    ] as const) {
      assert.deepEqual(cymbalProblems({ $exception_list: list }), [], `${name} (${how})`);
      assert.deepEqual(project(list), expected, `${name} (${how})`);
    }
  }
});

test('span.recordException: the exception itself is the one posthog-node gives, also for errors with a code', async () => {
  const corpus = await realisticErrors();
  const coded = corpus.filter(({ error }) => typeof (error as { code?: unknown }).code === 'string');
  assert.ok(coded.length >= 2, 'the corpus has errors with a code');
  const theirs = await posthogNodeLists(corpus);
  for (const { name, error } of corpus) {
    const recorded = otelRecordedException(error);
    const list = buildExceptionList({
      type: recorded['exception.type'] as string,
      message: recorded['exception.message'] as string,
      stacktrace: recorded['exception.stacktrace'] as string,
    });
    // recordException keeps err.stack alone: no causes, so only the first entry compares.
    const expected = normalisePromiseIndex(project(theirs.get(name)!.properties.$exception_list)).slice(0, 1);
    assert.deepEqual(cymbalProblems({ $exception_list: list }), [], name);
    assert.deepEqual(project(list).slice(0, 1), expected, name);
  }
});

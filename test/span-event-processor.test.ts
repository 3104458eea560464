// Span-level identity, end to end: real TracerProvider and LoggerProvider with an AsyncLocalStorage
// context manager, our processors, and the fake capture server. The SERVER span is started the way
// the http instrumentation starts it: before the request handler runs, in a context of its own.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { context, SpanKind, SpanStatusCode, trace, ROOT_CONTEXT, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { CaptureEvent } from '../src/capture/types.ts';
import { identityFromHeaders, withPostHogIdentity } from '../src/request-identity.ts';
import { ensureBuilt } from './support/built-package.ts';
import { withPipeline, type Pipeline } from './support/pipeline.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let contextManager: AsyncLocalStorageContextManager;
before(() => {
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
});
after(() => {
  context.disable();
});

function byName(events: CaptureEvent[], name: string): CaptureEvent {
  const found = events.filter((e) => e.event === name);
  assert.equal(found.length, 1, `one ${name} event in ${JSON.stringify(events.map((e) => e.event))}`);
  return found[0]!;
}

function assertPersonless(event: CaptureEvent): void {
  assert.match(event.distinct_id, UUID, `${event.event} has a fresh uuid as distinct id`);
  assert.equal(event.options.process_person_profile, false, `${event.event} is personless`);
}

function assertIdentified(event: CaptureEvent, distinctId: string): void {
  assert.equal(event.distinct_id, distinctId, `${event.event} distinct id`);
  assert.equal(event.options.process_person_profile, undefined, `${event.event} keeps person processing on`);
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * An HTTP server wired as the http instrumentation wires one: a SERVER span starts for each request
 * before the handler runs, the handler runs with it active, a failing handler's error is recorded on
 * it, and it ends when the response is done.
 */
async function withInstrumentedServer(tracer: Tracer, handler: Handler, body: (url: string) => Promise<void>): Promise<void> {
  const server = createServer((req, res) => {
    const span = tracer.startSpan(`${req.method} ${req.url}`, { kind: SpanKind.SERVER }, ROOT_CONTEXT);
    context.with(trace.setSpan(ROOT_CONTEXT, span), () => {
      handler(req, res).then(
        () => {
          res.end();
          span.end();
        },
        (error: unknown) => {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          res.statusCode = 500;
          res.end();
          span.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The identity the handler learns after the server span started, as an auth step would. */
async function lookUpUser(tracer: Tracer): Promise<string> {
  return tracer.startActiveSpan('auth', async (span) => {
    await Promise.resolve();
    span.end();
    return 'user-42';
  });
}

describe('span identity: the identity set during a request reaches its SERVER span', () => {
  test('an exception recorded on the server span after the handler set the identity carries it', async () => {
    await withPipeline({}, async (p) => {
      const tracer = p.tracer();
      const handler: Handler = async () => {
        trace.getActiveSpan()!.addEvent('request_started');
        const user = await lookUpUser(tracer);
        await tracer.startActiveSpan('handler', async (span) => {
          try {
            await withPostHogIdentity({ distinctId: user }, async () => {
              await Promise.resolve();
              throw new TypeError('card declined');
            });
          } finally {
            span.end();
          }
        });
      };
      await withInstrumentedServer(tracer, handler, async (url) => {
        const response = await fetch(`${url}/pay`);
        assert.equal(response.status, 500);
        await response.arrayBuffer();
      });
      const events = await p.flush();
      const exception = byName(events, '$exception');
      assertIdentified(exception, 'user-42');
      assert.equal(exception.properties.otel_span_name, 'GET /pay', 'the exception was recorded on the server span');
      assertIdentified(byName(events, 'request_started'), 'user-42');
      assert.deepEqual(p.invalidRequests(), []);
    });
  });

  test('the posthog-js headers set first and the user set later combine, field by field', async () => {
    await withPipeline({}, async (p) => {
      const tracer = p.tracer();
      const handler: Handler = async (req) => {
        await withPostHogIdentity(identityFromHeaders(req.headers), async () => {
          const user = await lookUpUser(tracer);
          withPostHogIdentity({ distinctId: user }, () => undefined);
        });
        throw new Error('export failed');
      };
      await withInstrumentedServer(tracer, handler, async (url) => {
        const response = await fetch(`${url}/report`, {
          headers: { 'X-POSTHOG-DISTINCT-ID': 'anon-1', 'X-POSTHOG-SESSION-ID': 'session-1', 'X-POSTHOG-WINDOW-ID': 'window-1' },
        });
        await response.arrayBuffer();
      });
      const exception = byName(await p.flush(), '$exception');
      assertIdentified(exception, 'user-42');
      assert.equal(exception.session_id, 'session-1');
      assert.equal(exception.window_id, 'window-1');
    });
  });

  test('spans of the request that end after the identity was set get it; one that started under an identity keeps its own', async () => {
    await withPipeline({}, async (p) => {
      const tracer = p.tracer();
      const server = tracer.startSpan('POST /orders', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
      const serverContext = trace.setSpan(ROOT_CONTEXT, server);
      const early = tracer.startSpan('parse', {}, serverContext);
      early.addEvent('body_parsed');
      early.end();
      const running = tracer.startSpan('db', {}, serverContext);
      let scoped: Span | undefined;
      context.with(serverContext, () => {
        withPostHogIdentity({ distinctId: 'admin-1' }, () => {
          scoped = tracer.startSpan('impersonate');
        });
        withPostHogIdentity({ distinctId: 'user-7' }, () => undefined);
      });
      running.addEvent('query_slow');
      running.end();
      scoped!.addEvent('acting_as');
      scoped!.end();
      server.recordException(new Error('conflict'));
      server.end();

      const events = await p.flush();
      assertPersonless(byName(events, 'body_parsed'));
      assertIdentified(byName(events, 'query_slow'), 'user-7');
      assertIdentified(byName(events, 'acting_as'), 'admin-1');
      assertIdentified(byName(events, '$exception'), 'user-7');
    });
  });

  test('a server span started under an identity takes the one set later in its request first, field by field', async () => {
    await withPipeline({}, async (p) => {
      const tracer = p.tracer();
      withPostHogIdentity({ distinctId: 'early-user', sessionId: 'early-session' }, () => {
        tracer.startActiveSpan('GET /account', { kind: SpanKind.SERVER }, (server) => {
          const child = tracer.startSpan('load');
          withPostHogIdentity({ distinctId: 'late-user' }, () => undefined);
          child.addEvent('loaded');
          child.end();
          server.recordException(new Error('denied'));
          server.end();
        });
      });
      const events = await p.flush();
      const exception = byName(events, '$exception');
      assertIdentified(exception, 'late-user');
      assert.equal(exception.session_id, 'early-session');
      const loaded = byName(events, 'loaded');
      assertIdentified(loaded, 'early-user');
      assert.equal(loaded.session_id, 'early-session');
    });
  });

  test('an identity set after the server span ended misses its events, and still reaches spans of the request that run on', async () => {
    await withPipeline({}, async (p) => {
      const tracer = p.tracer();
      const server = tracer.startSpan('GET /feed', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
      const serverContext = trace.setSpan(ROOT_CONTEXT, server);
      const background = tracer.startSpan('refresh', {}, serverContext);
      server.recordException(new Error('timeout'));
      server.end();
      context.with(trace.setSpan(ROOT_CONTEXT, background), () => withPostHogIdentity({ distinctId: 'user-9' }, () => undefined));
      background.addEvent('refreshed');
      background.end();

      const events = await p.flush();
      assertPersonless(byName(events, '$exception'));
      assertIdentified(byName(events, 'refreshed'), 'user-9');
    });
  });

  test('with no SERVER span, an identity set late reaches only what runs inside it', async () => {
    await withPipeline({}, async (p) => {
      const tracer = p.tracer();
      const job = tracer.startSpan('job', { kind: SpanKind.INTERNAL }, ROOT_CONTEXT);
      context.with(trace.setSpan(ROOT_CONTEXT, job), () => {
        withPostHogIdentity({ distinctId: 'user-3' }, () => {
          const step = tracer.startSpan('step');
          step.addEvent('step_done');
          step.end();
        });
      });
      job.recordException(new Error('job failed'));
      job.end();

      const events = await p.flush();
      assertIdentified(byName(events, 'step_done'), 'user-3');
      assertPersonless(byName(events, '$exception'));
    });
  });

  test('an identity set through the CommonJS build reaches a server span the ES module processor tracks', async () => {
    const repo = fileURLToPath(new URL('..', import.meta.url));
    ensureBuilt(repo);
    const built = createRequire(import.meta.url)(`${repo}dist/cjs/index.js`) as { withPostHogIdentity: typeof withPostHogIdentity };
    assert.notEqual(built.withPostHogIdentity, withPostHogIdentity, 'two copies of the module');
    await withPipeline({}, async (p) => {
      const tracer = p.tracer();
      const server = tracer.startSpan('GET /cjs', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
      context.with(trace.setSpan(ROOT_CONTEXT, server), () => built.withPostHogIdentity({ distinctId: 'user-cjs' }, () => undefined));
      server.recordException(new Error('mixed modules'));
      server.end();
      assertIdentified(byName(await p.flush(), '$exception'), 'user-cjs');
    });
  });

  test('requests do not share identities: each server span gets the one set in its own request', async () => {
    await withPipeline({}, async (p) => {
      const tracer = p.tracer();
      const handler: Handler = async (req) => {
        const user = String(req.headers['x-user']);
        await Promise.resolve();
        withPostHogIdentity({ distinctId: user }, () => undefined);
        await Promise.resolve();
        throw new Error(`failed for ${user}`);
      };
      await withInstrumentedServer(tracer, handler, async (url) => {
        const responses = await Promise.all(['u-a', 'u-b', 'u-c'].map((user) => fetch(`${url}/${user}`, { headers: { 'x-user': user } })));
        await Promise.all(responses.map((r) => r.arrayBuffer()));
      });
      const exceptions = (await p.flush()).filter((e) => e.event === '$exception');
      const pairs = exceptions.map((e) => [e.properties.otel_span_name, e.distinct_id]).sort();
      assert.deepEqual(pairs, [
        ['GET /u-a', 'u-a'],
        ['GET /u-b', 'u-b'],
        ['GET /u-c', 'u-c'],
      ]);
    });
  });
});

describe("span identity: a span's own identity attributes identify its events", () => {
  async function spanEvents(p: Pipeline, run: (tracer: Tracer) => void): Promise<CaptureEvent[]> {
    run(p.tracer());
    return p.flush();
  }

  test('enduser.id, user.id and posthog.distinct_id on a span identify its events, however they were set', async () => {
    await withPipeline({}, async (p) => {
      const events = await spanEvents(p, (tracer) => {
        const a = tracer.startSpan('a', { attributes: { 'enduser.id': 'end-1' } });
        a.addEvent('a_event');
        a.end();
        const b = tracer.startSpan('b');
        b.addEvent('b_event');
        b.setAttribute('user.id', 'user-1');
        b.end();
        const c = tracer.startSpan('c', {
          attributes: { 'posthog.distinct_id': 'ph-1', 'posthog.session_id': 'session-c', 'posthog.window_id': 'window-c' },
        });
        c.recordException(new RangeError('out of range'));
        c.end();
        const d = tracer.startSpan('d', { attributes: { 'user.id': 12345 } });
        d.addEvent('d_event');
        d.end();
      });
      assertIdentified(byName(events, 'a_event'), 'end-1');
      assertIdentified(byName(events, 'b_event'), 'user-1');
      const exception = byName(events, '$exception');
      assertIdentified(exception, 'ph-1');
      assert.equal(exception.session_id, 'session-c');
      assert.equal(exception.window_id, 'window-c');
      assertIdentified(byName(events, 'd_event'), '12345');
      assert.equal(exception.properties['posthog.distinct_id'], undefined, 'control attributes stay out of properties');
    });
  });

  test("among a span's keys the mapping's precedence holds: posthog.distinct_id before user.id before enduser.id", async () => {
    await withPipeline({}, async (p) => {
      const events = await spanEvents(p, (tracer) => {
        const all = tracer.startSpan('all', { attributes: { 'enduser.id': 'end', 'user.id': 'user', 'posthog.distinct_id': 'ph' } });
        all.addEvent('all_keys');
        all.end();
        const two = tracer.startSpan('two', { attributes: { 'enduser.id': 'end', 'user.id': 'user' } });
        two.addEvent('two_keys');
        two.end();
      });
      assertIdentified(byName(events, 'all_keys'), 'ph');
      assertIdentified(byName(events, 'two_keys'), 'user');
    });
  });

  test("an event's own identity wins over its span's whatever keys each uses; kinds the event lacks still come from the span", async () => {
    await withPipeline({}, async (p) => {
      const events = await spanEvents(p, (tracer) => {
        const span = tracer.startSpan('checkout', {
          attributes: { 'posthog.distinct_id': 'span-user', 'posthog.session_id': 'span-session' },
        });
        span.addEvent('event_user', { 'enduser.id': 'event-user' });
        span.addEvent('event_session', { $session_id: 'event-session' });
        span.addEvent('blank_user', { 'user.id': '  ' });
        span.end();
      });
      const eventUser = byName(events, 'event_user');
      assertIdentified(eventUser, 'event-user');
      assert.equal(eventUser.session_id, 'span-session');
      const eventSession = byName(events, 'event_session');
      assertIdentified(eventSession, 'span-user');
      assert.equal(eventSession.session_id, 'event-session');
      assertIdentified(byName(events, 'blank_user'), 'span-user');
    });
  });

  test("a span's attributes outrank the identity in context; the context fills the kinds the span lacks", async () => {
    await withPipeline({}, async (p) => {
      const events = await spanEvents(p, (tracer) => {
        withPostHogIdentity({ distinctId: 'ctx-user', sessionId: 'ctx-session' }, () => {
          const span = tracer.startSpan('op', { attributes: { 'user.id': 'attr-user' } });
          span.addEvent('op_event');
          span.end();
        });
        const server = tracer.startSpan('GET /', { kind: SpanKind.SERVER, attributes: { 'enduser.id': 'attr-user' } }, ROOT_CONTEXT);
        context.with(trace.setSpan(ROOT_CONTEXT, server), () =>
          withPostHogIdentity({ distinctId: 'late-user', sessionId: 'late-session' }, () => undefined),
        );
        server.recordException(new Error('boom'));
        server.end();
      });
      const op = byName(events, 'op_event');
      assertIdentified(op, 'attr-user');
      assert.equal(op.session_id, 'ctx-session');
      const exception = byName(events, '$exception');
      assertIdentified(exception, 'attr-user');
      assert.equal(exception.session_id, 'late-session');
    });
  });

  test('with no identity anywhere, span events stay personless, each with its own id', async () => {
    await withPipeline({}, async (p) => {
      const events = await spanEvents(p, (tracer) => {
        const span = tracer.startSpan('anon', { attributes: { 'user.id': '', 'session.id': 42 } });
        span.addEvent('first');
        span.addEvent('second');
        span.recordException(new Error('anonymous failure'));
        span.end();
      });
      for (const name of ['first', 'second', '$exception']) assertPersonless(byName(events, name));
      assert.equal(new Set(events.map((e) => e.distinct_id)).size, 3);
      assert.equal(byName(events, 'first').session_id, undefined);
      assert.equal(byName(events, 'first').properties['user.id'], undefined, 'nothing from the span is added when it has no identity');
    });
  });
});

describe('span identity: never throws', () => {
  test('onStart and onEnd survive spans and contexts of any shape', async () => {
    await withPipeline({}, async (p) => {
      const hostile = Object.defineProperty({}, 'kind', {
        get() {
          throw new Error('kind getter');
        },
      });
      assert.doesNotThrow(() => p.spanProcessor.onStart(hostile as Span as never, undefined as never));
      assert.doesNotThrow(() => p.spanProcessor.onStart({} as never, { getValue: () => 'not a span' } as never));
      const attributes = Object.defineProperty({}, 'user.id', {
        get() {
          throw new Error('attribute getter');
        },
        enumerable: true,
      });
      const ended = {
        name: 'odd',
        attributes,
        events: [{ time: [1, 0], name: 'e' }],
        spanContext: () => ({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 1 }),
        resource: { attributes: {} },
        instrumentationScope: { name: 'x' },
      };
      assert.doesNotThrow(() => p.spanProcessor.onEnd(ended as never));
      assertPersonless(byName(await p.flush(), 'e'));
    });
  });
});

// What PostHogLogRecordProcessor.onEmit attaches to a record: the identity of its context, and the
// identity set during the request of the SERVER span it was emitted under. Real providers, the
// processors wired as in the README, the fake capture server; contexts passed explicitly.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { setPostHogIdentity } from '../src/request-identity.ts';
import { withPipeline } from './support/pipeline.ts';

describe('records emitted during a request', () => {
  test('a record emitted under the SERVER span after the identity scope closed gets the identity set in the request', async () => {
    await withPipeline({}, async (p) => {
      const tracer = p.tracer();
      const headers = setPostHogIdentity(ROOT_CONTEXT, { distinctId: 'anon-1', sessionId: 'session-1' });
      const server = tracer.startSpan('GET /pay', { kind: SpanKind.SERVER }, headers);
      const serverContext = trace.setSpan(headers, server);
      const db = tracer.startSpan('db', {}, trace.setSpan(ROOT_CONTEXT, server));
      p.logger().emit({ eventName: 'before_login', context: trace.setSpan(ROOT_CONTEXT, server) });
      // The handler learns the user in a scope of its own, which closes before the error is logged.
      setPostHogIdentity(trace.setSpan(ROOT_CONTEXT, db), { distinctId: 'user-42' });
      p.logger().emit({ eventName: 'request_failed', context: trace.setSpan(ROOT_CONTEXT, server) });
      p.logger().emit({ eventName: 'query_failed', context: trace.setSpan(ROOT_CONTEXT, db) });
      p.logger().emit({ eventName: 'in_headers_scope', context: serverContext });
      p.logger().emit({ eventName: 'outside', context: ROOT_CONTEXT });
      db.end();
      server.end();

      const events = new Map((await p.flush()).map((e) => [e.event, e]));
      assert.equal(events.get('before_login')?.options.process_person_profile, false, 'emitted before the user was known: personless');
      for (const name of ['request_failed', 'query_failed']) {
        assert.equal(events.get(name)?.distinct_id, 'user-42', name);
        assert.equal(events.get(name)?.options.process_person_profile, undefined, name);
      }
      // The record's own context identity comes first; the request's fills what it lacks.
      assert.equal(events.get('in_headers_scope')?.distinct_id, 'anon-1');
      assert.equal(events.get('in_headers_scope')?.session_id, 'session-1');
      assert.equal(events.get('outside')?.options.process_person_profile, false);
    });
  });
});

describe('a context that cannot be read', () => {
  test('costs the record its identity, not its delivery or its count', async () => {
    await withPipeline({}, async (p) => {
      const hostile = {
        getValue: () => {
          throw new Error('getValue');
        },
        setValue: () => hostile,
        deleteValue: () => hostile,
      };
      p.processor.onEmit(
        {
          eventName: 'odd_context',
          attributes: {},
          hrTime: [1_700_000_000, 0],
          hrTimeObserved: [1_700_000_000, 0],
          resource: { attributes: {} },
          instrumentationScope: { name: 't' },
        } as never,
        hostile as never,
      );
      const events = await p.flush();
      assert.deepEqual(
        events.map((e) => e.event),
        ['odd_context'],
      );
      const stats = p.processor.getStats();
      assert.equal(stats.delivered, 1);
      assert.equal(stats.pending, 0);
    });
  });
});

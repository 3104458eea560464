import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, trace, type Span } from '@opentelemetry/api';
import { identifyServerSpan, serverSpanIdentity, serverSpanOf, trackServerSpan } from '../../src/selection/server-span-identity.ts';

/** Stand-ins for started spans: only `kind` is read, and contexts hold them as any span. */
function span(kind: SpanKind): Span {
  return { kind } as unknown as Span;
}

describe('server span tracking', () => {
  test('a SERVER span is its own; its descendants, however deep, get it; a root span has none', () => {
    const server = span(SpanKind.SERVER);
    trackServerSpan(server, ROOT_CONTEXT);
    const child = span(SpanKind.INTERNAL);
    trackServerSpan(child, trace.setSpan(ROOT_CONTEXT, server));
    const grandchild = span(SpanKind.CLIENT);
    trackServerSpan(grandchild, trace.setSpan(ROOT_CONTEXT, child));
    const root = span(SpanKind.INTERNAL);
    trackServerSpan(root, ROOT_CONTEXT);
    assert.equal(serverSpanOf(server), server);
    assert.equal(serverSpanOf(child), server);
    assert.equal(serverSpanOf(grandchild), server);
    assert.equal(serverSpanOf(root), undefined);
  });

  test('a SERVER span nested in another is the nearest for its own descendants', () => {
    const outer = span(SpanKind.SERVER);
    trackServerSpan(outer, ROOT_CONTEXT);
    const inner = span(SpanKind.SERVER);
    trackServerSpan(inner, trace.setSpan(ROOT_CONTEXT, outer));
    const leaf = span(SpanKind.INTERNAL);
    trackServerSpan(leaf, trace.setSpan(ROOT_CONTEXT, inner));
    assert.equal(serverSpanOf(leaf), inner);
  });

  test('an identity set under a descendant is kept for the server span, field by field as last set', () => {
    const server = span(SpanKind.SERVER);
    trackServerSpan(server, ROOT_CONTEXT);
    const child = span(SpanKind.INTERNAL);
    trackServerSpan(child, trace.setSpan(ROOT_CONTEXT, server));
    const underChild = trace.setSpan(ROOT_CONTEXT, child);
    assert.equal(serverSpanIdentity(server), undefined);
    identifyServerSpan(underChild, { distinctId: 'anon', sessionId: 's' });
    identifyServerSpan(underChild, {});
    identifyServerSpan(trace.setSpan(ROOT_CONTEXT, server), { distinctId: 'user' });
    assert.deepEqual(serverSpanIdentity(server), { distinctId: 'user', sessionId: 's' });
  });

  test('an identity set where no tracked span is active is kept nowhere', () => {
    const untracked = span(SpanKind.SERVER);
    identifyServerSpan(trace.setSpan(ROOT_CONTEXT, untracked), { distinctId: 'x' });
    identifyServerSpan(ROOT_CONTEXT, { distinctId: 'x' });
    assert.equal(serverSpanIdentity(untracked), undefined);
  });
});

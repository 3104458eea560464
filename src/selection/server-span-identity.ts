import { SpanKind, trace, type Context } from '@opentelemetry/api';
import type { PostHogIdentity } from '../request-identity.ts';

// A server span (the http instrumentation's, for example) starts before the handler learns who the
// user is. The identity the handler sets later is kept for that span, so the events it ends with
// (an exception recorded as the request fails) still get it.
//
// Both maps are weak: an entry goes when its span is collected, so memory follows the live spans.
// They are shared through a global symbol, as OpenTelemetry's context keys are, so that the ESM and
// CommonJS copies of this package loaded in one process see the same spans.

interface ServerSpanMaps {
  /** Each started span's nearest SERVER span: itself for a SERVER span, its parent's for the others. */
  readonly serverSpans: WeakMap<object, object>;
  /** The identity set during each SERVER span's request, field by field as last set. */
  readonly requestIdentities: WeakMap<object, PostHogIdentity>;
}

const SHARED = Symbol.for('opentelemetry-exporter-posthog server span identity');
const holder = globalThis as { [SHARED]?: ServerSpanMaps };
const maps = (holder[SHARED] ??= { serverSpans: new WeakMap(), requestIdentities: new WeakMap() });
const { serverSpans, requestIdentities } = maps;

/** Notes the nearest SERVER span of a span that just started (called from `onStart`). */
export function trackServerSpan(span: object, parentContext: Context | undefined): void {
  if ((span as { kind?: unknown }).kind === SpanKind.SERVER) {
    serverSpans.set(span, span);
    return;
  }
  const parent = parentContext === undefined ? undefined : trace.getSpan(parentContext);
  if (parent === undefined) return;
  const server = serverSpans.get(parent);
  if (server !== undefined) serverSpans.set(span, server);
}

/**
 * Keeps `identity` for the SERVER span the span active in `ctx` runs under, if any. A field set
 * again replaces the earlier value; fields not given keep theirs.
 */
export function identifyServerSpan(ctx: Context, identity: PostHogIdentity): void {
  if (identity.distinctId === undefined && identity.sessionId === undefined && identity.windowId === undefined) return;
  const span = trace.getSpan(ctx);
  if (span === undefined) return;
  const server = serverSpans.get(span);
  if (server === undefined) return;
  const earlier = requestIdentities.get(server);
  requestIdentities.set(server, earlier === undefined ? identity : { ...earlier, ...identity });
}

/** The nearest SERVER span of a started span, when one was tracked. */
export function serverSpanOf(span: object): object | undefined {
  return serverSpans.get(span);
}

/** The identity set so far during the request of a SERVER span. */
export function serverSpanIdentity(server: object): PostHogIdentity | undefined {
  return requestIdentities.get(server);
}

/**
 * The identity set so far during the request of the SERVER span that the span active in `ctx` runs
 * under (for records emitted there after the identity's own scope closed).
 */
export function requestIdentityOf(ctx: Context | undefined): PostHogIdentity | undefined {
  const span = ctx === undefined ? undefined : trace.getSpan(ctx);
  if (span === undefined) return undefined;
  const server = serverSpans.get(span);
  return server === undefined ? undefined : requestIdentities.get(server);
}

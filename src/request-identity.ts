import { context, createContextKey, type Context } from '@opentelemetry/api';
import { identifyServerSpan } from './selection/server-span-identity.ts';

/** Who and which session the current work is for, as PostHog sees it. */
export interface PostHogIdentity {
  distinctId?: string;
  sessionId?: string;
  windowId?: string;
}

const IDENTITY_KEY = createContextKey('opentelemetry-exporter-posthog identity');

/**
 * A context that carries `identity`; records emitted and spans started under it get it. Fields it
 * does not give keep the value `ctx` carries (the headers' session stays once the user is known).
 * The SERVER span that the span in `ctx` runs under gets it too, for the events it ends with.
 */
export function setPostHogIdentity(ctx: Context, identity: PostHogIdentity): Context {
  // JavaScript callers may pass anything (a missing identity, a database's numeric user id).
  const given: Partial<Record<keyof PostHogIdentity, unknown>> = typeof identity === 'object' && identity !== null ? identity : {};
  const clean: PostHogIdentity = {};
  const distinctId =
    typeof given.distinctId === 'number' && Number.isSafeInteger(given.distinctId) ? String(given.distinctId) : given.distinctId;
  if (isId(distinctId)) clean.distinctId = distinctId;
  if (isId(given.sessionId)) clean.sessionId = given.sessionId;
  if (isId(given.windowId)) clean.windowId = given.windowId;
  if (clean.distinctId === undefined && clean.sessionId === undefined && clean.windowId === undefined) return ctx;
  identifyServerSpan(ctx, clean);
  return ctx.setValue(IDENTITY_KEY, mergeIdentities(clean, getPostHogIdentity(ctx)));
}

/** The identity `ctx` carries, if any. */
export function getPostHogIdentity(ctx: Context | undefined): PostHogIdentity | undefined {
  return ctx?.getValue(IDENTITY_KEY) as PostHogIdentity | undefined;
}

/** Runs `fn` with `identity` in the active context (for example for the duration of a request). */
export function withPostHogIdentity<T>(identity: PostHogIdentity, fn: () => T): T {
  return context.with(setPostHogIdentity(context.active(), identity), fn);
}

const MAX_ID_BYTES = 200;

/**
 * Reads the headers posthog-js sends with requests to your backend when tracing headers are on:
 * `X-POSTHOG-DISTINCT-ID`, `X-POSTHOG-SESSION-ID` and `X-POSTHOG-WINDOW-ID`. Accepts Node's
 * `IncomingHttpHeaders` or a fetch `Headers`.
 */
export function identityFromHeaders(
  headers: Record<string, string | string[] | undefined> | { get(name: string): string | null },
): PostHogIdentity {
  if (typeof headers !== 'object' || headers === null) return {};
  const read = (name: string): string | undefined => {
    const raw =
      typeof headers.get === 'function'
        ? (headers as { get(name: string): string | null }).get(name)
        : fromRecord(headers as Record<string, string | string[] | undefined>, name);
    const value = Array.isArray(raw) ? raw[0] : raw;
    const id = typeof value === 'string' ? value.trim() : '';
    // Capture drops an event whose distinct id is over 200 bytes: such a header is not an identity.
    return id !== '' && Buffer.byteLength(id) <= MAX_ID_BYTES ? id : undefined;
  };
  const identity: PostHogIdentity = {};
  const distinctId = read('x-posthog-distinct-id');
  const sessionId = read('x-posthog-session-id');
  const windowId = read('x-posthog-window-id');
  if (distinctId) identity.distinctId = distinctId;
  if (sessionId) identity.sessionId = sessionId;
  if (windowId) identity.windowId = windowId;
  return identity;
}

/**
 * A header of a plain object by its lower-case name (Node's `IncomingHttpHeaders`), else in any
 * case: API Gateway (REST) events keep the names as the client wrote them.
 */
function fromRecord(headers: Record<string, string | string[] | undefined>, name: string): string | string[] | undefined {
  const exact = headers[name];
  if (exact !== undefined) return exact;
  for (const key of Object.keys(headers)) if (key.length === name.length && key.toLowerCase() === name) return headers[key];
  return undefined;
}

/** `first`, with the fields it lacks taken from `second`; no new object unless both give some. */
export function mergeIdentities(first: PostHogIdentity | undefined, second: PostHogIdentity | undefined): PostHogIdentity | undefined {
  if (first === undefined) return second;
  if (second === undefined) return first;
  const complete =
    (first.distinctId !== undefined || second.distinctId === undefined) &&
    (first.sessionId !== undefined || second.sessionId === undefined) &&
    (first.windowId !== undefined || second.windowId === undefined);
  return complete ? first : { ...second, ...first };
}

/** Identity captured at emit time, per record, for the exporter to read at export time. */
const recordIdentities = new WeakMap<object, PostHogIdentity>();

export function rememberRecordIdentity(record: object, identity: PostHogIdentity): void {
  recordIdentities.set(record, identity);
}

export function recordIdentity(record: object): PostHogIdentity | undefined {
  return recordIdentities.get(record);
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

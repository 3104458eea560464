import type { Attributes } from '@opentelemetry/api';
import {
  DISTINCT_ID_KEYS,
  SESSION_ID_KEYS,
  UUIDV7_SESSION_ID_KEYS,
  UUIDV7_WINDOW_ID_KEYS,
  WINDOW_ID_KEYS,
} from '../mapping/attribute-keys.ts';
import { isUuidV7 } from '../mapping/record-to-event.ts';

/** A key the mapping reads for one kind of identity, with what it takes as a usable value there. */
interface IdentityKey {
  key: string;
  usable: (value: unknown) => boolean;
}

function identityKeys(keys: readonly string[], usable: (value: unknown) => boolean): IdentityKey[] {
  return keys.map((key) => ({ key, usable }));
}

/**
 * The identity kinds a record's attributes can carry, each with the keys the mapping reads for it.
 * An application's own session keys (`session.id`) count only when they hold a UUIDv7, as in the mapping.
 */
const KINDS: readonly (readonly IdentityKey[])[] = [
  identityKeys(DISTINCT_ID_KEYS, isDistinctId),
  [...identityKeys(SESSION_ID_KEYS, isNonEmptyString), ...identityKeys(UUIDV7_SESSION_ID_KEYS, isUuidV7)],
  [...identityKeys(WINDOW_ID_KEYS, isNonEmptyString), ...identityKeys(UUIDV7_WINDOW_ID_KEYS, isUuidV7)],
];

/**
 * The identity attributes of a span (distinct id, session and window keys), or undefined when it has
 * none: the common case, which costs a few lookups and no allocation.
 */
export function spanIdentityAttributes(attributes: Attributes | undefined): Attributes | undefined {
  if (attributes === undefined) return undefined;
  let found: Attributes | undefined;
  for (const kind of KINDS) {
    for (const { key, usable } of kind) {
      const value = attributes[key];
      if (usable(value)) (found ??= {})[key] = value;
    }
  }
  return found;
}

/** Which kind (index in KINDS) each identity key belongs to. */
const KIND_OF_KEY: ReadonlyMap<string, number> = new Map(KINDS.flatMap((kind, index) => kind.map(({ key }) => [key, index] as const)));

/**
 * An event's attributes with its span's identity attributes added, for each kind of identity the
 * event carries none of. The event's own identity always wins, whatever keys each one uses; the
 * mapping then ranks the keys as it does for any record. Returns the event's object when nothing is added.
 *
 * It walks the span's few identity keys, not every key of every kind: a span usually has one, and
 * the event is checked only for the kinds the span has.
 */
export function withSpanIdentity(eventAttributes: Attributes, spanIdentity: Attributes): Attributes {
  let merged: Attributes | undefined;
  // One bit per kind: whether the event was checked for it, and whether it carries it.
  let checked = 0;
  let carried = 0;
  for (const key in spanIdentity) {
    const kind = KIND_OF_KEY.get(key);
    if (kind === undefined) continue;
    const bit = 1 << kind;
    if ((checked & bit) === 0) {
      checked |= bit;
      if (carriesAny(eventAttributes, KINDS[kind]!)) carried |= bit;
    }
    if ((carried & bit) !== 0) continue;
    const value = spanIdentity[key];
    // An event value the mapping cannot use as an identity is still one of its properties: kept.
    if (value !== undefined && eventAttributes[key] === undefined) (merged ??= { ...eventAttributes })[key] = value;
  }
  return merged ?? eventAttributes;
}

function carriesAny(attributes: Attributes, kind: readonly IdentityKey[]): boolean {
  for (const { key, usable } of kind) if (usable(attributes[key])) return true;
  return false;
}

/** What the mapping takes as a distinct id: a non-blank string or a whole number. */
function isDistinctId(value: unknown): boolean {
  if (typeof value === 'string') return value.trim() !== '';
  return (typeof value === 'number' && Number.isSafeInteger(value)) || typeof value === 'bigint';
}

/** What the mapping takes as a session or window id. */
function isNonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}

import type { Attributes } from '@opentelemetry/api';
import { DISTINCT_ID_KEYS, SESSION_ID_KEYS, WINDOW_ID_KEYS } from './mapping/attribute-keys.ts';

/** The identity kinds a record's attributes can carry, each with the keys the mapping reads for it. */
const KINDS = [
  { keys: DISTINCT_ID_KEYS, usable: isDistinctId },
  { keys: SESSION_ID_KEYS, usable: isNonEmptyString },
  { keys: WINDOW_ID_KEYS, usable: isNonEmptyString },
] as const;

/**
 * The identity attributes of a span (distinct id, session and window keys), or undefined when it has
 * none: the common case, which costs a few lookups and no allocation.
 */
export function spanIdentityAttributes(attributes: Attributes | undefined): Attributes | undefined {
  if (attributes === undefined) return undefined;
  let found: Attributes | undefined;
  for (const kind of KINDS) {
    for (const key of kind.keys) {
      const value = attributes[key];
      if (kind.usable(value)) (found ??= {})[key] = value;
    }
  }
  return found;
}

/**
 * An event's attributes with its span's identity attributes added, for each kind of identity the
 * event carries none of. The event's own identity always wins, whatever keys each one uses; the
 * mapping then ranks the keys as it does for any record. Returns the event's object when nothing is added.
 */
export function withSpanIdentity(eventAttributes: Attributes, spanIdentity: Attributes): Attributes {
  let merged: Attributes | undefined;
  for (const kind of KINDS) {
    if (carriesAny(eventAttributes, kind.keys, kind.usable)) continue;
    for (const key of kind.keys) {
      const value = spanIdentity[key];
      if (value !== undefined) (merged ??= { ...eventAttributes })[key] = value;
    }
  }
  return merged ?? eventAttributes;
}

function carriesAny(attributes: Attributes, keys: readonly string[], usable: (value: unknown) => boolean): boolean {
  for (const key of keys) if (usable(attributes[key])) return true;
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

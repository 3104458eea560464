// Capture parses an event's typed fields (event, distinct_id, session_id…) with serde, which refuses
// a JSON string escaping a lone UTF-16 surrogate: one such string fails its whole request with 400.
// OpenTelemetry's attribute length limits produce them by cutting strings inside an emoji.

import type { CaptureEvent } from '../capture/types.ts';

interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** False when the string holds a lone surrogate (`String.prototype.isWellFormed`). */
export function isWellFormed(text: string): boolean {
  return (text as unknown as WellFormedString).isWellFormed();
}

/** The string with every lone surrogate replaced by U+FFFD (`String.prototype.toWellFormed`). */
export function wellFormed(text: string): string {
  const s = text as unknown as WellFormedString;
  return s.isWellFormed() ? text : s.toWellFormed();
}

/**
 * Whether JSON text written by `JSON.stringify` may hold a lone surrogate. It writes those, and only
 * those, as `\udXXX` escapes (a pair goes out as it is); an escaped backslash followed by `ud` makes
 * this true too, which only costs a needless repair pass.
 */
export function mayHoldLoneSurrogate(json: string): boolean {
  return json.includes('\\ud');
}

const ESCAPED_BACKSLASH_OR_SURROGATE = /\\\\|\\ud[89a-f][0-9a-f]{2}/g;

/**
 * JSON text from `JSON.stringify` with every lone-surrogate escape replaced by `\ufffd`, as
 * `toWellFormed()` on each string would have done. Escaped backslashes are matched as a whole, so
 * the text `\\ud800` (a backslash, then "ud800") is left alone.
 */
export function repairJsonText(json: string): string {
  return json.replace(ESCAPED_BACKSLASH_OR_SURROGATE, (match) => (match === '\\\\' ? match : '\\ufffd'));
}

/** Typed fields of a capture event (and `options.product_tour_id`): those capture parses strictly. */
const TYPED_FIELDS = ['event', 'distinct_id', 'timestamp', 'session_id', 'window_id'] as const;

/** The event, or a copy with its typed fields made well-formed: for events a hook returns (the mapping's own are already). */
export function withWellFormedFields(event: CaptureEvent): CaptureEvent {
  const tour = event.options.product_tour_id;
  const sound = (value: unknown): boolean => typeof value !== 'string' || isWellFormed(value);
  if (TYPED_FIELDS.every((field) => sound(event[field])) && sound(tour)) return event;
  const fixed: CaptureEvent = { ...event, options: { ...event.options } };
  for (const field of TYPED_FIELDS) {
    const value = event[field];
    if (typeof value === 'string') fixed[field] = wellFormed(value);
  }
  if (typeof tour === 'string') fixed.options.product_tour_id = wellFormed(tour);
  return fixed;
}

/**
 * The event, or a copy whose property strings and keys are well-formed. For a `$exception` a hook
 * returns: error tracking parses its properties whole, and one lone surrogate fails the event there.
 */
export function withWellFormedProperties(event: CaptureEvent): CaptureEvent {
  let json: string | undefined;
  try {
    json = JSON.stringify(event.properties);
  } catch {
    // Properties JSON cannot hold: sending refuses the event and counts it.
    return event;
  }
  if (json === undefined || !mayHoldLoneSurrogate(json)) return event;
  return { ...event, properties: JSON.parse(repairJsonText(json)) as CaptureEvent['properties'] };
}

import { EncodedEvent, eventJson } from './encoded-event.ts';
import type { CaptureEvent } from './types.ts';

/** An event serialised once; resends and splits reuse the same JSON text. */
export interface SerializedEvent {
  event: CaptureEvent;
  /** The event's own JSON: always for encoded events, and for others serialised on their own (batches that needed splitting). */
  json?: string;
  /** Serialised size; an even share of the batch when the batch was serialised as a whole. */
  bytes: number;
  /** Attempts made so far, this send's and earlier ones. */
  attempts: number;
}

/**
 * A {@link SerializedEvent} made by a constructor, not an object literal. These live until their
 * request is answered, so V8 allocated a literal site's objects straight in the old generation
 * (allocation-site pretenuring); from there each kept its young event and JSON alive through every
 * young-generation collection until a full one (BENCHMARKS.md). Objects from a constructor have
 * no allocation site.
 */
export class QueuedEvent implements SerializedEvent {
  readonly event: CaptureEvent;
  readonly json: string | undefined;
  readonly bytes: number;
  attempts: number;

  constructor(event: CaptureEvent, json: string | undefined, bytes: number, attempts = 0) {
    this.event = event;
    this.json = json;
    this.bytes = bytes;
    this.attempts = attempts;
  }
}

/**
 * The event's JSON (an encoded event's own text), or undefined when it cannot be serialised. The
 * mapping layer makes values JSON-safe, so this is a guard against objects handed to the client directly.
 */
export function serializeEvent(event: CaptureEvent, attempts = 0): SerializedEvent | undefined {
  try {
    const json = eventJson(event);
    if (typeof json !== 'string') return undefined;
    return new QueuedEvent(event, json, Buffer.byteLength(json, 'utf8'), attempts);
  } catch {
    return undefined;
  }
}

/**
 * The members of a batch's JSON array, in order: each event's JSON, its own text where it has
 * one. The body writes them one by one; joining them first would copy every event once more.
 */
export function batchMembers(items: readonly SerializedEvent[]): string[] {
  return items.map(jsonOf);
}

function jsonOf(item: SerializedEvent): string {
  const json = item.json ?? eventJson(item.event);
  // Every item serialised once already; should one not now, failing the send beats a broken batch.
  if (json === undefined) throw new Error('an event no longer serialises as JSON');
  return json;
}

/**
 * Why the server would reject the whole request because of this event, if it would. One bad event
 * must not take its batch down with it, so such events are refused before sending.
 */
export function batchPoisoningProblem(event: CaptureEvent): string | undefined {
  // The mapping wrote it: sound by construction, and checking would mean parsing it.
  if (event instanceof EncodedEvent) return undefined;
  if (!isPlainObject(event)) return 'the event is not an object';
  if (typeof event.event !== 'string') return 'the event name is not a string';
  if (typeof event.uuid !== 'string' || !UUID.test(event.uuid)) return 'the uuid is not a canonical lower-case UUID';
  if (typeof event.distinct_id !== 'string') return 'distinct_id is not a string';
  if (typeof event.timestamp !== 'string') return 'timestamp is not a string';
  if (!isPlainObject(event.properties)) return 'properties is not an object';
  if (!isPlainObject(event.options)) return 'options is not an object';
  for (const key of ['session_id', 'window_id'] as const) {
    if (event[key] !== undefined && typeof event[key] !== 'string') return `${key} is not a string`;
  }
  return undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An object that serialises as itself: no class instance, no `toJSON` turning it into something else. */
function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

export interface RequestLimits {
  maxEvents: number;
  /** Uncompressed JSON bytes of the events in one request (the envelope adds under a hundred). */
  maxBytes: number;
}

/** Splits events, in order, into request-sized groups. Each event must already fit `maxBytes` on its own. */
export function splitIntoRequests(events: SerializedEvent[], limits: RequestLimits): SerializedEvent[][] {
  const groups: SerializedEvent[][] = [];
  let current: SerializedEvent[] = [];
  let currentBytes = 0;
  for (const item of events) {
    const added = item.bytes + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (current.length >= limits.maxEvents || currentBytes + added > limits.maxBytes)) {
      groups.push(current);
      current = [];
      currentBytes = 0;
    }
    currentBytes += item.bytes + (current.length > 0 ? 1 : 0);
    current.push(item);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

import type { CaptureEvent } from './types.ts';

/** An event serialised once; resends and splits reuse the same JSON text. */
export interface SerializedEvent {
  event: CaptureEvent;
  json: string;
  bytes: number;
}

/**
 * `JSON.stringify` of an event, or undefined when it cannot be serialised. The mapping layer makes
 * values JSON-safe, so this is a guard against objects handed to the client directly.
 */
export function serializeEvent(event: CaptureEvent): SerializedEvent | undefined {
  try {
    const json = JSON.stringify(event);
    if (typeof json !== 'string') return undefined;
    return { event, json, bytes: Buffer.byteLength(json, 'utf8') };
  } catch {
    return undefined;
  }
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

import type { CaptureEvent, CaptureEventOptions } from './types.ts';

/** The fields of an event the wire layer and diagnostics read without parsing its JSON. */
export type EncodedEventFields = Pick<CaptureEvent, 'event' | 'uuid' | 'distinct_id' | 'timestamp' | 'session_id' | 'window_id'>;

/**
 * An event whose JSON text the mapping wrote directly, without building the event object (that
 * object's properties were the largest cost of an export). Requests, resends and the spool carry
 * the text as it is; `options` and `properties` are parsed from it only when something reads them.
 * Spreading or cloning an instance loses those two (they are getters): use `toJSON()` for a plain object.
 *
 * @internal
 *
 * The mapping guarantees what `batchPoisoningProblem` checks for other events: a canonical uuid,
 * string fields, and text that is one valid JSON object.
 */
export class EncodedEvent implements CaptureEvent {
  readonly event: string;
  readonly uuid: string;
  readonly distinct_id: string;
  readonly timestamp: string;
  // Declared only: an event without a session has no session_id key at all, as in its JSON.
  declare readonly session_id?: string;
  declare readonly window_id?: string;
  /** The event as JSON, exactly as it goes into a request's `batch`. */
  readonly json: string;
  /**
   * The uuid was drawn at random for this event (a UUIDv7), not given or derived: it repeats no
   * other drawn uuid, so only given and derived ones need looking up for duplicates in a batch.
   */
  readonly uuidDrawn: boolean;
  #parsed: CaptureEvent | undefined;

  constructor(fields: EncodedEventFields, json: string, uuidDrawn = false) {
    this.event = fields.event;
    this.uuid = fields.uuid;
    this.distinct_id = fields.distinct_id;
    this.timestamp = fields.timestamp;
    if (fields.session_id !== undefined) (this as { session_id?: string }).session_id = fields.session_id;
    if (fields.window_id !== undefined) (this as { window_id?: string }).window_id = fields.window_id;
    this.json = json;
    this.uuidDrawn = uuidDrawn;
  }

  get options(): CaptureEventOptions {
    return this.toJSON().options;
  }

  get properties(): Record<string, unknown> {
    return this.toJSON().properties;
  }

  /**
   * The event as a plain object, parsed once and shared by the getters. The wire layer never
   * serialises it: it sends `json`. Callers that hand the object on (to a hook) should parse a copy.
   */
  toJSON(): CaptureEvent {
    return (this.#parsed ??= JSON.parse(this.json) as CaptureEvent);
  }
}

/** An event's JSON text: the written text of an encoded event, `JSON.stringify` of any other. */
export function eventJson(event: CaptureEvent): string | undefined {
  return event instanceof EncodedEvent ? event.json : (JSON.stringify(event) as string | undefined);
}

/** An event as a plain object for a hook: a fresh parse of an encoded event's text (its own to change); any other event as it is. */
export function plainEvent(event: CaptureEvent): CaptureEvent {
  return event instanceof EncodedEvent ? (JSON.parse(event.json) as CaptureEvent) : event;
}

// Wire types of PostHog's capture v1 protocol (`POST /i/v1/analytics/events`), independent of OpenTelemetry.

/** Typed per-event options; unset keys are omitted so the server's defaults apply. */
export interface CaptureEventOptions {
  cookieless_mode?: boolean;
  disable_skew_correction?: boolean;
  process_person_profile?: boolean;
  product_tour_id?: string;
}

/** One analytics event as it travels in the `batch` array. */
export interface CaptureEvent {
  event: string;
  /** Canonical lower-case UUID, generated once and kept across every attempt. */
  uuid: string;
  distinct_id: string;
  /** RFC 3339, UTC. */
  timestamp: string;
  session_id?: string;
  window_id?: string;
  options: CaptureEventOptions;
  properties: Record<string, unknown>;
}

/** The request body. `api_key`, `sent_at` and `$lib` never appear in it. */
export interface CaptureRequestBody {
  created_at: string;
  historical_migration?: true;
  batch: CaptureEvent[];
}

/** One entry of a 2xx response's `results` map. Codes other than the four known ones count as accepted. */
export interface EventResult {
  result: string;
  details?: string;
}

/**
 * Why an event was not delivered. The wire layer produces the reasons up to `shutdown`; the
 * OpenTelemetry side adds the ones about records that never reached it.
 */
export type DropReason =
  | 'server_drop'
  | `status_${number}`
  | 'retry_exhausted'
  | 'malformed_response'
  | 'too_large'
  | 'deadline'
  | 'shutdown'
  | 'internal_error'
  | 'retry_buffer_full'
  | 'dry_run'
  | 'queue_full'
  | 'before_send'
  | 'invalid';

export interface DroppedEvent {
  event: CaptureEvent;
  reason: DropReason;
  /** The server's `details` for a `drop`, or the error message behind a terminal status. */
  details?: string;
  /** True when the event was not rejected, only not yet accepted (time, shutdown or attempts ran out). */
  transient: boolean;
  /** Attempts made for the event so far, earlier sends included. */
  attempts: number;
  /** For an event stopped by a deadline: the earliest time a resend would respect the backoff and Retry-After. */
  notBefore?: number;
  /** When the server asked for a wait (`Retry-After`): the earliest time it allows a resend. */
  retryAfterUntil?: number;
}

/** What became of every event handed to one send: `delivered + dropped.length === events.length`. */
export interface SendReport {
  delivered: number;
  dropped: DroppedEvent[];
  /** HTTP requests made, every attempt counted. */
  requests: number;
  /** Attempts beyond the first of each request. */
  retries: number;
}

/** Request body encoding: zstd, gzip, zlib-wrapped deflate (RFC 1950), or plain JSON. */
export type Compression = 'zstd' | 'gzip' | 'deflate' | 'none';

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

/** Request body encoding: zstd, gzip, zlib-wrapped deflate (RFC 1950), or plain JSON. */
export type Compression = 'zstd' | 'gzip' | 'deflate' | 'none';

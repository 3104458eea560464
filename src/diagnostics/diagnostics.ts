import { diag, type DiagLogger } from '@opentelemetry/api';
import type { DropReason } from '../capture/types.ts';

const component: DiagLogger = diag.createComponentLogger({ namespace: 'opentelemetry-exporter-posthog' });
let echo = false;

/**
 * Our logger: messages go to OpenTelemetry's `diag` (visible once the app sets a diag logger, e.g.
 * through `OTEL_LOG_LEVEL` with NodeSDK). In debug mode warnings and errors also go to the console,
 * so a misconfiguration shows up without any diag setup.
 */
export const logger: DiagLogger = {
  error: (message, ...args) =>
    safely(() => {
      component.error(message, ...args);
      if (echo) console.error(`[posthog-otel] error: ${message}`);
    }),
  warn: (message, ...args) =>
    safely(() => {
      component.warn(message, ...args);
      if (echo) console.warn(`[posthog-otel] warning: ${message}`);
    }),
  info: (message, ...args) => safely(() => component.info(message, ...args)),
  debug: (message, ...args) => safely(() => component.debug(message, ...args)),
  verbose: (message, ...args) => safely(() => component.verbose(message, ...args)),
};

/** A diag logger the application installed may throw; reporting must never break delivery. */
function safely(write: () => void): void {
  try {
    write();
  } catch {
    // Nowhere left to report it.
  }
}

/** Turns console echo of warnings and errors on (debug mode). It stays on for the process. */
export function echoDiagnosticsToConsole(): void {
  echo = true;
}

/** Replaces every occurrence of the API key, so a message can never leak it. */
export function redact(text: string, apiKey: string): string {
  return apiKey.length >= 4 ? text.split(apiKey).join('[redacted]') : text;
}

/** Hides the API key, and anything shaped like a PostHog key (one echoed back from the wrong setting). */
export function hideKeys(text: string, apiKey: string): string {
  return redact(text, apiKey).replace(/ph[cx]_[\w-]+/g, 'ph*_***');
}

/** A URL fit for a message: scheme, host, port and path; never credentials, a query or a fragment. */
export function publicUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** How often a continuing kind of loss is reported again. */
export const DROP_WARNING_INTERVAL_MILLIS = 60_000;

/**
 * Warns about lost events: at the first drop of each reason, then at most once per interval while
 * drops of that reason continue, with the count since the last warning. Never just once per process.
 */
export class DropWarnings {
  private readonly _last = new Map<string, { at: number; unreported: number; total: number }>();
  private readonly _now: () => number;
  private readonly _warn: (message: string) => void;

  constructor(now: () => number, warn: (message: string) => void) {
    this._now = now;
    this._warn = warn;
  }

  record(reason: DropReason, count: number, details: string | undefined): void {
    if (count <= 0) return;
    const now = this._now();
    const state = this._last.get(reason);
    if (state === undefined) {
      this._last.set(reason, { at: now, unreported: 0, total: count });
      this._warn(
        `dropped ${count} event(s): ${describeReason(reason)}${details ? ` (${details})` : ''}. Later drops of this kind are reported at most once a minute; getStats() counts them all.`,
      );
      return;
    }
    state.unreported += count;
    state.total += count;
    if (now - state.at >= DROP_WARNING_INTERVAL_MILLIS) {
      this._warn(
        `dropped ${state.unreported} more event(s) in the last ${Math.round((now - state.at) / 1000)} s: ${describeReason(reason)}${details ? ` (${details})` : ''}; ${state.total} in all.`,
      );
      state.at = now;
      state.unreported = 0;
    }
  }
}

const REASONS: Record<string, string> = {
  queue_full: 'the batch queue was full (raise maxQueueSize or OTEL_BLRP_MAX_QUEUE_SIZE)',
  before_send: 'beforeSend dropped them',
  server_drop: 'PostHog rejected them',
  retry_exhausted: 'every attempt failed',
  malformed_response: 'the server answered success with an unreadable body',
  too_large: 'the event is too large for PostHog',
  deadline: 'the export ran out of time',
  shutdown: 'the pipeline was shut down',
  invalid: 'the record could not be turned into an event',
  internal_error: 'an internal error',
  dry_run: 'dry run: printed, not sent',
  retry_buffer_full: 'the retry buffer was full during an outage (raise retryBufferMaxEvents or retryBufferMaxBytes, or set spoolDir)',
};

export function describeReason(reason: DropReason): string {
  if (reason.startsWith('status_')) return `PostHog answered HTTP ${reason.slice('status_'.length)}`;
  return REASONS[reason] ?? reason;
}

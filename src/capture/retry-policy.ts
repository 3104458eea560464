// Which outcomes are retried, and how long to wait before the next attempt (protocol doc §10–§12).

/** 408 and these 5xx are transient; every other status, 429 and 413 included, is terminal. */
const RETRYABLE_STATUSES = new Set([408, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

export interface BackoffSettings {
  initialDelayMillis: number;
  maxDelayMillis: number;
}

/** Share of the exponential delay added at random, so many senders recovering together spread out. */
const JITTER = 0.25;

/**
 * Delay before attempt `nextAttempt` (2 for the first retry): `initial * 2^(n-2)`, plus up to 25 %
 * jitter, capped at `maxDelayMillis`. A `Retry-After` is a floor, itself capped, never a shortening.
 */
export function retryDelay(
  nextAttempt: number,
  settings: BackoffSettings,
  retryAfterMillis: number | undefined,
  random: () => number,
): number {
  const exponent = Math.min(Math.max(nextAttempt - 2, 0), 30);
  const base = settings.initialDelayMillis * 2 ** exponent;
  const own = Math.min(settings.maxDelayMillis, base * (1 + JITTER * random()));
  const floor = retryAfterMillis === undefined ? 0 : Math.min(retryAfterMillis, settings.maxDelayMillis);
  return Math.max(own, floor);
}

const DELTA_SECONDS = /^\d+(\.\d+)?$/;
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const ASCTIME = 2;
/** IMF-fixdate, RFC 850 and asctime (RFC 9110 §5.6.7). */
const HTTP_DATE = [
  new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT$`),
  new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-${MONTH}-\\d{2} \\d{2}:\\d{2}:\\d{2} GMT$`),
  new RegExp(`^${DAY} ${MONTH} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4}$`),
];

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds (fractions allowed) or an HTTP-date.
 * Zero, past, negative or unparseable values give undefined, meaning "no floor".
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMillis: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === '' || text.length > 64) return undefined;
  if (DELTA_SECONDS.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isFinite(ms) && ms > 0 ? ms : undefined;
  }
  // Only the three forms RFC 9110 defines; Date.parse alone would also read "later 2099" as a date.
  const form = HTTP_DATE.findIndex((pattern) => pattern.test(text));
  if (form === -1) return undefined;
  // asctime carries no zone; HTTP dates are always UTC, and Date.parse would read it as local time.
  const at = Date.parse(form === ASCTIME ? `${text} GMT` : text);
  if (!Number.isFinite(at)) return undefined;
  const delta = at - nowMillis;
  return delta > 0 ? delta : undefined;
}

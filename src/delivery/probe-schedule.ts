import { retryDelay, type BackoffSettings } from '../capture/retry-policy.ts';

/**
 * The pace of an outage. While PostHog takes nothing, one request at a time asks whether it is back
 * (a probe), and each failure makes the next one wait longer: the same backoff as a request's own
 * attempts, counted over the outage rather than per request, so the rate of requests does not grow
 * with the rate of exports. A `Retry-After` is a floor, as everywhere.
 */
export class ProbeSchedule {
  private readonly _backoff: BackoffSettings;
  private readonly _random: () => number;
  private _failures = 0;
  private _nextAt = -Infinity;

  constructor(backoff: BackoffSettings, random: () => number) {
    this._backoff = backoff;
    this._random = random;
  }

  /** Failed deliveries since the outage began, the one that began it included. */
  get failures(): number {
    return this._failures;
  }

  /** The earliest time the next probe may go. */
  get nextAt(): number {
    return this._nextAt;
  }

  /** A delivery failed: the outage's next probe waits out the backoff of one more attempt. */
  failed(now: number, retryAfterUntil: number | undefined): void {
    this._failures++;
    const delay = retryDelay(this._failures + 1, this._backoff, undefined, this._random);
    this._nextAt = Math.max(now + delay, retryAfterUntil ?? -Infinity);
  }

  /** The outage is over: the next one starts from the first delay again. */
  reset(): void {
    this._failures = 0;
    this._nextAt = -Infinity;
  }
}

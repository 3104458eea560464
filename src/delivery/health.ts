import { isUnreachable, type FailureCause } from '../capture/send-report.ts';

/**
 * What the observer hears: PostHog stopped taking events (an outage began), failed again while
 * down, or took events again (the outage since `since` is over).
 */
export type HealthChange =
  | { kind: 'outage'; cause: FailureCause; at: number }
  | { kind: 'still-failing'; cause: FailureCause; at: number; since: number }
  | { kind: 'recovered'; at: number; since: number };

/**
 * Whether PostHog is taking events, and why not. A delivery that got nothing through starts an
 * outage; any event delivered ends it. These transitions happen here only, and each is reported
 * once to the observer, as is every further failure during an outage.
 */
export class DeliveryHealth {
  private _outageSince: number | undefined;
  private _lastFailure: FailureCause | undefined;
  private readonly _onChange: ((change: HealthChange) => void) | undefined;

  constructor(onChange?: (change: HealthChange) => void) {
    this._onChange = onChange;
  }

  /** True from a delivery that got nothing through until one that does. */
  get outage(): boolean {
    return this._outageSince !== undefined;
  }

  /** When the outage began, if there is one. */
  get outageSince(): number | undefined {
    return this._outageSince;
  }

  /** The last failure seen (refused, DNS, TLS, timeout, network, or an HTTP status), if any. */
  get lastFailure(): FailureCause | undefined {
    return this._lastFailure;
  }

  /** The last failure says PostHog cannot be reached at all. */
  get unreachable(): boolean {
    return isUnreachable(this._lastFailure);
  }

  /** A delivery got nothing through. */
  failed(cause: FailureCause, at: number): void {
    this._lastFailure = cause;
    const since = this._outageSince;
    if (since !== undefined) return this._notify({ kind: 'still-failing', cause, at, since });
    this._outageSince = at;
    this._notify({ kind: 'outage', cause, at });
  }

  /** PostHog took events. Returns true when this ends an outage. */
  delivered(at: number): boolean {
    const since = this._outageSince;
    if (since === undefined) return false;
    this._outageSince = undefined;
    this._notify({ kind: 'recovered', at, since });
    return true;
  }

  private _notify(change: HealthChange): void {
    try {
      this._onChange?.(change);
    } catch {
      // An observer's failure must not change delivery.
    }
  }
}

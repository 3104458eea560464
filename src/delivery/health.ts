import { isUnreachable, type FailureCause } from '../capture/send-report.ts';

/** A change of delivery health: PostHog stopped taking events, or took them again. */
export type HealthChange = { kind: 'outage'; cause: FailureCause | undefined; at: number } | { kind: 'recovered'; at: number; since: number };

/**
 * Whether PostHog is taking events, and why not. A delivery that got nothing through and had to keep
 * its events starts an outage; any event delivered ends it. These two transitions happen here only,
 * and each is reported once to the observer.
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

  /** The last failure seen (refused, DNS, TLS, timeout, network, or an HTTP status), if any. */
  get lastFailure(): FailureCause | undefined {
    return this._lastFailure;
  }

  /** The last failure says PostHog cannot be reached at all. */
  get unreachable(): boolean {
    return isUnreachable(this._lastFailure);
  }

  /** A delivery got nothing through and kept its events for later. */
  failed(cause: FailureCause | undefined, at: number): void {
    if (cause !== undefined) this._lastFailure = cause;
    if (this._outageSince !== undefined) return;
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

import type { HealthChange } from '../delivery/health.ts';
import { DROP_WARNING_INTERVAL_MILLIS } from './diagnostics.ts';
import { describeDuration, describeFailure } from './failure-text.ts';

export interface OutageWarningSettings {
  /** Where events go: scheme, host and port only; never credentials, a path or a query. */
  origin: string;
  /** Whether undelivered events wait for retry (a retry buffer), or are dropped once their attempts run out. */
  holds: boolean;
  /** Events not delivered yet, to be sent once PostHog answers. */
  held: () => number;
  /** Events dropped so far, for every reason. */
  dropped: () => number;
  warn: (message: string) => void;
}

/**
 * Makes an outage visible: a warning as soon as a delivery fails, naming the host and the cause;
 * another at most once a minute while it lasts, with what is held; one when PostHog takes events
 * again, with what was held and for how long.
 */
export class OutageWarnings {
  private readonly _s: OutageWarningSettings;
  private _warnedAt = -Infinity;
  private _droppedBefore = 0;
  /** The most events seen held during this outage. */
  private _mostHeld = 0;

  constructor(settings: OutageWarningSettings) {
    this._s = settings;
  }

  observe(change: HealthChange): void {
    this._mostHeld = Math.max(change.kind === 'outage' ? 0 : this._mostHeld, this._s.held());
    if (change.kind === 'outage') this._began(change);
    else if (change.kind === 'still-failing') this._continues(change);
    else this._ended(change);
  }

  private _began(change: Extract<HealthChange, { kind: 'outage' }>): void {
    this._droppedBefore = this._s.dropped();
    const fate = this._s.holds
      ? 'Events wait for retry and go out once it answers'
      : 'Events are dropped once their attempts run out (the retry buffer is off)';
    this._warn(
      change.at,
      `cannot deliver to PostHog at ${this._s.origin}: ${describeFailure(change.cause)}. ${fate}; getStats().status is 'outage'. Reported again at most once a minute while this lasts.`,
    );
  }

  private _continues(change: Extract<HealthChange, { kind: 'still-failing' }>): void {
    if (change.at - this._warnedAt < DROP_WARNING_INTERVAL_MILLIS) return;
    const parts = [this._s.holds ? `${this._s.held()} event(s) held for retry` : '', this._droppedSince()].filter((part) => part !== '');
    this._warn(
      change.at,
      `PostHog at ${this._s.origin} still fails after ${describeDuration(change.at - change.since)}: ${describeFailure(change.cause)}${parts.length > 0 ? `; ${parts.join('; ')}` : ''}.`,
    );
  }

  private _ended(change: Extract<HealthChange, { kind: 'recovered' }>): void {
    const held = this._s.held();
    const parts = [
      this._mostHeld > 0 ? `up to ${this._mostHeld} event(s) were held, the ${held} still waiting are being sent now` : '',
      this._droppedSince(),
    ].filter((part) => part !== '');
    this._warn(
      change.at,
      `PostHog at ${this._s.origin} takes events again, after ${describeDuration(change.at - change.since)} of failures${parts.length > 0 ? `; ${parts.join('; ')}` : ''}.`,
    );
  }

  private _droppedSince(): string {
    const dropped = this._s.dropped() - this._droppedBefore;
    return dropped > 0 ? `${dropped} event(s) dropped since it began (getStats().dropped says why)` : '';
  }

  private _warn(at: number, message: string): void {
    this._warnedAt = at;
    this._s.warn(message);
  }
}

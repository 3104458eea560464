import type { FailureCause } from '../capture/send-report.ts';
import type { DeliveryHealth } from './health.ts';

/**
 * What state a pipeline is in: `ok` (sending), `disabled` (nothing is sent: no API key, a personal
 * key, an unusable host…), `dry-run` (events are printed, never sent) or `outage` (PostHog took
 * nothing of the last delivery; events wait for retry).
 */
export type PipelineState = 'ok' | 'disabled' | 'dry-run' | 'outage';

/** An outage: since when PostHog has taken nothing (clock milliseconds), and the last failure. */
export interface OutageStatus {
  since: number;
  cause: FailureCause;
}

/** The state part of `getStats()`: the state, with the reason for `disabled` and the cause for `outage`. */
export interface PipelineStatus {
  status: PipelineState;
  /** Why nothing is sent; only when `status` is `disabled`. */
  disabledReason?: string;
  /** Only when `status` is `outage`. */
  outage?: OutageStatus;
}

export interface StatusSource {
  enabled: boolean;
  dryRun: boolean;
  /** Why `enabled` is false, fit for a message (no key in it). */
  disabledReason?: string | undefined;
  /** The delivery's health, when events are sent. */
  health?: DeliveryHealth | undefined;
}

/** The state from the configuration and, when sending, from the delivery's health. */
export function pipelineStatus(source: StatusSource): PipelineStatus {
  if (source.dryRun) return { status: 'dry-run' };
  if (!source.enabled) return { status: 'disabled', disabledReason: source.disabledReason ?? 'disabled by its configuration' };
  const since = source.health?.outageSince;
  const cause = source.health?.lastFailure;
  if (since !== undefined && cause !== undefined) return { status: 'outage', outage: { since, cause } };
  return { status: 'ok' };
}

// Events about persons and groups. Ingestion drops them when person processing is off, so sent
// personless they are lost without a signal: they are refused here instead, and counted.

import type { CaptureEventOptions } from '../capture/types.ts';

/** Events that change persons or groups: each needs a distinct id and person processing. */
export const PERSON_EVENTS: ReadonlySet<string> = new Set(['$identify', '$create_alias', '$merge_dangerously', '$groupidentify']);

export type PersonEventCheck =
  /** `$groupidentify` without an id: the group's own id, as posthog-node gives it. */
  | { distinctId: string }
  /** PostHog would discard the event: why. */
  | { invalid: string };

/** Undefined when the event is no person event, or is one that can go as it is. */
export function refusedPersonEvent(
  event: string,
  attributes: Readonly<Record<string, unknown>>,
  distinctId: string | undefined,
  options: CaptureEventOptions,
): PersonEventCheck | undefined {
  if (!PERSON_EVENTS.has(event)) return undefined;
  if (options.process_person_profile === false) {
    return { invalid: `${event} with posthog.process_person_profile false: PostHog discards person and group events without person processing` };
  }
  if (distinctId !== undefined) return undefined;
  if (event === '$groupidentify') {
    const type = groupPart(attributes, '$group_type');
    const key = groupPart(attributes, '$group_key');
    if (type !== undefined && key !== undefined) return { distinctId: `$${type}_${key}` };
    return { invalid: '$groupidentify without a distinct id needs $group_type and $group_key attributes' };
  }
  return { invalid: `${event} without a distinct id: sent personless, PostHog would discard it` };
}

function groupPart(attributes: Readonly<Record<string, unknown>>, key: string): string | undefined {
  let value: unknown;
  try {
    value = attributes[key];
  } catch {
    return undefined;
  }
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

// Events about persons and groups. Ingestion drops them when person processing is off, so sent
// personless they are lost without a signal: they are refused here instead, and counted.

import type { CaptureEventOptions } from '../capture/types.ts';

/** Events that change persons or groups: each needs a distinct id and person processing. */
export const PERSON_EVENTS: ReadonlySet<string> = new Set(['$identify', '$create_alias', '$merge_dangerously', '$groupidentify']);

/**
 * Ids capture takes for an SDK bug (trimmed, in any case): it turns person processing off for their
 * events, and ingestion then discards person and group events. From capture's `ILLEGAL_DISTINCT_IDS`.
 */
const ILLEGAL_DISTINCT_IDS: ReadonlySet<string> = new Set([
  '0',
  '00000000-0000-0000-0000-000000000000',
  '[object object]',
  'anonymous',
  'anonymous-user',
  'backend',
  'distinct_id',
  'distinctid',
  'email',
  'false',
  'guest',
  'id',
  'nan',
  'none',
  'not_authenticated',
  'null',
  'system',
  'true',
  'undefined',
  'user',
]);

export type PersonEventCheck =
  /** `$groupidentify` without an id (or with a placeholder one): the group's own id, as posthog-node gives it. */
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
    return {
      invalid: `${event} with posthog.process_person_profile false: PostHog discards person and group events without person processing`,
    };
  }
  const placeholder = distinctId !== undefined && ILLEGAL_DISTINCT_IDS.has(distinctId.trim().toLowerCase());
  if (distinctId !== undefined && !placeholder) return undefined;
  if (event === '$groupidentify') {
    // The group's own id, as posthog-node gives it: the event is about the group, not a person.
    const type = groupPart(attributes, '$group_type');
    const key = groupPart(attributes, '$group_key');
    if (type !== undefined && key !== undefined) return { distinctId: `$${type}_${key}` };
    if (!placeholder) return { invalid: '$groupidentify without a distinct id needs $group_type and $group_key attributes' };
  }
  if (placeholder) {
    return {
      invalid: `${event} with distinct id ${JSON.stringify(distinctId)}: it is a placeholder id PostHog does not process persons for, so ingestion would discard it`,
    };
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

/**
 * {@link refusedPersonEvent} for an event a `beforeSend` hook returned: its options may hold what
 * capture coerces (`"false"`, `0`), and an empty distinct id is none.
 */
export function refusedReturnedPersonEvent(event: {
  event: string;
  distinct_id: string;
  properties: Record<string, unknown>;
  options: CaptureEventOptions;
}): PersonEventCheck | undefined {
  if (!PERSON_EVENTS.has(event.event)) return undefined;
  const off = event.options.process_person_profile as unknown;
  const disabled = off === false || off === 0 || (typeof off === 'string' && ['false', '0'].includes(off.trim().toLowerCase()));
  const id = event.distinct_id.trim() === '' ? undefined : event.distinct_id;
  return refusedPersonEvent(event.event, event.properties, id, disabled ? { process_person_profile: false } : {});
}

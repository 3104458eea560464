import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { RecordSelectionSettings } from '../config/sections.ts';
import { ATTR_EVENT_NAME, ATTR_EXCEPTION_MESSAGE, ATTR_EXCEPTION_TYPE, POSTHOG_EVENT } from '../mapping/attribute-keys.ts';

/** Severity of a record that has none, as the logs data model suggests (INFO). */
const UNSPECIFIED_SEVERITY = 9;

/** The event name a record carries itself, if any: `eventName`, then `posthog.event`, then legacy `event.name`. */
export function explicitEventName(record: Pick<ReadableLogRecord, 'eventName' | 'attributes'>): string | undefined {
  if (typeof record.eventName === 'string' && record.eventName !== '') return record.eventName;
  const attributes = record.attributes;
  const fromPostHog = attributes[POSTHOG_EVENT];
  if (typeof fromPostHog === 'string' && fromPostHog !== '') return fromPostHog;
  const legacy = attributes[ATTR_EVENT_NAME];
  if (typeof legacy === 'string' && legacy !== '') return legacy;
  return undefined;
}

export function hasException(attributes: ReadableLogRecord['attributes']): boolean {
  const type = attributes[ATTR_EXCEPTION_TYPE];
  const message = attributes[ATTR_EXCEPTION_MESSAGE];
  return (typeof type === 'string' && type !== '') || (typeof message === 'string' && message !== '');
}

/** The selection section of the configuration, and the scopes that are never selected. */
export interface SelectionSettings extends RecordSelectionSettings {
  /** Scopes whose records are never events, such as our own diagnostics. */
  ignoredScopes: ReadonlySet<string>;
}

/**
 * Decides, at `onEmit`, whether a record becomes a PostHog event. Events (an event name, a
 * `posthog.event` attribute, or exception attributes) always do; plain log lines only with
 * `logRecords: 'all'` and a severity at or above `minSeverity`.
 */
export function isSelected(
  record: Pick<ReadableLogRecord, 'eventName' | 'attributes' | 'severityNumber' | 'instrumentationScope'>,
  settings: SelectionSettings,
): boolean {
  if (settings.ignoredScopes.has(record.instrumentationScope.name)) return false;
  if (explicitEventName(record) !== undefined || hasException(record.attributes)) return true;
  if (settings.logRecords !== 'all') return false;
  const severity = record.severityNumber || UNSPECIFIED_SEVERITY;
  return severity >= settings.minSeverity;
}

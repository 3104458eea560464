import type { Compression } from '../capture/types.ts';
import { BOOLEAN_SPELLINGS, parseBoolean } from './boolean.ts';
import type { PostHogLogRecordProcessorOptions, ResourcePropertiesRule } from './options.ts';

export type Environment = Record<string, string | undefined>;

/** Options read from the environment, and one warning per value that could not be used. */
export interface EnvironmentOptions {
  options: PostHogLogRecordProcessorOptions;
  warnings: string[];
  /** The variable the API key came from, when it came from one. */
  apiKeyVariable?: string;
}

/** Node turns longer timer delays into 1 ms, which would make every timeout fire at once. */
export const MAX_TIMER_MILLIS = 2_147_483_647;

/** Where the API key may come from, first set wins. */
export const API_KEY_VARIABLES = ['POSTHOG_API_KEY', 'POSTHOG_PROJECT_TOKEN', 'POSTHOG_PROJECT_API_KEY'] as const;

const SEVERITY_NAMES: Record<string, number> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, WARNING: 13, ERROR: 17, FATAL: 21 };

/**
 * Reads our environment variables into options. Pure: it reads only `env` and logs nothing.
 * As OpenTelemetry specifies, an empty value is unset and a bad value is ignored with a warning.
 */
export function optionsFromEnvironment(env: Environment): EnvironmentOptions {
  const warnings: string[] = [];
  const options: PostHogLogRecordProcessorOptions = {};
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const ignored = (name: string, expected: string): void => {
    warnings.push(`${name} is ignored: expected ${expected}, got "${truncate(env[name] ?? '')}".`);
  };
  const positiveInteger = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (Number.isInteger(n) && n > 0 && n <= MAX_TIMER_MILLIS) return n;
    ignored(name, 'a positive whole number up to 2147483647');
    return undefined;
  };
  const nonNegativeInteger = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (Number.isInteger(n) && n >= 0 && n <= MAX_TIMER_MILLIS) return n;
    ignored(name, 'a whole number of milliseconds from 0 to 2147483647');
    return undefined;
  };
  const bool = (name: string): boolean | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const parsed = parseBoolean(value);
    if (parsed === undefined) ignored(name, BOOLEAN_SPELLINGS);
    return parsed;
  };
  // A dry run asked for in a spelling we cannot read is still a dry run: guessing "off" would send real events.
  const dryRun = (name: string): boolean | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const parsed = parseBoolean(value);
    if (parsed !== undefined) return parsed;
    warnings.push(`${name} is not a boolean (expected ${BOOLEAN_SPELLINGS}), got "${truncate(value)}": taken as true, so nothing is sent.`);
    return true;
  };

  const apiKeyVariable = API_KEY_VARIABLES.find((name) => text(name) !== undefined);
  if (apiKeyVariable !== undefined) options.apiKey = text(apiKeyVariable);
  const host = text('POSTHOG_HOST');
  if (host !== undefined) options.host = host;

  const compression = text('POSTHOG_CAPTURE_COMPRESSION')?.toLowerCase();
  if (compression !== undefined) {
    if (compression === 'zstd' || compression === 'gzip' || compression === 'deflate' || compression === 'none')
      options.compression = compression as Compression;
    else if (compression === 'identity') options.compression = 'none';
    else ignored('POSTHOG_CAPTURE_COMPRESSION', 'zstd, gzip, deflate or none');
  }

  const headers = text('POSTHOG_OTEL_HEADERS');
  if (headers !== undefined) {
    const parsed = parseHeaderList(headers);
    if (parsed.headers === undefined)
      warnings.push(
        'POSTHOG_OTEL_HEADERS is ignored: expected key=value pairs separated by commas, with header names and values HTTP can carry.',
      );
    else {
      options.headers = parsed.headers;
      // Values may be secrets: name only headers whose names are sound, never a value or a whole pair.
      if (parsed.ignored > 0) {
        const names = parsed.badValueNames.slice(0, 5).map((name) => JSON.stringify(name.slice(0, 40)));
        const named = names.length > 0 ? ` (${names.join(', ')}${parsed.badValueNames.length > names.length ? ', …' : ''})` : '';
        warnings.push(
          `POSTHOG_OTEL_HEADERS is partly ignored: ${parsed.ignored} pair(s)${named} left out; each must be key=value, with a header name and a value HTTP can carry (no line breaks or control characters).`,
        );
      }
    }
  }

  const set = <K extends keyof PostHogLogRecordProcessorOptions>(key: K, value: PostHogLogRecordProcessorOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  set('timeoutMillis', positiveInteger('POSTHOG_OTEL_TIMEOUT'));
  set('maxAttempts', positiveInteger('POSTHOG_OTEL_MAX_ATTEMPTS'));
  set('retryInitialDelayMillis', nonNegativeInteger('POSTHOG_OTEL_RETRY_INITIAL_DELAY'));
  set('retryMaxDelayMillis', nonNegativeInteger('POSTHOG_OTEL_RETRY_MAX_DELAY'));
  set('disableGeoip', bool('POSTHOG_DISABLE_GEOIP'));
  set('historicalMigration', bool('POSTHOG_HISTORICAL_MIGRATION'));
  set('debug', bool('POSTHOG_OTEL_DEBUG'));
  set('dryRun', dryRun('POSTHOG_OTEL_DRY_RUN'));
  set('deterministicUuids', bool('POSTHOG_OTEL_DETERMINISTIC_UUIDS'));
  set('flushTimeoutMillis', positiveInteger('POSTHOG_OTEL_FLUSH_TIMEOUT'));
  set('flushOnExit', bool('POSTHOG_OTEL_FLUSH_ON_EXIT'));
  set('retryBufferMaxEvents', nonNegativeInteger('POSTHOG_OTEL_RETRY_BUFFER_MAX_EVENTS'));
  set('retryBufferMaxBytes', nonNegativeInteger('POSTHOG_OTEL_RETRY_BUFFER_MAX_BYTES'));
  set('retryBufferMaxAgeMillis', nonNegativeInteger('POSTHOG_OTEL_RETRY_BUFFER_MAX_AGE'));
  set('spoolMaxBytes', positiveInteger('POSTHOG_OTEL_SPOOL_MAX_BYTES'));
  const spoolDir = text('POSTHOG_OTEL_SPOOL_DIR');
  if (spoolDir !== undefined) options.spoolDir = spoolDir;

  const logRecords = text('POSTHOG_OTEL_LOG_RECORDS')?.toLowerCase();
  if (logRecords === 'events' || logRecords === 'all') options.logRecords = logRecords;
  else if (logRecords !== undefined) ignored('POSTHOG_OTEL_LOG_RECORDS', '"events" or "all"');

  const minSeverity = text('POSTHOG_OTEL_MIN_SEVERITY');
  if (minSeverity !== undefined) {
    const n = SEVERITY_NAMES[minSeverity.toUpperCase()] ?? Number(minSeverity);
    if (Number.isInteger(n) && n >= 0 && n <= 24) options.minSeverity = n;
    else ignored('POSTHOG_OTEL_MIN_SEVERITY', 'a severity number 0-24 or TRACE, DEBUG, INFO, WARN, ERROR, FATAL');
  }

  const resource = text('POSTHOG_OTEL_RESOURCE_ATTRIBUTES');
  if (resource !== undefined) options.resourceAttributes = parseResourceRule(resource);

  // The batch processor no longer reads these itself; sdk-node treats 0 and below as invalid.
  set('scheduledDelayMillis', positiveInteger('OTEL_BLRP_SCHEDULE_DELAY'));
  set('maxExportBatchSize', positiveInteger('OTEL_BLRP_MAX_EXPORT_BATCH_SIZE'));
  set('maxQueueSize', positiveInteger('OTEL_BLRP_MAX_QUEUE_SIZE'));
  set('exportTimeoutMillis', positiveInteger('OTEL_BLRP_EXPORT_TIMEOUT'));

  return apiKeyVariable === undefined ? { options, warnings } : { options, warnings, apiKeyVariable };
}

/** A header name HTTP allows: an RFC 9110 token. */
export function isHeaderName(name: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name);
}

/** A header value HTTP can carry: tabs and visible or Latin-1 characters, no line breaks or controls. */
export function isHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

/**
 * `k=v,k2=v2`, values URL-decoded, like `OTEL_EXPORTER_OTLP_HEADERS`. Pairs HTTP cannot carry are
 * skipped and counted (kept, they would fail every request); `headers` is undefined when no pair is left.
 */
export function parseHeaderList(value: string): { headers: Record<string, string> | undefined; ignored: number; badValueNames: string[] } {
  const headers: Record<string, string> = {};
  let count = 0;
  let ignored = 0;
  const badValueNames: string[] = [];
  for (const part of value.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const name = eq > 0 ? part.slice(0, eq).trim() : '';
    const raw = part.slice(eq + 1).trim();
    if (!isHeaderName(name)) {
      ignored++;
      continue;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      decoded = raw;
    }
    if (!isHeaderValue(decoded)) {
      ignored++;
      badValueNames.push(name);
      continue;
    }
    headers[name] = decoded;
    count++;
  }
  return { headers: count > 0 ? headers : undefined, ignored, badValueNames };
}

function parseResourceRule(value: string): ResourcePropertiesRule {
  const lower = value.toLowerCase();
  if (lower === 'all' || lower === 'none' || lower === 'default') return lower;
  return value
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

import { CAPTURE_PATH } from '../capture/wire-request.ts';
import { BOOLEAN_SPELLINGS, parseBoolean } from './boolean.ts';
import {
  BATCH_DEFAULTS,
  CLIENT_DEFAULTS,
  DELIVERY_DEFAULTS,
  DIAGNOSTICS_DEFAULTS,
  MAPPING_DEFAULTS,
  SELECTION_DEFAULTS,
  SPOOL_DEFAULTS,
} from './defaults.ts';
import { isHeaderName, isHeaderValue, MAX_TIMER_MILLIS, optionsFromEnvironment, type Environment } from './env.ts';
import type { PostHogLogRecordProcessorOptions } from './options.ts';
import type { BatchSettings, ResolvedConfig } from './sections.ts';

/** Application hosts people paste by mistake, and the ingestion host each one means. */
const APP_HOSTS: Record<string, string> = {
  'us.posthog.com': 'https://us.i.posthog.com',
  'app.posthog.com': 'https://us.i.posthog.com',
  'eu.posthog.com': 'https://eu.i.posthog.com',
};

export interface Resolution {
  config: ResolvedConfig;
  /** Values that were ignored; the pipeline still runs. */
  warnings: string[];
  /** Problems that disable the pipeline (also summarised in `config.disabledReason`). */
  errors: string[];
}

type Options = PostHogLogRecordProcessorOptions;
/** Options whose value is a number, and those whose value is a yes or no. */
type NumberOption = { [K in keyof Options]-?: NonNullable<Options[K]> extends number ? K : never }[keyof Options];
type FlagOption = { [K in keyof Options]-?: NonNullable<Options[K]> extends boolean ? K : never }[keyof Options];

/** Options from code win over the environment, which wins over defaults. Never throws. */
export function resolveConfig(code: PostHogLogRecordProcessorOptions = {}, env: Environment = process.env): Resolution {
  const fromEnv = optionsFromEnvironment(env);
  const warnings = [...fromEnv.warnings];
  const errors: string[] = [];
  // An empty string in code means "not set here", as it does in the environment.
  const pick = <K extends keyof PostHogLogRecordProcessorOptions>(key: K): PostHogLogRecordProcessorOptions[K] =>
    code[key] !== undefined && code[key] !== '' ? code[key] : fromEnv.options[key];

  const number = (key: NumberOption, fallback: number, min: number, max = MAX_TIMER_MILLIS): number => {
    const value = pick(key);
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return Math.floor(value);
    warnings.push(`${key} is ignored: expected a number from ${min} to ${max}, got ${describe(value)}.`);
    return fallback;
  };
  const flag = (key: FlagOption, fallback: boolean): boolean => {
    const value: unknown = pick(key);
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    // Code often passes an environment value straight through (`dryRun: process.env.DRY_RUN`), or a number.
    const parsed = typeof value === 'string' ? parseBoolean(value) : value === 1 ? true : value === 0 ? false : undefined;
    if (parsed !== undefined) return parsed;
    if (key === 'dryRun') {
      warnings.push(
        `dryRun is not a boolean (expected true or false, or 1/0, or the strings ${BOOLEAN_SPELLINGS}), got ${describe(value)}: taken as true, so nothing is sent.`,
      );
      return true;
    }
    warnings.push(`${key} is ignored: expected true or false (or 1/0, or the strings ${BOOLEAN_SPELLINGS}), got ${describe(value)}.`);
    return fallback;
  };

  let compression = pick('compression') ?? CLIENT_DEFAULTS.compression;
  if (compression !== 'zstd' && compression !== 'gzip' && compression !== 'deflate' && compression !== 'none') {
    warnings.push(`compression is ignored: expected zstd, gzip, deflate or none, got ${describe(compression)}.`);
    compression = CLIENT_DEFAULTS.compression;
  }
  let logRecords = pick('logRecords') ?? SELECTION_DEFAULTS.logRecords;
  if (logRecords !== 'events' && logRecords !== 'all') {
    warnings.push(`logRecords is ignored: expected "events" or "all", got ${describe(logRecords)}.`);
    logRecords = SELECTION_DEFAULTS.logRecords;
  }
  const logEventName = pick('logEventName');

  const batch: BatchSettings = {
    maxExportBatchSize: number('maxExportBatchSize', BATCH_DEFAULTS.maxExportBatchSize, 1),
    scheduledDelayMillis: number('scheduledDelayMillis', BATCH_DEFAULTS.scheduledDelayMillis, 0),
    maxQueueSize: number('maxQueueSize', BATCH_DEFAULTS.maxQueueSize, 1),
    exportTimeoutMillis: number('exportTimeoutMillis', BATCH_DEFAULTS.exportTimeoutMillis, 1),
    flushOnExit: flag('flushOnExit', BATCH_DEFAULTS.flushOnExit),
  };
  const spoolDir = pick('spoolDir');
  // Checked even without a directory, so a bad value is reported before it matters.
  const spoolMaxBytes = number('spoolMaxBytes', SPOOL_DEFAULTS.maxBytes, 1, Number.MAX_SAFE_INTEGER);

  const config: ResolvedConfig = {
    enabled: true,
    apiKeySource: undefined,
    client: {
      ...CLIENT_DEFAULTS,
      apiKey: '',
      compression,
      headers: withoutClientManagedHeaders(mergeHeaders(fromEnv.options.headers, code.headers, warnings), warnings),
      historicalMigration: flag('historicalMigration', CLIENT_DEFAULTS.historicalMigration),
      maxAttempts: number('maxAttempts', CLIENT_DEFAULTS.maxAttempts, 1),
      retryInitialDelayMillis: number('retryInitialDelayMillis', CLIENT_DEFAULTS.retryInitialDelayMillis, 0),
      retryMaxDelayMillis: number('retryMaxDelayMillis', CLIENT_DEFAULTS.retryMaxDelayMillis, 0),
      dispatcher: code.dispatcher,
    },
    delivery: {
      sendTimeoutMillis: exportDeadlineMillis(number('timeoutMillis', DELIVERY_DEFAULTS.sendTimeoutMillis, 1), batch.exportTimeoutMillis),
      flushTimeoutMillis: number('flushTimeoutMillis', DELIVERY_DEFAULTS.flushTimeoutMillis, 1),
      retryBuffer: {
        maxEvents: number('retryBufferMaxEvents', DELIVERY_DEFAULTS.retryBuffer.maxEvents, 0, Number.MAX_SAFE_INTEGER),
        maxBytes: number('retryBufferMaxBytes', DELIVERY_DEFAULTS.retryBuffer.maxBytes, 0, Number.MAX_SAFE_INTEGER),
        maxAgeMillis: number('retryBufferMaxAgeMillis', DELIVERY_DEFAULTS.retryBuffer.maxAgeMillis, 0, Number.MAX_SAFE_INTEGER),
      },
    },
    spool: typeof spoolDir === 'string' && spoolDir.trim() !== '' ? { dir: spoolDir.trim(), maxBytes: spoolMaxBytes } : undefined,
    batch,
    selection: { logRecords, minSeverity: number('minSeverity', SELECTION_DEFAULTS.minSeverity, 0, 24) },
    mapping: {
      disableGeoip: flag('disableGeoip', MAPPING_DEFAULTS.disableGeoip),
      resourceAttributes: pick('resourceAttributes') ?? MAPPING_DEFAULTS.resourceAttributes,
      logEventName: typeof logEventName === 'string' && logEventName.trim() !== '' ? logEventName : MAPPING_DEFAULTS.logEventName,
      deterministicUuids: flag('deterministicUuids', MAPPING_DEFAULTS.deterministicUuids),
    },
    hooks: {
      beforeSend: typeof code.beforeSend === 'function' ? code.beforeSend : undefined,
      onDrop: typeof code.onDrop === 'function' ? code.onDrop : undefined,
    },
    diagnostics: { debug: flag('debug', DIAGNOSTICS_DEFAULTS.debug), dryRun: flag('dryRun', DIAGNOSTICS_DEFAULTS.dryRun) },
  };

  const host = normalizeHost(pick('host') ?? CLIENT_DEFAULTS.host);
  if ('error' in host) errors.push(host.error);
  else {
    config.client.host = host.host;
    const name = typeof code.host === 'string' && code.host !== '' ? 'host' : 'POSTHOG_HOST';
    if (host.schemeAdded)
      warnings.push(
        `${name} has no scheme: using ${host.host}. Write the https:// (or http:// for a server without TLS) to silence this note.`,
      );
    if (host.pathDropped !== undefined) {
      warnings.push(
        `${name} ends with the endpoint path ${host.pathDropped}: using ${host.host}, to which the capture path is added. Write the host alone to silence this note.`,
      );
    }
  }

  const apiKey = typeof pick('apiKey') === 'string' ? (pick('apiKey') as string).trim() : '';
  if (apiKey !== '')
    config.apiKeySource = typeof code.apiKey === 'string' && code.apiKey.trim() !== '' ? 'the apiKey option' : fromEnv.apiKeyVariable;
  if (apiKey === '' && config.diagnostics.dryRun) {
    // A dry run sends nothing, so it needs no key: users can look before they have one.
  } else if (apiKey === '') {
    config.enabled = false;
    config.disabledReason = 'no PostHog API key: set POSTHOG_API_KEY (or the apiKey option) to send events';
  } else if (!isHeaderValue(apiKey) || /\s/.test(apiKey)) {
    // Every attempt would fail before sending; never echo the key itself.
    errors.push(
      'the API key contains a space, a line break or another character an HTTP header cannot carry: copy the project API key (phc_…) again from your project settings',
    );
  } else if (apiKey.startsWith('phx_')) {
    errors.push(
      'the API key is a personal API key (phx_…), which PostHog refuses for capture and which must not be shipped with an application: use the project API key (phc_…) from your project settings',
    );
  } else {
    config.client.apiKey = apiKey;
  }

  if (errors.length > 0) {
    config.enabled = false;
    config.disabledReason = errors.join('; ');
  }
  return { config, warnings, errors };
}

/**
 * One export's time budget: `timeoutMillis`, kept below the batch processor's export timeout, so an
 * export settles its events before the batch processor gives up waiting for it.
 */
export function exportDeadlineMillis(timeoutMillis: number, exportTimeoutMillis: number): number {
  return Math.max(1, Math.min(timeoutMillis, Math.floor(exportTimeoutMillis * 0.9)));
}

/** Headers the HTTP client (undici) manages itself and refuses on a request: kept, every request would fail before it is sent. */
const CLIENT_MANAGED_HEADERS = new Set(['expect', 'upgrade', 'keep-alive', 'connection', 'transfer-encoding', 'host', 'content-length']);

/** Leaves out the headers the HTTP client refuses, with one warning that names them (never a value). */
function withoutClientManagedHeaders(headers: Record<string, string>, warnings: string[]): Record<string, string> {
  const refused = Object.keys(headers).filter((name) => CLIENT_MANAGED_HEADERS.has(name.toLowerCase()));
  if (refused.length === 0) return headers;
  const names = refused.map((name) => JSON.stringify(name)).join(', ');
  warnings.push(
    `headers: ${names} ${refused.length === 1 ? 'is' : 'are'} ignored: the HTTP client sets ${refused.length === 1 ? 'it' : 'them'} itself and refuses requests that carry ${refused.length === 1 ? 'it' : 'them'}.`,
  );
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CLIENT_MANAGED_HEADERS.has(name.toLowerCase())));
}

/**
 * Header names are case-insensitive: a code header replaces an environment one whatever the case.
 * A code header HTTP cannot carry is left out with a warning (the environment's are skipped when
 * parsed): kept, it would fail every request.
 */
function mergeHeaders(
  fromEnv: Record<string, string> | undefined,
  fromCode: Record<string, string> | undefined,
  warnings: string[],
): Record<string, string> {
  const merged = new Map<string, [string, string]>();
  for (const [name, value] of Object.entries(fromEnv ?? {})) merged.set(name.toLowerCase(), [name, value]);
  if (typeof fromCode === 'object' && fromCode !== null) {
    for (const [name, value] of Object.entries(fromCode)) {
      if (typeof value !== 'string') continue;
      // Values may be secrets (proxy credentials): name the header, never its value.
      // An invalid name may be a whole `Name: secret` line pasted as the name: it is never echoed.
      if (!isHeaderName(name))
        warnings.push(`headers: a header whose name is not a valid HTTP header name (${name.length} characters) is ignored.`);
      else if (!isHeaderValue(value))
        warnings.push(`headers: ${describe(name)} is ignored: its value has a line break or another character HTTP headers cannot carry.`);
      else merged.set(name.toLowerCase(), [name, value]);
    }
  }
  return Object.fromEntries(merged.values());
}

/** A short, safe description of a value for a warning; never throws. */
function describe(value: unknown): string {
  try {
    const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
    return text.length > 40 ? `${text.slice(0, 40)}…` : text;
  } catch {
    return `a value of type ${typeof value}`;
  }
}

const CREDENTIALS = 'it must not contain credentials (use the headers option for proxy authentication)';

/** Validates a host and maps PostHog's app hosts to their ingestion hosts. */
export function normalizeHost(raw: unknown): { host: string; schemeAdded?: true; pathDropped?: string } | { error: string } {
  // Never echo a secret: credentials, a query (`?api_key=`…) or fragment, a key pasted as the host.
  const shown =
    typeof raw === 'string'
      ? JSON.stringify(
          raw
            // Everything up to the last @, with or without a scheme: a password may hold @ or /.
            .replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^]*@/i, '$1***@')
            .replace(/[?#][^]*$/, '?…')
            .replace(/ph[cx]_[\w-]+/g, 'ph*_***'),
        ).slice(0, 80)
      : 'value';
  const invalid = (why: string): { error: string } => ({ error: `the PostHog host ${shown} is not usable: ${why}` });
  if (typeof raw !== 'string' || raw.trim() === '') return invalid('expected a URL such as https://eu.i.posthog.com');
  const trimmed = raw.trim();
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  if (!hasScheme && trimmed.includes('@')) return invalid(CREDENTIALS);
  // Without a scheme only a plain host[:port][/path] is taken as https; "http//x" or "https:/x" is a typo, not a host.
  if (!hasScheme && !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d+)?(\/(?!\/)[^\s]*)?$/i.test(trimmed))
    return invalid('it is not a valid URL (expected e.g. https://eu.i.posthog.com)');
  const withScheme = hasScheme ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return invalid('it is not a valid URL (expected e.g. https://eu.i.posthog.com)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return invalid(`the scheme must be https or http, not ${url.protocol.replace(':', '')}`);
  if (url.hostname === '') return invalid('it has no host name');
  if (url.username !== '' || url.password !== '') return invalid(CREDENTIALS);
  if (url.search !== '' || url.hash !== '') return invalid('it must not contain a query or fragment');
  let path = url.pathname.replace(/\/+$/, '');
  // An endpoint pasted as the host: the capture path would be added twice, and PostHog's own
  // ingestion hosts have no other paths (`/i/v1/logs` is its OTLP endpoint, `/batch` the old API).
  let pathDropped: string | undefined;
  const hostname = url.hostname.toLowerCase();
  if (hostname.endsWith('.i.posthog.com') && path !== '') [pathDropped, path] = [path, ''];
  else if (path.toLowerCase().endsWith(CAPTURE_PATH)) [pathDropped, path] = [CAPTURE_PATH, path.slice(0, -CAPTURE_PATH.length)];
  const app = APP_HOSTS[hostname];
  const host = app !== undefined && path === '' && url.port === '' ? app : `${url.protocol}//${url.host}${path}`;
  return { host, ...(hasScheme ? {} : { schemeAdded: true as const }), ...(pathDropped === undefined ? {} : { pathDropped }) };
}

// Shared by the configuration tests: every variable the package reads, a valid project key, and
// what a resolution says in words.

import type { Environment } from '../../src/config/env.ts';
import type { PostHogLogRecordProcessorOptions } from '../../src/config/options.ts';
import { resolveConfig, type Resolution } from '../../src/config/resolve.ts';

/** Every environment variable the package reads. */
export const ENV_NAMES = [
  'POSTHOG_API_KEY',
  'POSTHOG_PROJECT_TOKEN',
  'POSTHOG_PROJECT_API_KEY',
  'POSTHOG_HOST',
  'POSTHOG_CAPTURE_COMPRESSION',
  'POSTHOG_DISABLE_GEOIP',
  'POSTHOG_HISTORICAL_MIGRATION',
  'POSTHOG_OTEL_HEADERS',
  'POSTHOG_OTEL_TIMEOUT',
  'POSTHOG_OTEL_MAX_ATTEMPTS',
  'POSTHOG_OTEL_RETRY_INITIAL_DELAY',
  'POSTHOG_OTEL_RETRY_MAX_DELAY',
  'POSTHOG_OTEL_LOG_RECORDS',
  'POSTHOG_OTEL_DEBUG',
  'POSTHOG_OTEL_MIN_SEVERITY',
  'POSTHOG_OTEL_RESOURCE_ATTRIBUTES',
  'POSTHOG_OTEL_DRY_RUN',
  'POSTHOG_OTEL_DETERMINISTIC_UUIDS',
  'POSTHOG_OTEL_FLUSH_ON_EXIT',
  'OTEL_BLRP_SCHEDULE_DELAY',
  'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BLRP_MAX_QUEUE_SIZE',
  'OTEL_BLRP_EXPORT_TIMEOUT',
] as const;

export const KEY = 'phc_testProjectKey123';

/** resolveConfig with a valid key, so only the option under test can disable or warn. */
export const resolveWithKey = (env: Environment, code: PostHogLogRecordProcessorOptions = {}): Resolution =>
  resolveConfig(code, { POSTHOG_API_KEY: KEY, ...env });

/** All human-readable text a resolution produces. */
export const allText = (r: Resolution): string => [...r.warnings, ...r.errors, r.config.disabledReason ?? ''].join('\n');

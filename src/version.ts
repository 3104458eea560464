// Kept in step with package.json by scripts/sync-version.mjs, which `npm version` runs; a test checks it.
/** This package's version, sent to PostHog as `PostHog-Sdk-Info: opentelemetry-exporter-posthog/<VERSION>`. */
export const VERSION = '0.1.0';

import { VERSION } from '../version.ts';

/** How this package names itself to PostHog: the `User-Agent` and `PostHog-Sdk-Info` of every request. */
export const SDK_INFO = `opentelemetry-exporter-posthog/${VERSION}`;

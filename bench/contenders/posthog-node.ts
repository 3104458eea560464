// posthog-node in capture v1 mode: what a PostHog user would call instead of an OpenTelemetry pipeline.

import { PostHog } from 'posthog-node';
import { BATCH_SIZE, BENCH_API_KEY, distinctId, eventName, eventProperties } from '../workload/records.ts';

export interface PostHogNodeSettings {
  host: string;
  flushAt: number;
  maxBatchSize: number;
  maxQueueSize: number;
  flushInterval: number;
  requestTimeout: number;
  disableGeoip: boolean;
  disableCompression: boolean;
}

/** Batches as large as the other contenders', and a queue that holds the whole run (it never drops). */
export function posthogNodeSettings(sinkUrl: string, maxQueueSize: number): PostHogNodeSettings {
  return {
    host: sinkUrl,
    flushAt: BATCH_SIZE,
    maxBatchSize: BATCH_SIZE,
    maxQueueSize,
    flushInterval: 1_000,
    requestTimeout: 10_000,
    disableGeoip: true,
    disableCompression: false,
  };
}

export function posthogNodeClient(settings: PostHogNodeSettings): PostHog {
  // Read when the client is constructed.
  process.env.POSTHOG_CAPTURE_MODE = 'v1';
  return new PostHog(BENCH_API_KEY, settings);
}

/** Record i as a capture() call, with the properties our mapping produces for it. */
export function captureRecord(client: PostHog): (i: number) => void {
  return (i) => client.capture({ distinctId: distinctId(i), event: eventName(i), properties: eventProperties(i), timestamp: new Date() });
}

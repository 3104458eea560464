// Our processor as a user sets it up: through the env seam, with the sink as PostHog's host.

import type { PostHogEvent, PostHogLogRecordProcessorOptions } from '../../src/index.ts';
import { PostHogLogRecordProcessor } from '../../src/log-record-processor.ts';
import { BENCH_API_KEY } from '../workload/records.ts';
import type { BlrpSettings } from './log-pipelines.ts';

/** Our codecs, as POSTHOG_CAPTURE_COMPRESSION takes them. */
export type OursCompression = 'zstd' | 'gzip' | 'deflate' | 'none';

/** `compression` undefined: the processor's default. */
export function oursProcessor(
  sinkUrl: string,
  options: Partial<BlrpSettings> & Pick<PostHogLogRecordProcessorOptions, 'beforeSend'> = {},
  compression?: OursCompression,
): PostHogLogRecordProcessor {
  return new PostHogLogRecordProcessor(options, { env: oursEnv(sinkUrl, compression) });
}

export function oursEnv(sinkUrl: string, compression?: OursCompression): Record<string, string> {
  const env: Record<string, string> = { POSTHOG_API_KEY: BENCH_API_KEY, POSTHOG_HOST: sinkUrl };
  if (compression !== undefined) env.POSTHOG_CAPTURE_COMPRESSION = compression;
  return env;
}

/** A typical redaction hook, written as the README advises: one property set to undefined, which JSON leaves out. */
export function redactRequestId(event: PostHogEvent): PostHogEvent {
  event.properties['request.id'] = undefined;
  return event;
}

// The PostHog pipeline of examples/nextjs/instrumentation.ts, for the Node.js runtime only.
// Events come from `logs.getLogger('web').emit({ eventName: … })` (`logs` from
// @opentelemetry/api-logs on the 2.x line) and from span events, e.g. span.recordException().
import type { Configuration } from '@vercel/otel';
import { PostHogLogRecordProcessor, PostHogSpanEventProcessor } from 'opentelemetry-exporter-posthog';

export function posthogProcessors(): Pick<Configuration, 'logRecordProcessors' | 'spanProcessors'> {
  const posthog = new PostHogLogRecordProcessor(); // POSTHOG_API_KEY, POSTHOG_HOST from the environment
  return {
    logRecordProcessors: [posthog],
    // 'auto' keeps @vercel/otel's own span export next to ours.
    spanProcessors: ['auto', new PostHogSpanEventProcessor({ processor: posthog })],
  };
}

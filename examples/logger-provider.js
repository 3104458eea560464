// A bare LoggerProvider (no NodeSDK) whose only processor sends events to PostHog.
// Records with an event name become PostHog events; plain log lines are not sent by default.
//
// Run:  POSTHOG_API_KEY=phc_... node examples/logger-provider   (POSTHOG_HOST for EU or self-hosted)
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { PostHogLogRecordProcessor } from 'opentelemetry-exporter-posthog';

const provider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': 'billing' }), // sent as the `service_name` property
  processors: [new PostHogLogRecordProcessor()], // configured from POSTHOG_* environment variables
});
const logger = provider.getLogger('billing');

// `user.id` (or `posthog.distinct_id`, `enduser.id`) is the distinct_id; other attributes are properties.
logger.emit({ eventName: 'subscription_started', attributes: { 'user.id': 'user-7', plan: 'pro', seats: 5 } });
logger.emit({ eventName: 'invoice_paid', attributes: { 'posthog.distinct_id': 'user-7', amount_cents: 4900 } });

// A plain log line is not an event: it stays out of PostHog (set POSTHOG_OTEL_LOG_RECORDS=all to send it).
logger.emit({ body: 'cache warmed' });

// Sends what is queued, then stops: call it before the process exits.
await provider.shutdown();

// NodeSDK: traces go to your OTLP collector as usual, and PostHog gets the log records that are
// events plus the events of spans (span.addEvent, span.recordException), through one shared pipeline.
//
// Run:  POSTHOG_API_KEY=phc_... node examples/nodesdk
//       (POSTHOG_HOST for EU or self-hosted; OTEL_EXPORTER_OTLP_ENDPOINT for the collector,
//        default http://localhost:4318: if none listens, only the traces are lost.)
import { logs, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { PostHogLogRecordProcessor, PostHogSpanEventProcessor, withPostHogIdentity } from 'opentelemetry-exporter-posthog';

const posthog = new PostHogLogRecordProcessor();
const sdk = new NodeSDK({
  serviceName: 'shop',
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }), new PostHogSpanEventProcessor({ processor: posthog })],
  logRecordProcessors: [posthog],
  metricReaders: [], // this example sends no metrics
});
sdk.start();

// A log record with an event name is a PostHog event; `user.id` becomes its distinct_id.
logs.getLogger('shop').emit({ eventName: 'checkout_completed', attributes: { 'user.id': 'user-42', amount: 99.5 } });

// Each event of a span becomes a PostHog event when the span ends; an exception becomes `$exception`.
// Span events carry no user id of their own: the identity of the context the span starts in gives one.
withPostHogIdentity({ distinctId: 'user-42' }, () =>
  trace.getTracer('shop').startActiveSpan('checkout', (span) => {
    span.addEvent('payment_authorized', { provider: 'card' });
    span.recordException(new Error('receipt email failed'));
    span.end();
  }),
);

// Flushes the OTLP exporter and PostHog before exiting; an unreachable collector costs only the traces.
await sdk.shutdown().catch((error) => console.error(`shutdown: ${error.message}`));

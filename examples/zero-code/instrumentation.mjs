// A zero-code set-up: the application knows only the OpenTelemetry API, and this file, loaded first
// with `node --import ./instrumentation.mjs app.mjs`, starts the SDK. NodeSDK cannot load this
// package from environment variables (OTEL_LOGS_EXPORTER takes only otlp, console or none), so these
// lines stand in for them. Configuration stays in the environment: POSTHOG_API_KEY, POSTHOG_HOST,
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME…
//
// Run:  POSTHOG_API_KEY=phc_... node --import ./examples/zero-code/instrumentation.mjs examples/zero-code/app.mjs
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { PostHogLogRecordProcessor, PostHogSpanEventProcessor } from 'opentelemetry-exporter-posthog';

const posthog = new PostHogLogRecordProcessor();
const sdk = new NodeSDK({
  // instrumentations: [getNodeAutoInstrumentations()], from @opentelemetry/auto-instrumentations-node
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }), new PostHogSpanEventProcessor({ processor: posthog })],
  logRecordProcessors: [posthog],
  metricReaders: [], // this example sends no metrics
});
sdk.start();

for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => sdk.shutdown().finally(() => process.exit(0)));
// An application that simply ends: flush the traces too (the PostHog processor flushes itself).
process.once('beforeExit', () => sdk.shutdown().catch((error) => console.error(`shutdown: ${error.message}`)));

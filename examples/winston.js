// winston on OpenTelemetry JS 3.x. @opentelemetry/winston-transport emits through the logs global
// of the older @opentelemetry/api-logs package, while NodeSDK 0.30x registers its logger provider
// with @opentelemetry/api: without the one-line bridge below, winston's records reach a no-op
// logger and nothing is sent, silently. Only lines marked with `posthog.event` become events.
//
// Run:  POSTHOG_API_KEY=phc_... node examples/winston   (POSTHOG_HOST for EU or self-hosted)
import { logs } from '@opentelemetry/api';
import { logs as apiLogs } from '@opentelemetry/api-logs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import winston from 'winston';
import { PostHogLogRecordProcessor } from 'opentelemetry-exporter-posthog';

const posthog = new PostHogLogRecordProcessor();
const sdk = new NodeSDK({ serviceName: 'accounts', logRecordProcessors: [posthog], spanProcessors: [], metricReaders: [] });
sdk.start();
// The bridge: the old api-logs global hands out loggers of the provider NodeSDK just registered.
apiLogs.setGlobalLoggerProvider(logs.getLoggerProvider());

const logger = winston.createLogger({
  format: winston.format.json(),
  transports: [new winston.transports.Console(), new OpenTelemetryTransportV3()],
});

logger.info('user signed up', { 'posthog.event': 'signup_completed', 'user.id': 'u1', plan: 'free' });
logger.info('cache warmed'); // a plain log line: printed, not an event
logger.warn('quota almost used', { 'posthog.event': 'quota_warning', 'user.id': 'u1', used: 0.9 });

await sdk.shutdown();

// pino through @opentelemetry/instrumentation-pino: every log line goes to the OpenTelemetry logs API,
// and only the lines marked as events (a `posthog.event` field) become PostHog events.
//
// Run:  POSTHOG_API_KEY=phc_... node examples/pino   (POSTHOG_HOST for EU or self-hosted)
import { createRequire } from 'node:module';
import { logs } from '@opentelemetry/api';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { PostHogLogRecordProcessor } from 'opentelemetry-exporter-posthog';

// The instrumentation sends pino's lines to the global LoggerProvider.
const provider = new LoggerProvider({ processors: [new PostHogLogRecordProcessor()] });
logs.setGlobalLoggerProvider(provider);
new PinoInstrumentation(); // enabled on construction; NodeSDK users pass it in `instrumentations`

// Load pino after the instrumentation, with require: a static `import` runs before the lines above,
// and an `import` of pino is patched only if a file loaded with `node --import` first ran
// `module.register('@opentelemetry/instrumentation/hook.mjs', import.meta.url)`.
const pino = createRequire(import.meta.url)('pino');
const logger = pino();

logger.info('hello'); // a plain line: printed, not a PostHog event
logger.info({ 'posthog.event': 'signup_completed', 'user.id': 'u1', plan: 'free' }, 'user signed up');
logger.warn({ 'posthog.event': 'quota_warning', 'user.id': 'u1', used: 0.9 }, 'quota almost used');
logger.error('disk almost full'); // not an event either

await provider.shutdown();

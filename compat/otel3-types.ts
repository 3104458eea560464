// A TypeScript consumer of the packed package on the OpenTelemetry 3.x line (api 1.10, sdk-logs
// 3.x, sdk-trace 3.x). compat/run.sh compiles it as ESM (.mts) and as CommonJS (.cts)
// with `skipLibCheck: false`, so our .d.ts files are checked against the 3.x types.
import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import {
  PostHogLogRecordExporter,
  PostHogLogRecordProcessor,
  PostHogSpanEventProcessor,
  setPostHogIdentity,
  withFlush,
  type PostHogEvent,
  type PostHogStats,
} from 'opentelemetry-exporter-posthog';

const processor = new PostHogLogRecordProcessor({
  apiKey: 'phc_example',
  beforeSend: (event: PostHogEvent) => (event.event === 'noise' ? null : event),
});
const logProcessor: LogRecordProcessor = processor;
const spanProcessor: SpanProcessor = new PostHogSpanEventProcessor({ processor });
const exporter: LogRecordExporter = new PostHogLogRecordExporter({ apiKey: 'phc_example' });

export const loggerProvider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': 'typed' }),
  processors: [logProcessor, new SimpleLogRecordProcessor({ exporter })],
});
export const tracerProvider = new TracerProvider({ spanProcessors: [spanProcessor] });
export const context: Context = setPostHogIdentity(ROOT_CONTEXT, { distinctId: 'user-1' });
export const stats: PostHogStats = processor.getStats();
export const handler = withFlush(async (n: number) => n + 1, loggerProvider);

// A serverless (AWS Lambda style) handler: the platform may freeze the process as soon as the
// handler returns, so withFlush() sends the invocation's events before returning its result.
//
// Run:  POSTHOG_API_KEY=phc_... node examples/serverless   (POSTHOG_HOST for EU or self-hosted)
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { PostHogLogRecordProcessor, withFlush } from 'opentelemetry-exporter-posthog';

// Built once per cold start, outside the handler.
const posthog = new PostHogLogRecordProcessor();
const provider = new LoggerProvider({ processors: [posthog] });
const logger = provider.getLogger('orders-fn');

export const handler = withFlush(async (event) => {
  logger.emit({ eventName: 'order_placed', attributes: { 'user.id': event.userId, order_id: event.orderId } });
  return { statusCode: 201, body: JSON.stringify({ orderId: event.orderId }) };
}, posthog);

// Play the platform: two invocations, each flushed at its end, and how long each took.
for (const n of [1, 2]) {
  const started = performance.now();
  const result = await handler({ userId: `user-${n}`, orderId: `order-${n}` });
  console.log(result, `${Math.round(performance.now() - started)} ms`);
}

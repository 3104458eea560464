// Per-request identity: posthog-js (with tracing headers on) sends X-POSTHOG-DISTINCT-ID and
// X-POSTHOG-SESSION-ID to your backend; every event of that request gets that user and session.
// It needs a context manager: NodeSDK registers one (with bare providers, register
// AsyncLocalStorageContextManager from @opentelemetry/context-async-hooks).
//
// Run:  POSTHOG_API_KEY=phc_... node examples/http-identity   (POSTHOG_HOST for EU or self-hosted)
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { logs } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { PostHogLogRecordProcessor, identityFromHeaders, withPostHogIdentity } from 'opentelemetry-exporter-posthog';

const sdk = new NodeSDK({ logRecordProcessors: [new PostHogLogRecordProcessor()], spanProcessors: [], metricReaders: [] });
sdk.start();
const logger = logs.getLogger('reports');

async function handle(req, res) {
  logger.emit({ eventName: 'report_requested', attributes: { format: 'csv' } });
  await sleep(10); // the identity survives awaits
  logger.emit({ eventName: 'report_exported', attributes: { rows: 120 } });
  res.end('ok\n');
}

const server = createServer((req, res) => withPostHogIdentity(identityFromHeaders(req.headers), () => handle(req, res)));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

// Play the browser: one request with the headers posthog-js adds.
const response = await fetch(`http://127.0.0.1:${server.address().port}/report`, {
  headers: { 'X-POSTHOG-DISTINCT-ID': 'user-123', 'X-POSTHOG-SESSION-ID': '01960000-0000-7000-8000-000000000001' },
});
console.log(response.status, await response.text());

server.close();
await sdk.shutdown();

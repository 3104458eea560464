// Smoke test of the packed package's ES module build against the real OpenTelemetry packages
// installed beside this file (compat/run.sh copies it into a throwaway project of one OTel line).
// The tracer provider says which line that is: sdk-trace-base's BasicTracerProvider (2.x) when it
// is installed, sdk-trace's TracerProvider (3.x) otherwise.
//
// Run: FAKE_SERVER_MODULE=file:///…/test/support/fake-capture-server.ts node otel2-smoke.mjs
import assert from 'node:assert/strict';
import * as api from '@opentelemetry/api';
import * as resources from '@opentelemetry/resources';
import * as sdkLogs from '@opentelemetry/sdk-logs';
import * as posthog from 'opentelemetry-exporter-posthog';
import smoke from './smoke-scenario.cjs';

async function loadTracerProvider() {
  try {
    return { TracerProvider: (await import('@opentelemetry/sdk-trace-base')).BasicTracerProvider, from: 'sdk-trace-base' };
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return { TracerProvider: (await import('@opentelemetry/sdk-trace')).TracerProvider, from: 'sdk-trace' };
  }
}

assert.match(import.meta.resolve('opentelemetry-exporter-posthog'), /\/dist\/esm\/index\.js$/, 'import loads the ES module build');
if (!process.env.FAKE_SERVER_MODULE) throw new Error('set FAKE_SERVER_MODULE to the file URL of test/support/fake-capture-server.ts');
const { FakeCaptureServer } = await import(process.env.FAKE_SERVER_MODULE);
const { TracerProvider, from } = await loadTracerProvider();
const result = await smoke.runSmoke({ posthog, api, sdkLogs, resources, TracerProvider, FakeCaptureServer });
console.log(`ok esm (${from}): ${result.events} events in ${result.requests} request(s)`);

'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- this entry tests the package through require() */
// Smoke test of the packed package's CommonJS build against the real OpenTelemetry packages
// installed beside this file (compat/run.sh copies it into a throwaway project of one OTel line).
// The tracer provider says which line that is: sdk-trace-base's BasicTracerProvider (2.x) when it
// is installed, sdk-trace's TracerProvider (3.x) otherwise.
//
// Run: FAKE_SERVER_MODULE=file:///…/test/support/fake-capture-server.ts node otel2-smoke.cjs
const assert = require('node:assert/strict');
const api = require('@opentelemetry/api');
const resources = require('@opentelemetry/resources');
const sdkLogs = require('@opentelemetry/sdk-logs');
const posthog = require('opentelemetry-exporter-posthog');
const { runSmoke } = require('./smoke-scenario.cjs');

function loadTracerProvider() {
  try {
    return { TracerProvider: require('@opentelemetry/sdk-trace-base').BasicTracerProvider, from: 'sdk-trace-base' };
  } catch (error) {
    if (error?.code !== 'MODULE_NOT_FOUND') throw error;
    return { TracerProvider: require('@opentelemetry/sdk-trace').TracerProvider, from: 'sdk-trace' };
  }
}

async function main() {
  assert.match(require.resolve('opentelemetry-exporter-posthog'), /[\\/]dist[\\/]cjs[\\/]index\.js$/, 'require loads the CommonJS build');
  if (!process.env.FAKE_SERVER_MODULE) throw new Error('set FAKE_SERVER_MODULE to the file URL of test/support/fake-capture-server.ts');
  // The fake server is TypeScript (an ES module Node strips the types of): import() loads it from CommonJS too.
  const { FakeCaptureServer } = await import(process.env.FAKE_SERVER_MODULE);
  const { TracerProvider, from } = loadTracerProvider();
  const result = await runSmoke({ posthog, api, sdkLogs, resources, TracerProvider, FakeCaptureServer });
  console.log(`ok cjs (${from}): ${result.events} events in ${result.requests} request(s)`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

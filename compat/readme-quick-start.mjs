// Runs a README quick start (quick-start.mjs beside this file, written by compat/run.sh from the
// README) as a user would: `node quick-start.mjs`, configured by POSTHOG_API_KEY and POSTHOG_HOST
// only, against the repo's fake capture server. The script has no shutdown of its own and ends when
// its event loop empties: its event must still reach PostHog.
//
// Run: FAKE_SERVER_MODULE=file:///…/test/support/fake-capture-server.ts node readme-quick-start.mjs
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

if (!process.env.FAKE_SERVER_MODULE) throw new Error('set FAKE_SERVER_MODULE to the file URL of test/support/fake-capture-server.ts');
const { FakeCaptureServer } = await import(process.env.FAKE_SERVER_MODULE);

const server = await FakeCaptureServer.start();
try {
  const env = { PATH: process.env.PATH, POSTHOG_API_KEY: server.apiKey, POSTHOG_HOST: server.url, OTEL_LOG_LEVEL: 'warn' };
  const run = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['quick-start.mjs'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`quick-start.mjs did not exit within 30 s\n${output}`));
    }, 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  assert.equal(run.code, 0, run.output);
  for (const request of server.requests) assert.deepEqual(request.validation, { ok: true });
  const events = server.acceptedEvents().map((e) => ({ event: e.event, distinct_id: e.distinct_id, amount: e.properties?.amount }));
  assert.deepEqual(events, [{ event: 'checkout_completed', distinct_id: 'u-42', amount: 99.5 }], run.output);
  console.log(
    `ok quick start: ${events.length} event in ${server.requests.length} request(s)${run.output ? `; output:\n${run.output}` : ''}`,
  );
} finally {
  await server.close();
}

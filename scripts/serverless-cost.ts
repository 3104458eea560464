// What a serverless invocation costs (not run in CI): runs examples/serverless.js, which times each
// of its two invocations (handler plus withFlush's flush, default settings), against PostHog up (the
// fake capture server on 127.0.0.1), a port that refuses connections, a server that accepts and
// never answers, and a host name that does not resolve. Prints a Markdown table of the times.
//
//   node scripts/serverless-cost.ts [--runs 5]
//
// The example imports the package by name, so it runs against dist/ (built first when stale).

import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../test/support/built-package.ts';
import { FakeCaptureServer } from '../test/support/fake-capture-server.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Math.max(1, Number(values.runs) || 5);
const REPO = fileURLToPath(new URL('..', import.meta.url));

/** `node examples/serverless.js` with `host`; resolves to the milliseconds each invocation printed. */
function runExample(apiKey: string, host: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('POSTHOG_') && !key.startsWith('OTEL_')) env[key] = value;
    const child = spawn(process.execPath, ['examples/serverless.js'], {
      cwd: REPO,
      env: { ...env, POSTHOG_API_KEY: apiKey, POSTHOG_HOST: host },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', () => resolve([...stdout.matchAll(/ (\d+) ms$/gm)].map((match) => Number(match[1]))));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A port with nothing listening (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

ensureBuilt(REPO);
const healthy = await FakeCaptureServer.start();
const sockets = new Set<Socket>();
const silent = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));

const scenarios: Array<[string, string]> = [
  ['up', healthy.url],
  ['refusing connections', `http://127.0.0.1:${await closedPort()}`],
  ['not answering (accepts, never responds)', `http://127.0.0.1:${(silent.address() as AddressInfo).port}`],
  ['host name not resolving', 'http://does-not-exist.invalid'],
];

const rows: string[] = [];
for (const [name, host] of scenarios) {
  const first: number[] = [];
  const second: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [a, b] = await runExample(healthy.apiKey, host);
    if (a !== undefined) first.push(a);
    if (b !== undefined) second.push(b);
    process.stderr.write(`${name}: run ${i + 1}: ${a} ms, ${b} ms\n`);
  }
  rows.push(
    `| ${name} | ${median(first)} ms (${Math.min(...first)}–${Math.max(...first)}) | ${median(second)} ms (${Math.min(...second)}–${Math.max(...second)}) |`,
  );
}

for (const socket of sockets) socket.destroy();
silent.close();
await healthy.close();
process.stdout.write(
  `\nmedian (min–max) of ${runs} runs\n\n| PostHog | First invocation | Second invocation |\n|---|---|---|\n${rows.join('\n')}\n`,
);

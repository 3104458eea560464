// Soak test (not run in CI): a PostHog outage (every request answered 503) under steady load, then
// recovery. The fake capture server runs in this process on 127.0.0.1; records go through a real
// LoggerProvider, our processor, the batch processor and HTTP. Samples process.memoryUsage() every
// second, measures how long the backlog takes to drain once the server recovers, and checks the
// accounting identity `selected === delivered + sum(dropped) + pending` at the end.
//
//   node scripts/soak.ts [--rate 2000] [--outage-seconds 60] [--recover-seconds 60]
//                        [--max-attempts N] [--timeout-ms N] [--spool] [--quiet] [--warnings]
//
// --rate             records emitted per second during the outage
// --outage-seconds   how long the server answers 503
// --recover-seconds  the longest wait for the backlog to drain after recovery
// --max-attempts     the processor's maxAttempts (default: the library's, 25)
// --timeout-ms       the processor's timeoutMillis (default: the library's, 10000)
// --spool            also spool waiting events to a temporary directory
// --warnings         print the package's diag warnings (the outage and drop warnings) to stderr
//
// Exits 1 when the identity fails, 2 on bad arguments. Prints a table; progress goes to stderr.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import type { PostHogLogRecordProcessorOptions } from '../src/config/options.ts';
import { totalDropped } from '../src/delivery/ledger.ts';
import type { PostHogStats } from '../src/delivery/ledger.ts';
import { PostHogLogRecordProcessor } from '../src/log-record-processor.ts';
import { FakeCaptureServer } from '../test/support/fake-capture-server.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    'outage-seconds': { type: 'string', default: '60' },
    'recover-seconds': { type: 'string', default: '60' },
    'max-attempts': { type: 'string' },
    'timeout-ms': { type: 'string' },
    spool: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    warnings: { type: 'boolean', default: false },
  },
});
if (values.warnings) diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive number, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
}

const rate = positive('rate', values.rate)!;
const outageSeconds = positive('outage-seconds', values['outage-seconds'])!;
const recoverSeconds = positive('recover-seconds', values['recover-seconds'])!;
const maxAttempts = positive('max-attempts', values['max-attempts']);
const timeoutMillis = positive('timeout-ms', values['timeout-ms']);
const MB = 1024 * 1024;
let phase: 'outage' | 'recovery' = 'outage';

const server = await FakeCaptureServer.start();
server.setDefault({ status: 503 });
const spoolDir = values.spool ? await mkdtemp(join(tmpdir(), 'posthog-soak-spool-')) : undefined;
const options: PostHogLogRecordProcessorOptions = {
  ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  ...(timeoutMillis !== undefined ? { timeoutMillis } : {}),
  ...(spoolDir !== undefined ? { spoolDir } : {}),
};
const processor = new PostHogLogRecordProcessor(options, { env: { POSTHOG_API_KEY: server.apiKey, POSTHOG_HOST: server.url } });
const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'soak' }), processors: [processor] });
const logger = provider.getLogger('soak');

// What the server stored, read off and cleared as it goes so its own records do not fill the heap.
const stored = new Set<string>();
let storedRaw = 0;
let requestsSeen = 0;
let answered503 = 0;
/** Requests the server saw, by phase. */
const requestsIn = { outage: 0, recovery: 0 };
/** The highest attempt seen per request id: with no 413 splits, also the most requests that carried one event. */
const attemptsPerRequest = new Map<string, number>();
function harvest(): void {
  for (const request of server.requests) {
    requestsSeen++;
    requestsIn[phase]++;
    if (request.responseStatus === 503) answered503++;
    const id = String(request.headers['posthog-request-id']);
    attemptsPerRequest.set(id, Math.max(attemptsPerRequest.get(id) ?? 0, Number(request.headers['posthog-attempt'])));
    if (request.results === undefined) continue;
    for (const event of request.events) {
      const result = request.results[event.uuid.toLowerCase()]?.result;
      if (result === 'retry' || result === 'drop') continue;
      storedRaw++;
      stored.add(event.uuid.toLowerCase());
    }
  }
  server.requests.length = 0;
}

interface Sample {
  second: number;
  phase: 'outage' | 'recovery';
  heapUsed: number;
  rss: number;
  stats: PostHogStats;
}
const samples: Sample[] = [];
const started = performance.now();
const sampler = setInterval(() => {
  harvest();
  const m = process.memoryUsage();
  const sample: Sample = {
    second: Math.round((performance.now() - started) / 1000),
    phase,
    heapUsed: m.heapUsed,
    rss: m.rss,
    stats: processor.getStats(),
  };
  samples.push(sample);
  if (!values.quiet) {
    const s = sample.stats;
    process.stderr.write(
      `t=${String(sample.second).padStart(3)}s ${phase.padEnd(8)} heap ${(m.heapUsed / MB).toFixed(0).padStart(4)} MB rss ${(m.rss / MB).toFixed(0).padStart(4)} MB | selected ${s.selected} delivered ${s.delivered} dropped ${totalDropped(s)} pending ${s.pending} buffered ${s.retryBuffered}\n`,
    );
  }
}, 1_000);

// Steady load: every 10 ms, emit whatever the elapsed time owes, so timer drift does not lower the rate.
let emitted = 0;
const loadStart = performance.now();
const load = setInterval(() => {
  const owed = Math.floor(((performance.now() - loadStart) / 1000) * rate);
  while (emitted < owed) {
    logger.emit({
      eventName: 'soak_event',
      attributes: { n: emitted, 'posthog.distinct_id': `user-${emitted % 500}`, payload: 'x'.repeat(200) },
    });
    emitted++;
  }
}, 10);

await new Promise((resolve) => setTimeout(resolve, outageSeconds * 1000));
clearInterval(load);
harvest();
const atRecovery = processor.getStats();
phase = 'recovery';
server.setDefault({});
const recoveredAt = performance.now();

// Drain: until nothing is pending, or the recovery budget runs out. Only the retry timer and the
// batch processor's own schedule move things: no flush is forced.
let drainMs: number | undefined;
while (performance.now() - recoveredAt < recoverSeconds * 1000) {
  if (processor.getStats().pending === 0) {
    drainMs = performance.now() - recoveredAt;
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await provider.forceFlush();
await provider.shutdown();
clearInterval(sampler);
harvest();
const final = processor.getStats();
await server.close();
if (spoolDir !== undefined) await rm(spoolDir, { recursive: true, force: true });

const identityHolds = final.selected === final.delivered + totalDropped(final) + final.pending;
const maxHeap = Math.max(...samples.map((s) => s.heapUsed));
const maxRss = Math.max(...samples.map((s) => s.rss));
const outageMax = samples.filter((s) => s.phase === 'outage');
const rows: Array<[string, string]> = [
  ['rate (records/s)', String(rate)],
  ['outage (s)', String(outageSeconds)],
  ['options', JSON.stringify(options)],
  ['records emitted', String(emitted)],
  ['max heapUsed (MB)', (maxHeap / MB).toFixed(1)],
  ['max rss (MB)', (maxRss / MB).toFixed(1)],
  ['max heapUsed during outage (MB)', outageMax.length > 0 ? (Math.max(...outageMax.map((s) => s.heapUsed)) / MB).toFixed(1) : '-'],
  ['pending at recovery', String(atRecovery.pending)],
  ['retry-buffered at recovery', String(atRecovery.retryBuffered)],
  ['drain time (s)', drainMs === undefined ? `not drained within ${recoverSeconds} s` : (drainMs / 1000).toFixed(2)],
  ['requests (client) / seen by server', `${final.requests} / ${requestsSeen} (${answered503} answered 503)`],
  ['requests per minute during the outage', (requestsIn.outage / (outageSeconds / 60)).toFixed(0)],
  ['requests during recovery', String(requestsIn.recovery)],
  ['request ids / most attempts of one', `${attemptsPerRequest.size} / ${Math.max(0, ...attemptsPerRequest.values())}`],
  ['retries', String(final.retries)],
  ['selected', String(final.selected)],
  ['delivered', String(final.delivered)],
  ['dropped', JSON.stringify(final.dropped)],
  ['pending', String(final.pending)],
  ['stored by the server (unique / raw)', `${stored.size} / ${storedRaw}`],
  [
    'identity selected = delivered + dropped + pending',
    identityHolds ? `holds (${final.selected} = ${final.delivered} + ${totalDropped(final)} + ${final.pending})` : 'FAILS',
  ],
];
const width = Math.max(...rows.map(([k]) => k.length));
process.stdout.write(`\n${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`);
if (stored.size !== final.delivered)
  process.stdout.write(`note: the server stored ${stored.size} unique events, the client counted ${final.delivered} delivered\n`);
process.exit(identityHolds ? 0 : 1);

// Profiles our contender of scenario 1 with `node --cpu-prof` and summarises where the time goes.
//   node bench/profile.ts [--quick] [--records N] [--contender ours|ours-gzip|ours-before-send|otlp-http|otlp-proto|posthog-node]
//   node bench/profile.ts --resummarize [--contender …]   (re-reads the last profile and its window)
// Writes bench/results/<contender>-throughput.cpuprofile (gitignored) and
// bench/results/profile-<contender>.json + .md (the summary).

import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderProfileMarkdown, summarizeProfile } from './cpuprofile-summary.ts';
import { runChild, startSink } from './processes.ts';
import type { ThroughputContender, ThroughputResult } from './throughput.ts';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    records: { type: 'string' },
    contender: { type: 'string', default: 'ours' },
    resummarize: { type: 'boolean', default: false },
  },
  strict: true,
});
const contender = (args.contender ?? 'ours') as ThroughputContender;
const records = Number(args.records ?? (args.quick ? 10_000 : 100_000));

type Measured = Pick<ThroughputResult, 'recordsPerSec' | 'cpuMicrosPerRecord' | 'mainThreadCpuMicrosPerRecord' | 'delivered' | 'windowMicros'>;

mkdirSync(resultsDir, { recursive: true });
const target = join(resultsDir, `${contender}-throughput.cpuprofile`);
const summaryJson = join(resultsDir, `profile-${contender}.json`);
let result: Measured;
if (args.resummarize) {
  result = (JSON.parse(readFileSync(summaryJson, 'utf8')) as { result: Measured }).result;
} else {
  const profileDir = join(tmpdir(), `bench-cpuprof-${process.pid}`);
  mkdirSync(profileDir, { recursive: true });
  const sink = await startSink();
  try {
    result = await runChild<ThroughputResult>({ scenario: 'throughput', contender, records, sinkUrl: sink.url }, ['--cpu-prof', '--cpu-prof-dir', profileDir]);
  } finally {
    sink.child.disconnect();
  }
  const written = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  if (written.length !== 1) throw new Error(`expected one .cpuprofile in ${profileDir}, found ${written.length}`);
  renameSync(join(profileDir, written[0]!), target);
  rmSync(profileDir, { recursive: true, force: true });
}

// Only the timed window (emit → last acknowledgement): module loading and the warm-up are cut off.
const summary = summarizeProfile(target, 25, result.windowMicros);
const markdown = `Profile of \`${contender}\`, scenario 1, ${records.toLocaleString('en-US')} records under --cpu-prof: ${Math.round(result.recordsPerSec).toLocaleString('en-US')} records/s, ${result.cpuMicrosPerRecord.toFixed(1)} µs CPU/record (profiling slows it down).\n\n${renderProfileMarkdown(summary)}`;
const measured: Measured = {
  recordsPerSec: result.recordsPerSec,
  cpuMicrosPerRecord: result.cpuMicrosPerRecord,
  ...(result.mainThreadCpuMicrosPerRecord !== undefined ? { mainThreadCpuMicrosPerRecord: result.mainThreadCpuMicrosPerRecord } : {}),
  delivered: result.delivered,
  windowMicros: result.windowMicros,
};
writeFileSync(summaryJson, `${JSON.stringify({ contender, records, result: measured, summary: { ...summary, file: `bench/results/${contender}-throughput.cpuprofile` } }, null, 2)}\n`);
writeFileSync(join(resultsDir, `profile-${contender}.md`), markdown);
console.log(markdown);

// `npm run bench:profile`: the end-to-end contenders under `node --cpu-prof`, and where their main
// thread's time goes (self time per function and per area, in the timed window only).
//
//   node bench/profile.ts [--scenario steady|burst|both] [--contender ours,otlp-proto] [--records N]
//                         [--contexts fresh|pooled] [--quick]
//   node bench/profile.ts --resummarize [...]   (re-reads the profiles of the last run)
//
// Defaults: both scenarios, ours and OTLP http/protobuf, 100,000 records. Writes each profile and
// its summary as JSON to bench/results/raw/ (gitignored) and the summary as Markdown to
// bench/results/profile-<scenario>-<contender>.md (to bench/results/raw/ with --quick).

import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureResultDirs, rawDir, resultsDir, shown } from './harness/paths.ts';
import { runChild, startSink } from './harness/processes.ts';
import { progress } from './harness/progress.ts';
import { renderProfileMarkdown, summarizeProfile } from './reporting/cpuprofile-summary.ts';
import type { EndToEndContender, EndToEndResult, Producer } from './scenarios/end-to-end.ts';
import type { ContextMode } from './workload/trace-contexts.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    records: { type: 'string' },
    scenario: { type: 'string', default: 'both' },
    contender: { type: 'string', default: 'ours,otlp-proto' },
    contexts: { type: 'string', default: 'fresh' },
    resummarize: { type: 'boolean', default: false },
  },
  strict: true,
});
const records = Number(args.records ?? (args.quick ? 10_000 : 100_000));
const producers: Producer[] = args.scenario === 'both' ? ['steady', 'burst'] : [args.scenario as Producer];
const contenders = (args.contender ?? '').split(',').map((c) => c.trim() as EndToEndContender);
const summaryDir = args.quick ? rawDir : resultsDir;
const contexts = args.contexts as ContextMode;
if (contexts !== 'fresh' && contexts !== 'pooled') throw new Error('--contexts is fresh or pooled');
/** File names carry the variant when it is not the default. */
const variant = contexts === 'fresh' ? '' : `-${contexts}`;

type Measured = Pick<EndToEndResult, 'recordsPerSec' | 'cpuMicrosPerRecord' | 'mainThreadCpuMicrosPerRecord' | 'threadGroupCpuMs' | 'gc' | 'delivered' | 'windowMicros' | 'phases'>;

/** One profiled run in a fresh process; the profile lands in `target`. */
async function profileRun(sinkUrl: string, producer: Producer, contender: EndToEndContender, target: string): Promise<Measured> {
  const profileDir = join(tmpdir(), `bench-cpuprof-${process.pid}`);
  mkdirSync(profileDir, { recursive: true });
  try {
    const result = await runChild<EndToEndResult>({ scenario: 'end-to-end', producer, contender, records, sinkUrl, contexts }, ['--cpu-prof', '--cpu-prof-dir', profileDir]);
    const written = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    if (written.length !== 1) throw new Error(`expected one .cpuprofile in ${profileDir}, found ${written.length}`);
    renameSync(join(profileDir, written[0]!), target);
    const { recordsPerSec, cpuMicrosPerRecord, mainThreadCpuMicrosPerRecord, threadGroupCpuMs, gc, delivered, windowMicros, phases } = result;
    return { recordsPerSec, cpuMicrosPerRecord, mainThreadCpuMicrosPerRecord, threadGroupCpuMs, gc, delivered, windowMicros, phases };
  } finally {
    rmSync(profileDir, { recursive: true, force: true });
  }
}

function heading(producer: Producer, contender: EndToEndContender, m: Measured): string {
  const perRecord = (ms: number | undefined) => (ms === undefined ? 'n/a' : ((ms * 1000) / records).toFixed(2));
  const busy = m.phases ? `; main thread busy ${Math.round(100 * m.phases.emitting.mainThreadBusy)} % while emitting, ${Math.round(100 * m.phases.flushing.mainThreadBusy)} % while flushing` : '';
  return (
    `Profile of \`${contender}\`, ${producer === 'steady' ? 'scenario 1 (steady)' : 'scenario 6 (burst)'}, ${records.toLocaleString('en-US')} records, ${contexts} trace contexts, under --cpu-prof ` +
    `(profiling slows it down): ${Math.round(m.recordsPerSec).toLocaleString('en-US')} records/s, ${m.cpuMicrosPerRecord.toFixed(1)} µs CPU/record ` +
    `(main thread ${m.mainThreadCpuMicrosPerRecord?.toFixed(1) ?? 'n/a'}, V8 helpers ${perRecord(m.threadGroupCpuMs?.v8Helpers)}, libuv pool ${perRecord(m.threadGroupCpuMs?.libuvPool)}; ` +
    `GC pauses ${perRecord(m.gc.pauseMs)} µs/record, ${m.gc.markCompacts} mark-compacts)${busy}.`
  );
}

ensureResultDirs();
const sink = args.resummarize ? undefined : await startSink();
try {
  for (const producer of producers) {
    for (const contender of contenders) {
      const name = `${producer}-${contender}${variant}`;
      const target = join(rawDir, `${name}.cpuprofile`);
      const summaryJson = join(rawDir, `profile-${name}.json`);
      const measured = sink ? await profileRun(sink.url, producer, contender, target) : (JSON.parse(readFileSync(summaryJson, 'utf8')) as { result: Measured }).result;
      // Only the timed window (emit → last acknowledgement): module loading and the warm-up are cut off.
      const summary = summarizeProfile(target, 25, measured.windowMicros);
      const markdown = `${heading(producer, contender, measured)}\n\n${renderProfileMarkdown(summary)}`;
      writeFileSync(summaryJson, `${JSON.stringify({ producer, contender, records, result: measured, summary: { ...summary, file: shown(target) } }, null, 2)}\n`);
      const md = join(summaryDir, `profile-${name}.md`);
      writeFileSync(md, markdown);
      progress(markdown);
      progress(`written: ${shown(md)}, ${shown(summaryJson)}, ${shown(target)}\n`);
    }
  }
} finally {
  sink?.child.disconnect();
}

// `npm run bench:profile`: the end-to-end contenders under `node --cpu-prof`, and where their main
// thread's time goes (self time per function and per area, in the timed window only).
//
//   node bench/profile.ts [--scenario steady|burst|both] [--contender ours,otlp-proto] [--records N]
//                         [--repeat N] [--contexts fresh|pooled] [--quick]
//   node bench/profile.ts --resummarize [...]   (re-reads the profiles of the last run)
//
// Defaults: both scenarios, ours and OTLP http/protobuf, 100,000 records, one profile each. With
// --repeat N, each is profiled N times (fresh processes, contenders alternating) and every figure is
// the median of the N. Writes the profiles and the summaries as JSON to bench/results/raw/
// (gitignored), and the summary as Markdown to bench/results/profile-<scenario>-<contender>.md
// (to bench/results/raw/ as well with --quick, --records or pooled contexts).

import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { orderFor } from './harness/alternate.ts';
import { ensureResultDirs, rawDir, resultsDir, shown } from './harness/paths.ts';
import { runChild, startSink } from './harness/processes.ts';
import { progress } from './harness/progress.ts';
import { median } from './harness/statistics.ts';
import { mergeProfiles, renderProfileMarkdown, summarizeProfile } from './reporting/cpuprofile-summary.ts';
import { srcCommit } from './reporting/run-meta.ts';
import type { EndToEndContender, EndToEndResult, Producer } from './scenarios/end-to-end.ts';
import type { ContextMode } from './workload/trace-contexts.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    records: { type: 'string' },
    scenario: { type: 'string', default: 'both' },
    contender: { type: 'string', default: 'ours,otlp-proto' },
    repeat: { type: 'string', default: '1' },
    contexts: { type: 'string', default: 'fresh' },
    resummarize: { type: 'boolean', default: false },
  },
  strict: true,
});
const records = Number(args.records ?? (args.quick ? 10_000 : 100_000));
const repeat = Number(args.repeat);
const producers: Producer[] = args.scenario === 'both' ? ['steady', 'burst'] : [args.scenario as Producer];
const contenders = (args.contender ?? '').split(',').map((c) => c.trim() as EndToEndContender);
const contexts = args.contexts as ContextMode;
if (contexts !== 'fresh' && contexts !== 'pooled') throw new Error('--contexts is fresh or pooled');
if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a positive integer');
/** Only the default workload's summaries are committed; the rest stay with the raw results. */
const summaryDir = args.quick || args.records !== undefined || contexts !== 'fresh' ? rawDir : resultsDir;
const variant = contexts === 'fresh' ? '' : `-${contexts}`;

type Measured = Pick<
  EndToEndResult,
  | 'recordsPerSec'
  | 'cpuMicrosPerRecord'
  | 'mainThreadCpuMicrosPerRecord'
  | 'threadGroupCpuMs'
  | 'gc'
  | 'delivered'
  | 'windowMicros'
  | 'phases'
>;

interface Profiled {
  measured: Measured;
  profile: string;
}

/** One profiled run in a fresh process; the profile lands in `target`. */
async function profileRun(sinkUrl: string, producer: Producer, contender: EndToEndContender, target: string): Promise<Measured> {
  const profileDir = join(tmpdir(), `bench-cpuprof-${process.pid}`);
  mkdirSync(profileDir, { recursive: true });
  try {
    const result = await runChild<EndToEndResult>({ scenario: 'end-to-end', producer, contender, records, sinkUrl, contexts }, [
      '--cpu-prof',
      '--cpu-prof-dir',
      profileDir,
    ]);
    const written = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    if (written.length !== 1) throw new Error(`expected one .cpuprofile in ${profileDir}, found ${written.length}`);
    renameSync(join(profileDir, written[0]!), target);
    const { recordsPerSec, cpuMicrosPerRecord, mainThreadCpuMicrosPerRecord, threadGroupCpuMs, gc, delivered, windowMicros, phases } =
      result;
    return { recordsPerSec, cpuMicrosPerRecord, mainThreadCpuMicrosPerRecord, threadGroupCpuMs, gc, delivered, windowMicros, phases };
  } finally {
    rmSync(profileDir, { recursive: true, force: true });
  }
}

/** The run's figures, medians when profiled more than once. */
function heading(producer: Producer, contender: EndToEndContender, runs: Measured[], commit: string): string {
  const m = (of: (x: Measured) => number | undefined) => median(runs.map((x) => of(x) ?? Number.NaN));
  const perRecord = (of: (x: Measured) => number | undefined) => ((m(of) * 1000) / records).toFixed(2);
  const medians = runs.length > 1 ? `; medians of ${runs.length} profiled runs` : '';
  return (
    `Profile of \`${contender}\` at ${commit}, ${producer === 'steady' ? 'scenario 1 (steady)' : 'scenario 6 (burst)'}, ${records.toLocaleString('en-US')} records, ${contexts} trace contexts, ` +
    `under --cpu-prof (profiling slows it down${medians}): ${Math.round(m((x) => x.recordsPerSec)).toLocaleString('en-US')} records/s, ` +
    `${m((x) => x.cpuMicrosPerRecord).toFixed(1)} µs CPU/record (main thread ${m((x) => x.mainThreadCpuMicrosPerRecord).toFixed(1)}, ` +
    `V8 helpers ${perRecord((x) => x.threadGroupCpuMs?.v8Helpers)}, libuv pool ${perRecord((x) => x.threadGroupCpuMs?.libuvPool)}; ` +
    `GC pauses ${perRecord((x) => x.gc.pauseMs)} µs/record, ${m((x) => x.gc.markCompacts)} mark-compacts); ` +
    `main thread busy ${Math.round(100 * m((x) => x.phases?.emitting.mainThreadBusy))} % while emitting, ${Math.round(100 * m((x) => x.phases?.flushing.mainThreadBusy))} % while flushing.`
  );
}

ensureResultDirs();
const names = producers.flatMap((producer) =>
  contenders.map((contender) => ({ producer, contender, name: `${producer}-${contender}${variant}` })),
);
const runs = new Map<string, Profiled[]>(names.map(({ name }) => [name, []]));
const commits = new Map<string, string>(names.map(({ name }) => [name, srcCommit()]));
if (args.resummarize) {
  for (const { name } of names) {
    const saved = JSON.parse(readFileSync(join(rawDir, `profile-${name}.json`), 'utf8')) as { runs: Profiled[]; srcCommit?: string };
    runs.set(name, saved.runs);
    commits.set(name, saved.srcCommit ?? 'unknown');
  }
} else {
  const sink = await startSink();
  try {
    for (let r = 0; r < repeat; r++) {
      for (const { producer, contender, name } of orderFor(names, r)) {
        const profile = join(rawDir, `${name}${repeat > 1 ? `-${r + 1}` : ''}.cpuprofile`);
        runs.get(name)!.push({ measured: await profileRun(sink.url, producer, contender, profile), profile });
        progress(`profiled ${name} (${r + 1}/${repeat})`);
      }
    }
  } finally {
    sink.child.disconnect();
  }
}

for (const { producer, contender, name } of names) {
  const profiled = runs.get(name)!;
  // Only the timed window (emit → last acknowledgement): module loading and the warm-up are cut off.
  const summary = mergeProfiles(profiled.map((p) => summarizeProfile(p.profile, p.measured.windowMicros)));
  const markdown = `${heading(
    producer,
    contender,
    profiled.map((p) => p.measured),
    commits.get(name)!,
  )}\n\n${renderProfileMarkdown(summary, 30, records)}`;
  const summaryJson = join(rawDir, `profile-${name}.json`);
  writeFileSync(
    summaryJson,
    `${JSON.stringify({ producer, contender, records, contexts, srcCommit: commits.get(name), runs: profiled, summary: { ...summary, files: summary.files.map(shown) } }, null, 2)}\n`,
  );
  const md = join(summaryDir, `profile-${name}.md`);
  writeFileSync(md, markdown);
  progress(`\n${markdown}`);
  progress(`written: ${shown(md)}, ${shown(summaryJson)}`);
}

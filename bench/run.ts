// `npm run bench` (full) and `npm run bench:quick`: every scenario, or those --only names.
//
//   node bench/run.ts [--quick] [--runs N] [--records N] [--only 1,2,3,4,5,6] [--outage SECONDS]
//                     [--rate N] [--contexts fresh|pooled] [--no-chart]
//
// Starts the sink in its own process; each suite then runs its contenders in fresh processes,
// alternating their order from run to run. Prints the goals and the tables. A full run with the
// default sizes writes its summary to bench/results/latest.md and its chart to
// bench/results/chart.svg (both committed), and its raw figures to bench/results/raw/latest.json
// (gitignored). Any other run (quick, fewer scenarios, other sizes) writes all three to
// bench/results/raw/, as quick.* or partial.*, and leaves the committed ones alone.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSink } from './harness/processes.ts';
import { progress } from './harness/progress.ts';
import { isFullRun, parseRunConfig } from './harness/run-config.ts';
import { ensureResultDirs, rawDir, resultsDir, shown } from './harness/paths.ts';
import { writeChart } from './reporting/chart.ts';
import { evaluateGoals } from './reporting/goals.ts';
import { renderMarkdown } from './reporting/markdown.ts';
import { runMeta, finishMeta } from './reporting/run-meta.ts';
import type { BenchResults } from './reporting/results.ts';
import { runCorrectnessCheck } from './suites/correctness.ts';
import { runEmitCostSuite } from './suites/emit-cost.ts';
import { runEndToEndSuite } from './suites/end-to-end.ts';
import { runLoopDelaySuite } from './suites/loop-delay.ts';
import { runOutageSuite } from './suites/outage.ts';
import { runSpanCostSuite } from './suites/span-cost.ts';

const config = parseRunConfig(process.argv.slice(2));
ensureResultDirs();
const results: BenchResults = { meta: runMeta(config), goals: [] };
progress(
  `bench: node ${results.meta.node}, ${results.meta.cpu} × ${results.meta.cores}, ${config.quick ? 'quick' : 'full'}: ${config.records} records, ${config.runs} runs, ${config.contexts} trace contexts`,
);
const started = performance.now();
const sink = await startSink();
try {
  results.correctness = await runCorrectnessCheck(config.contexts);
  const suite = async <T>(scenario: number, run: () => Promise<T>): Promise<T | undefined> => {
    if (!config.only.has(scenario)) return undefined;
    const t0 = performance.now();
    const result = await run();
    progress(`  scenario ${scenario}: ${Math.round((performance.now() - t0) / 1000)} s`);
    return result;
  };
  results.steady = await suite(1, () => runEndToEndSuite('steady', config, sink.url));
  results.burst = await suite(6, () => runEndToEndSuite('burst', config, sink.url));
  results.emitCost = await suite(2, () => runEmitCostSuite(config, sink.url));
  results.spanCost = await suite(3, () => runSpanCostSuite(config, sink.url));
  results.loopDelay = await suite(4, () => runLoopDelaySuite(config, sink.url));
  results.outage = await suite(5, () => runOutageSuite(config, sink.url));
} finally {
  sink.child.disconnect();
}

finishMeta(results.meta, started);
results.goals = evaluateGoals(results);
const markdown = renderMarkdown(results);
const full = isFullRun(config);
const name = full ? 'latest' : config.quick ? 'quick' : 'partial';
const summaryDir = full ? resultsDir : rawDir;
const json = join(rawDir, `${name}.json`);
const md = join(summaryDir, `${name}.md`);
writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(md, markdown);
progress('');
progress(markdown);
progress(`raw figures: ${shown(json)}; summary: ${shown(md)} (${results.meta.durationSeconds} s)`);
if (config.chart) progress(`chart: ${shown(writeChart(json, join(summaryDir, full ? 'chart.svg' : `${name}-chart.svg`)))}`);

// Entry of every measured process: the suites fork one per contender per run, so that no heap, JIT
// or connection state leaks from one contender into the next. The job comes as JSON in argv; the
// result goes back over the IPC channel (or to stdout when run by hand).

import { runCorrectness, type CorrectnessJob } from '../scenarios/correctness.ts';
import { runEmitCost, type EmitCostJob } from '../scenarios/emit-cost.ts';
import { runEndToEnd, type EndToEndJob } from '../scenarios/end-to-end.ts';
import { runLoopDelay, type LoopDelayJob } from '../scenarios/loop-delay.ts';
import { runOutage, type OutageJob } from '../scenarios/outage.ts';
import { runSpanCost, type SpanCostJob } from '../scenarios/span-cost.ts';
import { useContexts, type ContextMode } from '../workload/trace-contexts.ts';

/** `contexts`: the workload's trace contexts (default fresh). */
export type Job = { contexts?: ContextMode } & (
  | ({ scenario: 'correctness' } & CorrectnessJob)
  | ({ scenario: 'end-to-end' } & EndToEndJob)
  | ({ scenario: 'emit-cost' } & EmitCostJob)
  | ({ scenario: 'span-cost' } & SpanCostJob)
  | ({ scenario: 'loop-delay' } & LoopDelayJob)
  | ({ scenario: 'outage' } & OutageJob)
);

async function run(job: Job): Promise<unknown> {
  useContexts(job.contexts ?? 'fresh');
  switch (job.scenario) {
    case 'correctness':
      return runCorrectness(job);
    case 'end-to-end':
      return runEndToEnd(job);
    case 'emit-cost':
      return runEmitCost(job);
    case 'span-cost':
      return runSpanCost(job);
    case 'loop-delay':
      return runLoopDelay(job);
    case 'outage':
      return runOutage(job);
  }
}

const raw = process.argv[2];
if (raw === undefined) {
  console.error('usage: node bench/harness/child.ts <job JSON>');
  process.exit(2);
}
try {
  const result = await run(JSON.parse(raw) as Job);
  if (process.send) process.send({ type: 'result', result }, () => process.exit(0));
  else {
    console.log(JSON.stringify(result, null, 2));
    process.exit(0);
  }
} catch (error) {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (process.send) process.send({ type: 'error', error: message }, () => process.exit(1));
  else {
    console.error(message);
    process.exit(1);
  }
}

// Scenario 5: one run, in a process of its own.

import { runChild } from '../harness/processes.ts';
import { fixed, progress } from '../harness/progress.ts';
import type { RunConfig } from '../harness/run-config.ts';
import { sumValues } from '../harness/statistics.ts';
import { encodingLabel } from '../reporting/encoding-label.ts';
import type { OutageResult } from '../scenarios/outage.ts';

export async function runOutageSuite(config: RunConfig, sinkUrl: string): Promise<OutageResult> {
  progress(`  s5: ${config.outageWarmSeconds} s healthy, ${config.outageSeconds} s of 503 at ${config.outageRate} rec/s, then recovery…`);
  const outage = await runChild<OutageResult>(
    {
      scenario: 'outage',
      sinkUrl,
      rate: config.outageRate,
      warmSeconds: config.outageWarmSeconds,
      outageSeconds: config.outageSeconds,
      maxDrainSeconds: 120,
      contexts: config.contexts,
    },
    ['--expose-gc'],
  );
  progress(
    `  s5 emitted ${outage.emitted}, delivered ${outage.statsFinal.delivered} (sink accepted ${sumValues(outage.sink.events)}, ${encodingLabel([outage.sink])}), dropped ${JSON.stringify(outage.statsFinal.dropped)}, drain ${outage.drainMs === undefined ? 'n/a' : `${fixed(outage.drainMs, 0)} ms`}, max heap ${outage.memory.outageMaxHeapMiB} MiB`,
  );
  return outage;
}

// Scenarios 1 (steady) and 6 (burst) across runs: every contender in a fresh process per run,
// alternating, then the medians and ratios.

import { alternate } from '../harness/alternate.ts';
import { runChild } from '../harness/processes.ts';
import { fixed, progress } from '../harness/progress.ts';
import type { RunConfig } from '../harness/run-config.ts';
import { encodingLabel } from '../reporting/encoding-label.ts';
import type { EndToEndContender, EndToEndResult, Producer } from '../scenarios/end-to-end.ts';
import { summarizeEndToEnd, type EndToEndSummary } from './end-to-end-summary.ts';

export const END_TO_END_CONTENDERS: Record<Producer, readonly EndToEndContender[]> = {
  steady: ['ours', 'ours-gzip', 'ours-before-send', 'otlp-http', 'otlp-proto', 'posthog-node', 'floor', 'stock-noop', 'bound'],
  burst: ['ours', 'otlp-http', 'otlp-proto', 'posthog-node', 'stock-noop', 'bound'],
};

/** Ours between the two contenders its goals are measured against: each run measures the three back to back. */
const GOAL_NEIGHBOURS: readonly EndToEndContender[] = ['otlp-proto', 'ours', 'bound'];

const TAG: Record<Producer, string> = { steady: 's1', burst: 's6' };

export async function runEndToEndSuite(producer: Producer, config: RunConfig, sinkUrl: string): Promise<EndToEndSummary> {
  const contenders = END_TO_END_CONTENDERS[producer];
  const runs = await alternate(
    config.runs,
    contenders,
    async (contender, r) => {
      const result = await runChild<EndToEndResult>({
        scenario: 'end-to-end',
        producer,
        contender,
        records: config.records,
        sinkUrl,
        contexts: config.contexts,
      });
      const lost = result.delivered === config.records ? '' : `  DELIVERED ${result.delivered}/${config.records}`;
      const encoding = result.sink ? `  ${encodingLabel([result.sink])}` : '';
      const helpers = result.threadGroupCpuMs
        ? `  ${fixed((result.threadGroupCpuMs.v8Helpers * 1000) / result.records, 2)} V8 helpers`
        : '';
      progress(
        `  ${TAG[producer]} run ${r + 1}/${config.runs} ${contender.padEnd(16)} ${fixed(result.recordsPerSec, 0).padStart(8)} rec/s  ${fixed(result.cpuMicrosPerRecord, 2).padStart(6)} µs CPU/rec${helpers}${encoding}${lost}`,
      );
      return result;
    },
    GOAL_NEIGHBOURS,
  );
  return summarizeEndToEnd(runs, contenders);
}

// Before timing anything: ours and posthog-node against the strict fake capture server.

import { runChild } from '../harness/processes.ts';
import { progress } from '../harness/progress.ts';
import type { CorrectnessResult } from '../scenarios/correctness.ts';
import type { ContextMode } from '../workload/trace-contexts.ts';

export async function runCorrectnessCheck(contexts: ContextMode): Promise<CorrectnessResult> {
  progress('correctness: ours and posthog-node (v1) against the strict fake capture server…');
  const c = await runChild<CorrectnessResult>({ scenario: 'correctness', records: 2_000, contexts });
  const encodings = (counts: Record<string, number>) => Object.keys(counts).join('/') || 'none';
  progress(
    `  ${c.ok ? 'ok' : 'PROBLEM'}: ours ${c.ours.accepted}/${c.records} accepted (${encodings(c.ours.encodings)}), ${c.ours.invalid} invalid requests; posthog-node ${c.posthogNode.accepted}/${c.records} (${encodings(c.posthogNode.encodings)}), ${c.posthogNode.invalid} invalid; same event values: ${c.sameValues}`,
  );
  return c;
}

// Bytes allocated by a piece of work, from V8's sampling heap profiler with collected objects
// included: unlike timings on a shared machine, it gives nearly the same figure run after run.

import { Session } from 'node:inspector/promises';

export interface AllocationProfile {
  totalBytes: number;
  /** Bytes by the function that allocated them (`name file:line`). */
  byFunction: Map<string, number>;
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/**
 * `survivorsOnly`: leave out what the young-generation collector freed, keeping what outlived a
 * young collection (promoted to the old generation, or allocated there) even if freed later.
 */
export async function sampleAllocations(
  work: () => unknown | Promise<unknown>,
  samplingInterval = 256,
  survivorsOnly = false,
): Promise<AllocationProfile> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: !survivorsOnly,
    });
    await work();
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SamplingNode } };
    const byFunction = new Map<string, number>();
    let totalBytes = 0;
    const visit = (node: SamplingNode): void => {
      totalBytes += node.selfSize;
      const where = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`;
      byFunction.set(where, (byFunction.get(where) ?? 0) + node.selfSize);
      for (const child of node.children) visit(child);
    };
    visit(profile.head);
    return { totalBytes, byFunction };
  } finally {
    session.disconnect();
  }
}

/** The `count` functions that allocated most, per unit of work. */
export function topAllocators(profile: AllocationProfile, per: number, count = 12): string[] {
  return [...profile.byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([where, bytes]) => `${(bytes / per).toFixed(0).padStart(7)} B  ${where}`);
}

// The content encodings the sink saw, as one short label.

import type { SinkStats } from '../harness/sink.ts';

/** Summed over the sink's readings: 'zstd', or 'gzip 195 / identity 1' when mixed. */
export function encodingLabel(sinks: readonly SinkStats[]): string {
  const counts: Record<string, number> = {};
  for (const sink of sinks) {
    for (const byEncoding of Object.values(sink.encodings ?? {})) {
      for (const [encoding, n] of Object.entries(byEncoding)) counts[encoding] = (counts[encoding] ?? 0) + n;
    }
  }
  const entries = Object.entries(counts);
  if (entries.length === 0) return 'none';
  if (entries.length === 1) return entries[0]![0];
  return entries.map(([encoding, n]) => `${encoding} ${n}`).join(' / ');
}

// Mapping and body writing alone, in one process: what `mapRecord` and writing each event into a
// request body cost per record, in time and in bytes allocated, on the benchmark's workload.
//
//   node bench/micro/mapping.ts [--records N] [--rounds N] [--against <git revision>]
//
// With --against, that revision's src/ is extracted (git archive) under bench/results/raw/ and the
// two mappings take turns, round after round, on the same records; the ratio is the median of the
// per-round ratios. Run it with Node 24, as the full benchmark.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { MappingSettings } from '../../src/config/sections.ts';
import { mapRecord, type MappingOutcome } from '../../src/mapping/record-to-event.ts';
import { rawDir } from '../harness/paths.ts';
import { median } from '../harness/statistics.ts';
import { sampleAllocations, topAllocators } from './heap-sampling.ts';
import { BENCH_MAPPING, sdkRecords } from './sdk-records.ts';

type MapRecord = (record: ReadableLogRecord, settings: MappingSettings, nowMillis: number) => MappingOutcome;

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '21' },
    against: { type: 'string' },
  },
  strict: true,
});
const count = Number(args.records);
const rounds = Number(args.rounds);

/** `mapRecord` as it was at `revision`. */
async function mappingAt(revision: string): Promise<MapRecord> {
  if (!/^[\w./~^-]+$/.test(revision)) throw new Error(`not a revision: ${revision}`);
  const dir = join(rawDir, `against-${revision.replace(/[^\w.-]/g, '_')}`);
  if (!existsSync(join(dir, 'src'))) {
    mkdirSync(dir, { recursive: true });
    const archive = execFileSync('git', ['archive', revision, 'src'], { maxBuffer: 256 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
  }
  const module = (await import(join(dir, 'src', 'mapping', 'record-to-event.ts'))) as { mapRecord: MapRecord };
  return module.mapRecord;
}

const records = sdkRecords(count);
const body = Buffer.allocUnsafe(64 * 1024 * 1024);

/** µs per record to map every record and write its event into a body; a body holds 512 events, as a batch does. */
function round(map: MapRecord): number {
  const start = process.hrtime.bigint();
  let offset = 0;
  let batch: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const outcome = map(records[i]!, BENCH_MAPPING, Date.now());
    if (outcome.kind !== 'mapped') throw new Error(`record ${i} was not mapped: ${outcome.reason}`);
    const event = outcome.events[0]!;
    offset += body.write(event.json, offset, 'utf8');
    // The events of a batch stay alive until its body is written, as in the pipeline.
    batch.push(event);
    if (batch.length === 512) {
      batch = [];
      offset = 0;
    }
  }
  return Number(process.hrtime.bigint() - start) / 1000 / count;
}

const contenders: Array<[string, MapRecord]> = [['this tree', mapRecord]];
if (args.against !== undefined) contenders.unshift([args.against, await mappingAt(args.against)]);
for (let warm = 0; warm < 3; warm++) for (const [, map] of contenders) round(map);
const times = contenders.map(() => [] as number[]);
const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  const perRound = contenders.map(([, map], c) => {
    const t = round(map);
    times[c]!.push(t);
    return t;
  });
  if (perRound.length === 2) ratios.push(perRound[1]! / perRound[0]!);
}
console.log(`${count.toLocaleString('en-US')} records, ${rounds} rounds, Node ${process.version}`);
for (const [c, [name, map]] of contenders.entries()) {
  const allocation = await sampleAllocations(() => round(map));
  console.log(
    `${name}: ${median(times[c]!).toFixed(2)} µs/record (fastest round ${Math.min(...times[c]!).toFixed(2)}), ` +
      `${(allocation.totalBytes / count).toFixed(0)} bytes allocated per record`,
  );
  for (const line of topAllocators(allocation, count, 8)) console.log(`  ${line}`);
}
if (ratios.length > 0) console.log(`this tree ÷ ${args.against}: ${median(ratios).toFixed(3)} (median of per-round ratios)`);

// What delivery bookkeeping costs, export by export: our exporter against the bound's (mapping,
// one buffer, zstd, one POST; nothing else), handed the same batches of SDK records in turn in one
// process, against the benchmark's sink. Alternating batch by batch puts both under the same
// machine speed, which the end-to-end runs, seconds apart, cannot do. It covers export() only: the
// processor's work at emit (selection, the request identity) is not in it.
//
//   node bench/micro/bookkeeping.ts [--pairs N] [--blocks N]

import { parseArgs } from 'node:util';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { PostHogLogRecordExporter } from '../../src/log-record-exporter.ts';
import { MapAndPostExporter } from '../contenders/bound-exporter.ts';
import { oursEnv } from '../contenders/ours.ts';
import { startSink } from '../harness/processes.ts';
import { mean, median } from '../harness/statistics.ts';
import { mainThreadCpuMicros } from '../harness/timing.ts';
import { BATCH_SIZE } from '../workload/records.ts';
import { sdkRecords } from './sdk-records.ts';

const { values: args } = parseArgs({
  options: {
    pairs: { type: 'string', default: '1200' },
    blocks: { type: 'string', default: '6' },
  },
  strict: true,
});
const pairs = Number(args.pairs);
const blocks = Number(args.blocks);
// As many warm-up batches as the end-to-end scenarios give every contender.
const WARM_UP_PAIRS = 300;
const DISTINCT_BATCHES = 100;

if (mainThreadCpuMicros() === undefined) throw new Error('needs process.threadCpuUsage() (Node 23.9 or later)');
const mainThreadMicros = (): number => mainThreadCpuMicros() ?? Number.NaN;

interface Exporter {
  export(records: ReadableLogRecord[], done: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

interface ExportCost {
  wallMs: number;
  mainMs: number;
}

function timedExport(exporter: Exporter, batch: ReadableLogRecord[]): Promise<ExportCost> {
  return new Promise((resolve, reject) => {
    const cpu0 = mainThreadMicros();
    const t0 = performance.now();
    exporter.export(batch, (result) => {
      const cost = { wallMs: performance.now() - t0, mainMs: (mainThreadMicros() - cpu0) / 1000 };
      if (result.code === 0) resolve(cost);
      else reject(result.error ?? new Error('export failed'));
    });
  });
}

const perRecordMicros = (ms: number): string => ((ms * 1000) / BATCH_SIZE).toFixed(2);

const sink = await startSink();
const records = sdkRecords(DISTINCT_BATCHES * BATCH_SIZE);
const batches: ReadableLogRecord[][] = [];
for (let i = 0; i < records.length; i += BATCH_SIZE) batches.push(records.slice(i, i + BATCH_SIZE));
const ours = new PostHogLogRecordExporter({}, { env: oursEnv(sink.url) });
const bound = new MapAndPostExporter(sink.url);
const costs = { ours: [] as ExportCost[], bound: [] as ExportCost[] };
try {
  for (let k = 0; k < WARM_UP_PAIRS + pairs; k++) {
    const batch = batches[k % batches.length]!;
    // Each goes first in every other pair.
    const order = k % 2 === 0 ? (['ours', 'bound'] as const) : (['bound', 'ours'] as const);
    for (const name of order) {
      const cost = await timedExport(name === 'ours' ? ours : bound, batch);
      if (k >= WARM_UP_PAIRS) costs[name].push(cost);
    }
  }
} finally {
  await Promise.all([ours.shutdown(), bound.shutdown()]);
  sink.child.kill();
}

const figures = (name: 'ours' | 'bound') => {
  const wall = costs[name].map((x) => x.wallMs);
  const main = costs[name].map((x) => x.mainMs);
  return { wall, main, meanWall: mean(wall), meanMain: mean(main) };
};
const ofOurs = figures('ours');
const ofBound = figures('bound');
const row = (name: string, f: ReturnType<typeof figures>): string =>
  `${name.padEnd(5)}  wall ${f.meanWall.toFixed(3)} ms (median ${median(f.wall).toFixed(3)})  main thread ${f.meanMain.toFixed(3)} ms (median ${median(f.main).toFixed(3)}), ${perRecordMicros(f.meanMain)} µs/record`;
console.log(`${pairs} pairs of ${BATCH_SIZE}-record exports, after ${WARM_UP_PAIRS} pairs of warm-up`);
console.log(row('ours', ofOurs));
console.log(row('bound', ofBound));
console.log(
  `ours ÷ bound: wall ${(ofOurs.meanWall / ofBound.meanWall).toFixed(3)} ×; main thread ${perRecordMicros(ofOurs.meanMain - ofBound.meanMain)} µs/record more`,
);
// The wall ratio block by block shows how steady it is.
const size = Math.floor(pairs / blocks);
const perBlock: string[] = [];
for (let b = 0; b < blocks; b++) {
  const blockMean = (f: ReturnType<typeof figures>) => mean(f.wall.slice(b * size, (b + 1) * size));
  perBlock.push((blockMean(ofOurs) / blockMean(ofBound)).toFixed(3));
}
console.log(`wall ratio in ${blocks} blocks of ${size} pairs: ${perBlock.join(', ')}`);

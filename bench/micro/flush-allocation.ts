// What each contender allocates on the JavaScript heap while a burst is flushed, by function: the
// scenario 6 workload emitted at once, then forceFlush() under V8's sampling heap profiler. Then,
// in another process, what of it outlived a young-generation collection: the part that costs the
// garbage collector's helper threads copying and old-generation marking. Each measurement runs in
// a process of its own, against the benchmark's sink.
//
//   node bench/micro/flush-allocation.ts [--contender ours,bound,otlp-proto] [--records N]

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { blrpSettings, buildLogPipeline, type LogContender } from '../contenders/log-pipelines.ts';
import { startSink } from '../harness/processes.ts';
import { logRecord } from '../workload/records.ts';
import { sampleAllocations, topAllocators } from './heap-sampling.ts';

const WARM_UP = 1_024;

const { values: args } = parseArgs({
  options: {
    contender: { type: 'string', default: 'ours,bound,otlp-proto' },
    records: { type: 'string', default: '50000' },
    child: { type: 'string' },
    survivors: { type: 'boolean', default: false },
    sink: { type: 'string' },
  },
  strict: true,
});
const count = Number(args.records);

async function measure(contender: LogContender, sinkUrl: string): Promise<void> {
  const pipeline = buildLogPipeline(contender, sinkUrl, blrpSettings(count + WARM_UP));
  for (let i = 0; i < WARM_UP; i++) pipeline.logger.emit(logRecord(i));
  await pipeline.flush();
  for (let i = 0; i < count; i++) pipeline.logger.emit(logRecord(i));
  const allocation = await sampleAllocations(() => pipeline.flush(), 512, args.survivors);
  const what = args.survivors ? 'outlived a young-generation collection' : 'allocated while flushing';
  console.log(`${contender}: ${(allocation.totalBytes / count).toFixed(0)} bytes per record ${what}`);
  for (const line of topAllocators(allocation, count, args.survivors ? 5 : 10)) console.log(`  ${line}`);
  await pipeline.shutdown();
}

if (args.child !== undefined && args.sink !== undefined) {
  await measure(args.child as LogContender, args.sink);
} else {
  const sink = await startSink();
  try {
    for (const [contender, survivors] of args.contender.split(',').flatMap((c) => [[c, false] as const, [c, true] as const])) {
      await new Promise<void>((resolve, reject) => {
        const childArgs = ['--child', contender, '--sink', sink.url, '--records', String(count), ...(survivors ? ['--survivors'] : [])];
        const child = fork(fileURLToPath(import.meta.url), childArgs, { stdio: 'inherit' });
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${contender} exited with ${code}`))));
      });
    }
  } finally {
    sink.child.kill();
  }
}

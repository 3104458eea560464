// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time per function and per area of the
// pipeline. A .cpuprofile samples the main JS thread only: gzip, which runs on libuv's thread
// pool, is not in it (the floor's split in scenario 1 measures it instead).
//   node bench/reporting/cpuprofile-summary.ts <file.cpuprofile> [top]

import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  location: string;
  area: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** The part of the profile summarised, on the profiler's clock (µs); absent: all of it. */
  window?: [number, number];
  totalMs: number;
  /** Sampled time less idle, the base of every percent. */
  busyMs: number;
  areas: { area: string; selfMs: number; percent: number }[];
  top: FunctionTime[];
}

/** Which part of the pipeline a frame belongs to, from its script URL and name. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8/native (unattributed)';
  if (functionName === '(root)') return 'root';
  if (url.includes('/src/mapping/')) return 'ours: mapping (record → event)';
  if (url.includes('/src/capture/request-batches.ts') || url.includes('/src/capture/wire-request.ts')) return 'ours: serialization (JSON.stringify, body)';
  if (url.includes('/src/capture/') && /serial|stringify|body/i.test(functionName)) return 'ours: serialization (JSON.stringify, body)';
  if (url.includes('/src/capture/compression.ts')) return 'ours: gzip dispatch (the work runs off-thread)';
  if (url.includes('/src/capture/uuid.ts')) return 'ours: uuid generation';
  if (url.includes('/src/capture/')) return 'ours: send loop, transport, response';
  if (url.includes('/src/')) return 'ours: processor/exporter glue';
  if (url.includes('node_modules/undici/')) return 'undici (HTTP client)';
  if (url.includes('@opentelemetry/sdk-logs/')) return 'sdk-logs (LogRecord, BLRP)';
  if (url.includes('@opentelemetry/otlp-transformer/')) return 'otlp-transformer (serialization)';
  if (url.includes('@opentelemetry/otlp-exporter-base/') || url.includes('@opentelemetry/exporter-logs-otlp')) return 'otlp-exporter-base (HTTP, retries)';
  if (url.includes('@opentelemetry/')) return 'otel api/core/resources';
  if (url.includes('/bench/')) return 'bench: workload generation';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'node: streams';
  if (url.startsWith('node:zlib') || url.startsWith('node:internal/zlib')) return 'node: zlib (async compression: stream set-up, hand-off, result)';
  if (url.startsWith('node:internal/modules') || url.includes('amaro') || url.startsWith('node:internal/bootstrap')) return 'node: module loading, type stripping';
  if (url.startsWith('wasm://')) return 'wasm (undici llhttp parser, amaro)';
  if (url.startsWith('node:_http') || url.startsWith('node:http')) return 'node: http';
  if (url.startsWith('node:net') || url.startsWith('node:internal/net') || url.includes('stream_base_commons')) return 'node: net/sockets';
  if (url.startsWith('node:internal/process/task_queues') || url.includes('timers')) return 'node: event loop, timers, microtasks';
  if (url.startsWith('node:internal/deps/undici')) return "node: bundled undici (fetch)";
  if (url.startsWith('node:')) return 'node: other internals';
  if (url === '') return `V8 builtins / native (${functionName || 'anonymous'})`;
  return 'other';
}

function shortLocation(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  const m = /(?:node_modules\/(?:@[^/]+\/)?[^/]+|src|bench)\/.*$/.exec(url);
  const where = m ? m[0] : url || '(native)';
  return frame.lineNumber >= 0 && url ? `${where}:${frame.lineNumber + 1}` : where;
}

/**
 * Self time per function and area. With `window` (µs on the monotonic clock that both V8's profiler
 * and process.hrtime use), only samples inside it count: start-up and warm-up are left out.
 */
export function summarizeProfile(file: string, topN = 25, window?: [number, number]): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window[0] || at > window[1])) continue;
    const id = profile.samples[i]!;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
  }
  const perFunction = new Map<string, { frame: CallFrame; micros: number }>();
  const perArea = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    total += micros;
    const area = areaOf(frame);
    if (area === 'idle') {
      idle += micros;
      continue;
    }
    perArea.set(area, (perArea.get(area) ?? 0) + micros);
    const key = `${frame.functionName}@${frame.url}:${frame.lineNumber}:${frame.columnNumber}`;
    const entry = perFunction.get(key) ?? { frame, micros: 0 };
    entry.micros += micros;
    perFunction.set(key, entry);
  }
  const busy = total - idle;
  const pct = (micros: number) => Math.round((micros / busy) * 1000) / 10;
  const ms = (micros: number) => Math.round(micros / 100) / 10;
  return {
    file,
    ...(window ? { window } : {}),
    totalMs: ms(total),
    busyMs: ms(busy),
    areas: [...perArea].sort((a, b) => b[1] - a[1]).map(([area, micros]) => ({ area, selfMs: ms(micros), percent: pct(micros) })),
    top: [...perFunction.values()]
      .sort((a, b) => b.micros - a.micros)
      .slice(0, topN)
      .map(({ frame, micros }) => ({ name: frame.functionName || '(anonymous)', location: shortLocation(frame), area: areaOf(frame), selfMs: ms(micros), percent: pct(micros) })),
  };
}

export function renderProfileMarkdown(s: ProfileSummary): string {
  const lines: string[] = [];
  lines.push(`Main-thread samples: ${s.busyMs.toLocaleString('en-US')} ms busy of ${s.totalMs.toLocaleString('en-US')} ms profiled (percentages are of busy time).\n`);
  lines.push('| area | self ms | % |');
  lines.push('| :--- | ---: | ---: |');
  for (const a of s.areas) lines.push(`| ${a.area} | ${a.selfMs.toLocaleString('en-US')} | ${a.percent} |`);
  lines.push('');
  lines.push('| function | where | area | self ms | % |');
  lines.push('| :--- | :--- | :--- | ---: | ---: |');
  for (const f of s.top) lines.push(`| \`${f.name}\` | ${f.location} | ${f.area} | ${f.selfMs.toLocaleString('en-US')} | ${f.percent} |`);
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/reporting/cpuprofile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(renderProfileMarkdown(summarizeProfile(file, Number(process.argv[3] ?? 25))));
}

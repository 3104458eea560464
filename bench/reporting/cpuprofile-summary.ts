// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time per function and per area of the
// pipeline. A .cpuprofile samples the main JS thread only: gzip, which runs on libuv's thread
// pool, is not in it (the floor's split in scenario 1 measures it instead).
//   node bench/reporting/cpuprofile-summary.ts <file.cpuprofile> [top]

import { readFileSync } from 'node:fs';
import { median } from '../harness/statistics.ts';

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
  /** The profiles summarised (several: medians of each figure). */
  files: string[];
  /** The part of the profile summarised, on the profiler's clock (µs); absent: all of it. */
  window?: [number, number];
  totalMs: number;
  /** Sampled time less idle, the base of every percent. */
  busyMs: number;
  areas: { area: string; selfMs: number; percent: number }[];
  /** Every function with samples, the largest self time first. */
  functions: FunctionTime[];
}

/** Which part of the pipeline a frame belongs to, from its script URL and name. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8/native (unattributed)';
  if (functionName === '(root)') return 'root';
  if (url.includes('/src/mapping/')) return 'ours: mapping (record → event)';
  if (url.includes('/src/capture/request-batches.ts') || url.includes('/src/capture/wire-request.ts'))
    return 'ours: serialization (JSON.stringify, body)';
  if (url.includes('/src/capture/') && /serial|stringify|body/i.test(functionName)) return 'ours: serialization (JSON.stringify, body)';
  if (url.includes('/src/transport/compression.ts')) return 'ours: gzip dispatch (the work runs off-thread)';
  if (url.includes('/src/shared/uuid.ts')) return 'ours: uuid generation';
  if (url.includes('/src/capture/')) return 'ours: send loop, transport, response';
  if (url.includes('/src/')) return 'ours: processor/exporter glue';
  if (url.includes('node_modules/undici/')) return 'undici (HTTP client)';
  if (url.includes('@opentelemetry/sdk-logs/')) return 'sdk-logs (LogRecord, BLRP)';
  if (url.includes('@opentelemetry/otlp-transformer/')) return 'otlp-transformer (serialization)';
  if (url.includes('@opentelemetry/otlp-exporter-base/') || url.includes('@opentelemetry/exporter-logs-otlp'))
    return 'otlp-exporter-base (HTTP, retries)';
  if (url.includes('@opentelemetry/')) return 'otel api/core/resources';
  if (url.includes('/bench/contenders/bound-exporter.ts')) return 'bench: the bound exporter';
  if (url.includes('/bench/')) return 'bench: workload and producer loop';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'node: streams';
  if (url.startsWith('node:zlib') || url.startsWith('node:internal/zlib'))
    return 'node: zlib (async compression: stream set-up, hand-off, result)';
  if (url.startsWith('node:internal/modules') || url.includes('amaro') || url.startsWith('node:internal/bootstrap'))
    return 'node: module loading, type stripping';
  if (url.startsWith('wasm://')) return 'wasm (undici llhttp parser, amaro)';
  if (url.startsWith('node:_http') || url.startsWith('node:http')) return 'node: http';
  if (url.startsWith('node:net') || url.startsWith('node:internal/net') || url.includes('stream_base_commons')) return 'node: net/sockets';
  if (url.startsWith('node:internal/process/task_queues') || url.includes('timers')) return 'node: event loop, timers, microtasks';
  if (url.startsWith('node:internal/deps/undici')) return 'node: bundled undici (fetch)';
  if (url === 'node:buffer' || url === 'node:internal/buffer') return 'node: buffers (UTF-8 and hex text)';
  if (url.startsWith('node:')) return 'node: other internals';
  if (url === '') return `V8 builtins / native (${functionName || 'anonymous'})`;
  return 'other';
}

function shortLocation(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  const m = /\/((?:node_modules\/(?:@[^/]+\/)?[^/]+|src|bench)\/.*)$/.exec(url);
  const where = m ? m[1]! : url || '(native)';
  return frame.lineNumber >= 0 && url ? `${where}:${frame.lineNumber + 1}` : where;
}

/**
 * Self time per function and area, every function. With `window` (µs on the monotonic clock that
 * both V8's profiler and process.hrtime use), only samples inside it count: start-up and warm-up
 * are left out. A native frame without a name is named after its caller (`utf8Write` writing a
 * body's text, for one), and counted in its caller's area.
 */
export function summarizeProfile(file: string, window?: [number, number]): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node);
  const selfMicros = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window[0] || at > window[1])) continue;
    const id = profile.samples[i]!;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
  }
  const perFunction = new Map<string, { name: string; location: string; area: string; micros: number }>();
  const perArea = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    total += micros;
    let area = areaOf(frame);
    if (area === 'idle') {
      idle += micros;
      continue;
    }
    let name = frame.functionName || '(anonymous)';
    let location = shortLocation(frame);
    const caller = frame.url === '' && frame.functionName === '' ? parentOf.get(id)?.callFrame : undefined;
    if (caller) {
      name = `(native, in ${caller.functionName || 'anonymous'})`;
      location = shortLocation(caller);
      area = areaOf(caller);
    }
    perArea.set(area, (perArea.get(area) ?? 0) + micros);
    const key = `${name}@${location}`;
    const entry = perFunction.get(key) ?? { name, location, area, micros: 0 };
    entry.micros += micros;
    perFunction.set(key, entry);
  }
  const busy = total - idle;
  const pct = (micros: number) => Math.round((micros / busy) * 1000) / 10;
  const ms = (micros: number) => Math.round(micros / 100) / 10;
  return {
    files: [file],
    ...(window ? { window } : {}),
    totalMs: ms(total),
    busyMs: ms(busy),
    areas: [...perArea].sort((a, b) => b[1] - a[1]).map(([area, micros]) => ({ area, selfMs: ms(micros), percent: pct(micros) })),
    functions: [...perFunction.values()]
      .sort((a, b) => b.micros - a.micros)
      .map(({ micros, ...f }) => ({ ...f, selfMs: ms(micros), percent: pct(micros) })),
  };
}

/** Several profiles of the same run as one: the median of each figure (a function or area missing from a profile counts 0 there). */
export function mergeProfiles(summaries: readonly ProfileSummary[]): ProfileSummary {
  if (summaries.length === 1) return summaries[0]!;
  const med = (values: number[]) => Math.round(median(values) * 10) / 10;
  const busyMs = med(summaries.map((s) => s.busyMs));
  const pct = (ms: number) => Math.round((ms / busyMs) * 1000) / 10;
  const areaNames = new Set(summaries.flatMap((s) => s.areas.map((a) => a.area)));
  const areas = [...areaNames]
    .map((area) => {
      const selfMs = med(summaries.map((s) => s.areas.find((a) => a.area === area)?.selfMs ?? 0));
      return { area, selfMs, percent: pct(selfMs) };
    })
    .sort((a, b) => b.selfMs - a.selfMs);
  const functionsByKey = new Map<string, FunctionTime>();
  for (const s of summaries) for (const f of s.functions) functionsByKey.set(`${f.name}@${f.location}`, f);
  const functions = [...functionsByKey]
    .map(([key, f]) => {
      const selfMs = med(summaries.map((s) => s.functions.find((g) => `${g.name}@${g.location}` === key)?.selfMs ?? 0));
      return { ...f, selfMs, percent: pct(selfMs) };
    })
    .sort((a, b) => b.selfMs - a.selfMs);
  return { files: summaries.flatMap((s) => s.files), totalMs: med(summaries.map((s) => s.totalMs)), busyMs, areas, functions };
}

/** With `records`, a column of self time per record (µs) beside the totals. */
export function renderProfileMarkdown(s: ProfileSummary, topN = 25, records?: number): string {
  const lines: string[] = [];
  const of = s.files.length > 1 ? ` (medians of ${s.files.length} profiles)` : '';
  lines.push(
    `Main-thread samples: ${s.busyMs.toLocaleString('en-US')} ms busy of ${s.totalMs.toLocaleString('en-US')} ms profiled${of}; percentages are of busy time.\n`,
  );
  const perRecord = records === undefined ? () => [] : (ms: number) => [((ms * 1000) / records).toFixed(2)];
  const head = records === undefined ? [] : ['µs/record'];
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  lines.push(row(['area', 'self ms', ...head, '%']));
  lines.push(row([':---', '---:', ...head.map(() => '---:'), '---:']));
  for (const a of s.areas.filter((a) => a.selfMs >= 1))
    lines.push(row([a.area, a.selfMs.toLocaleString('en-US'), ...perRecord(a.selfMs), String(a.percent)]));
  lines.push('');
  lines.push(row(['function', 'where', 'area', 'self ms', ...head, '%']));
  lines.push(row([':---', ':---', ':---', '---:', ...head.map(() => '---:'), '---:']));
  for (const f of s.functions.slice(0, topN))
    lines.push(row([`\`${f.name}\``, f.location, f.area, f.selfMs.toLocaleString('en-US'), ...perRecord(f.selfMs), String(f.percent)]));
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/reporting/cpuprofile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(renderProfileMarkdown(summarizeProfile(file), Number(process.argv[3] ?? 25)));
}

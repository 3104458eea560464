// Small shared helpers: sink control from any process, statistics, CPU and memory readings.

import { readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { SinkStats } from './sink.ts';

export { yieldToLoop };

/** One control call to the sink, over node:http so it shares no connection pool with a contender. */
function control(sinkUrl: string, method: 'GET' | 'POST', path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(`${sinkUrl}${path}`, { method, agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(error as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export const sinkControl = {
  stats: (url: string) => control(url, 'GET', '/__stats') as Promise<SinkStats>,
  reset: (url: string) => control(url, 'POST', '/__reset').then(() => undefined),
  outage: (url: string, on: boolean) => control(url, 'POST', `/__outage?on=${on ? 1 : 0}`).then(() => undefined),
};

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function min(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.min(...values);
}

export function max(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values);
}

/** user + system CPU of this process (every thread: the JS thread, libuv's pool, GC helpers) in µs. */
export function cpuMicros(since?: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return u.user + u.system;
}

export interface Timing {
  wallMs: number;
  /** Process CPU, every thread. */
  cpuMs: number;
  /** CPU of the main (JS) thread alone, where process.threadCpuUsage exists (Node 23.9+). */
  mainThreadCpuMs?: number;
  /** CPU per kind of thread (Linux only): V8's helpers (GC, compiler), libuv's pool (compression), the rest. */
  threadGroupCpuMs?: ThreadGroupCpu;
  /** The timed window on the monotonic clock V8's CPU profiler also uses (µs), to cut a profile to it. */
  windowMicros: [number, number];
}

export interface ThreadGroupCpu {
  main: number;
  v8Helpers: number;
  libuvPool: number;
  other: number;
}

type ThreadCpuUsage = () => NodeJS.CpuUsage;

type ThreadGroup = keyof ThreadGroupCpu;
/** Per thread id: its kind and the nanoseconds it has run. */
type ThreadTimes = Map<string, { group: ThreadGroup; ns: number }>;

/** Nanoseconds each thread of this process has run, with its kind, from /proc (undefined where it cannot be read). */
function threadNanos(): ThreadTimes | undefined {
  const threads: ThreadTimes = new Map();
  try {
    for (const task of readdirSync('/proc/self/task')) {
      let ns: number;
      let name: string;
      try {
        ns = Number(readFileSync(`/proc/self/task/${task}/schedstat`, 'utf8').split(' ')[0]);
        name = readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim();
      } catch (error) {
        // Ended between listing and reading: it is left out of both readings' difference.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') continue;
        throw error;
      }
      if (!Number.isFinite(ns)) return undefined;
      const group: ThreadGroup = task === String(process.pid) ? 'main' : name.startsWith('V8') ? 'v8Helpers' : name.startsWith('libuv-worker') ? 'libuvPool' : 'other';
      threads.set(task, { group, ns });
    }
  } catch {
    return undefined;
  }
  return threads;
}

/** CPU by kind of thread between two readings, in ms; threads missing from either reading count for nothing. */
function threadGroupCpuMs(before: ThreadTimes, after: ThreadTimes): ThreadGroupCpu {
  const sums: ThreadGroupCpu = { main: 0, v8Helpers: 0, libuvPool: 0, other: 0 };
  for (const [task, end] of after) {
    const start = before.get(task);
    if (start !== undefined) sums[end.group] += (end.ns - start.ns) / 1e6;
  }
  return sums;
}

const threadCpuUsage = (process as unknown as { threadCpuUsage?: ThreadCpuUsage }).threadCpuUsage?.bind(process);

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/** Runs `fn` and returns its wall time and the CPU it took. */
export async function timed(fn: () => Promise<void>): Promise<Timing> {
  const thread0 = threadCpuUsage?.();
  const threads0 = threadNanos();
  const cpu0 = process.cpuUsage();
  const w0 = monotonicMicros();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const w1 = monotonicMicros();
  const cpuMs = cpuMicros(cpu0) / 1000;
  const thread1 = threadCpuUsage?.();
  const threads1 = threadNanos();
  const timing: Timing = { wallMs, cpuMs, windowMicros: [w0, w1] };
  if (thread0 && thread1) timing.mainThreadCpuMs = (thread1.user + thread1.system - thread0.user - thread0.system) / 1000;
  if (threads0 && threads1) timing.threadGroupCpuMs = threadGroupCpuMs(threads0, threads1);
  return timing;
}

export function mib(bytes: number): number {
  return Math.round((bytes / (1024 * 1024)) * 10) / 10;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

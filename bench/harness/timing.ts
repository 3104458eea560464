// Measuring a timed window inside a measured process: wall time, CPU of the process, of its main
// thread and of each kind of thread, and the garbage collector's pauses on the main thread.

import { readFileSync, readdirSync } from 'node:fs';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { sleep } from './waiting.ts';

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
  /** Garbage collections that started in the window: main-thread pause time and counts, from perf_hooks. */
  gc: GcPauses;
  /** The timed window on the monotonic clock V8's CPU profiler also uses (µs), to cut a profile to it. */
  windowMicros: [number, number];
}

export interface ThreadGroupCpu {
  main: number;
  v8Helpers: number;
  libuvPool: number;
  other: number;
}

export interface GcPauses {
  /** Sum of the main thread's GC pauses, ms. */
  pauseMs: number;
  scavenges: number;
  markCompacts: number;
  /** Incremental marking steps and weak-callback processing. */
  other: number;
}

type ThreadCpuUsage = () => NodeJS.CpuUsage;

type ThreadGroup = keyof ThreadGroupCpu;
/** Per thread id: its kind and the nanoseconds it has run. */
export type ThreadTimes = Map<string, { group: ThreadGroup; ns: number }>;

/** Nanoseconds each thread of this process has run, with its kind, from /proc (undefined where it cannot be read). */
export function threadNanos(): ThreadTimes | undefined {
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
      const group: ThreadGroup =
        task === String(process.pid)
          ? 'main'
          : name.startsWith('V8')
            ? 'v8Helpers'
            : name.startsWith('libuv-worker')
              ? 'libuvPool'
              : 'other';
      threads.set(task, { group, ns });
    }
  } catch {
    return undefined;
  }
  return threads;
}

/** CPU by kind of thread between two readings, in ms; threads missing from either reading count for nothing. */
export function threadGroupCpuMs(before: ThreadTimes, after: ThreadTimes): ThreadGroupCpu {
  const sums: ThreadGroupCpu = { main: 0, v8Helpers: 0, libuvPool: 0, other: 0 };
  for (const [task, end] of after) {
    const start = before.get(task);
    if (start !== undefined) sums[end.group] += (end.ns - start.ns) / 1e6;
  }
  return sums;
}

const threadCpuUsage = (process as unknown as { threadCpuUsage?: ThreadCpuUsage }).threadCpuUsage?.bind(process);

/** user + system CPU of the main (JS) thread alone in µs, where process.threadCpuUsage exists (Node 23.9+). */
export function mainThreadCpuMicros(): number | undefined {
  const usage = threadCpuUsage?.();
  return usage === undefined ? undefined : usage.user + usage.system;
}

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/** GC entries reach observers on a later turn of the event loop: this collects them for one window. */
function observeGc(): { read(fromMs: number, toMs: number): Promise<GcPauses> } {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return {
    async read(fromMs, toMs) {
      // After a synchronous loop the entries are still queued; a few ms outside the window deliver them.
      await sleep(10);
      observer.disconnect();
      const pauses: GcPauses = { pauseMs: 0, scavenges: 0, markCompacts: 0, other: 0 };
      for (const entry of entries) {
        if (entry.startTime < fromMs || entry.startTime > toMs) continue;
        pauses.pauseMs += entry.duration;
        const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MINOR) pauses.scavenges++;
        else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) pauses.markCompacts++;
        else pauses.other++;
      }
      return pauses;
    },
  };
}

/** Runs `fn` and returns its wall time and the CPU it took. */
export async function timed(fn: () => Promise<void>): Promise<Timing> {
  const gc = observeGc();
  const thread0 = mainThreadCpuMicros();
  const threads0 = threadNanos();
  const cpu0 = process.cpuUsage();
  const w0 = monotonicMicros();
  const t0 = performance.now();
  await fn();
  const t1 = performance.now();
  const w1 = monotonicMicros();
  const cpuMs = cpuMicros(cpu0) / 1000;
  const thread1 = mainThreadCpuMicros();
  const threads1 = threadNanos();
  const timing: Timing = { wallMs: t1 - t0, cpuMs, gc: await gc.read(t0, t1), windowMicros: [w0, w1] };
  if (thread0 !== undefined && thread1 !== undefined) timing.mainThreadCpuMs = (thread1 - thread0) / 1000;
  if (threads0 && threads1) timing.threadGroupCpuMs = threadGroupCpuMs(threads0, threads1);
  return timing;
}

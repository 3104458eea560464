// Process plumbing shared by run.ts and profile.ts: the sink's process, and one fresh process per
// measured job (child.ts).

import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job } from './child.ts';

const here = dirname(fileURLToPath(import.meta.url));

const CHILD_TIMEOUT_MS = 10 * 60_000;

export function startSink(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'sink.ts'), ['--sink-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (message: { type?: string; url?: string }) => {
      if (message.type === 'sink-ready' && message.url) resolve({ child, url: message.url });
      else reject(new Error(`unexpected sink message ${JSON.stringify(message)}`));
    });
    child.once('exit', (code) => reject(new Error(`sink exited early (${code})`)));
  });
}

/** Runs one job in a fresh process and returns its result once the process has exited. */
export function runChild<T>(job: Job, execArgv: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'child.ts'), [JSON.stringify(job)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let message: { type: string; result?: unknown; error?: string } | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.on('message', (m: { type: string; result?: unknown; error?: string }) => {
      message ??= m;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`${job.scenario} timed out after ${CHILD_TIMEOUT_MS / 1000} s`));
      else if (message?.type === 'result') resolve(message.result as T);
      else if (message?.type === 'error') reject(new Error(`${job.scenario} failed in the child: ${message.error}`));
      else reject(new Error(`${job.scenario} child exited with ${code} and no result`));
    });
  });
}

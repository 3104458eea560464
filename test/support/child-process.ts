// Runs a Node.js child process as a user would start one: a clean environment (none of the parent's
// POSTHOG_* / OTEL_* settings, nor the test runner's marker) plus the given variables.

import { spawn } from 'node:child_process';

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** The run fails (the child is killed) after this long. Default 20 s. */
  timeoutMs?: number;
  /** The executable; default this process's Node.js. */
  command?: string;
}

/** The parent's environment without POSTHOG_* / OTEL_* settings (and the test runner's marker), plus `env`. */
export function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('POSTHOG_') || key.startsWith('OTEL_') || key === 'NODE_TEST_CONTEXT') continue;
    clean[key] = value;
  }
  return { ...clean, ...env };
}

export function runChild(args: string[], options: ChildOptions = {}): Promise<ChildRun> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawn(options.command ?? process.execPath, args, {
      cwd: options.cwd,
      env: cleanEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

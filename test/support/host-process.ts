// What a test needs to watch the host process: that nothing escapes into it, and a bounded wait
// for something to happen on real time (a server, a child process, a file).

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/**
 * Collects every 'unhandledRejection' and 'uncaughtException' while the test runs. Call the
 * returned function at the end of the test to assert there were none; the listeners go in t.after.
 */
export function guardProcess(t: TestContext): () => void {
  const escaped: string[] = [];
  const onRejection = (reason: unknown): void => {
    escaped.push(`unhandledRejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  };
  const onException = (error: Error): void => {
    escaped.push(`uncaughtException: ${error.stack ?? error.message}`);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  t.after(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  });
  return () => assert.deepEqual(escaped, [], 'nothing escapes into the host process');
}

/** Resolves once `predicate()` holds; fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = performance.now();
  while (!(await predicate())) {
    if (performance.now() - start > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// Waiting inside a measured process: for the next turn of the event loop, or for a while.

import { setImmediate as yieldToLoop } from 'node:timers/promises';

export { yieldToLoop };

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import type { Clock } from '../../src/shared/clock.ts';

/** A clock whose sleeps return at once and move time forward, recording each wait. */
export class InstantClock implements Clock {
  time: number;
  readonly sleeps: number[] = [];

  constructor(start = Date.UTC(2026, 10, 22, 12, 0, 0)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return;
    this.time += ms;
    await new Promise((resolve) => setImmediate(resolve));
  }

  advance(ms: number): void {
    this.time += ms;
  }
}

import type { Clock } from '../../src/shared/clock.ts';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

/**
 * A clock that moves only when told: sleeps and scheduled callbacks wait until `advance()` reaches
 * their time, then run in time order, with pending promise chains settled between them.
 */
export class ManualClock implements Clock {
  time: number;
  private _timers: Timer[] = [];
  private _seq = 0;

  constructor(start = Date.UTC(2026, 10, 22, 12, 0, 0)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = this.schedule(ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = (): void => {
        cancel();
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  schedule(ms: number, callback: () => void): () => void {
    const timer: Timer = { at: this.time + Math.max(0, ms), seq: this._seq++, fire: callback };
    this._timers.push(timer);
    return () => {
      this._timers = this._timers.filter((t) => t !== timer);
    };
  }

  /** When the next timer is due, if any is set. */
  get nextTimerAt(): number | undefined {
    let next: number | undefined;
    for (const timer of this._timers) if (next === undefined || timer.at < next) next = timer.at;
    return next;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.time + ms);
  }

  /** Moves time to `until`, firing every timer due on the way, in order. */
  async advanceTo(until: number): Promise<void> {
    await settle();
    for (;;) {
      const due = this._timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this._timers = this._timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fire();
      await settle();
    }
    this.time = Math.max(this.time, until);
    await settle();
  }

  /** Runs `work` while moving time forward timer by timer until it settles (at most `limitMillis`). */
  async run<T>(work: Promise<T>, limitMillis = 3_600_000): Promise<T> {
    let done = false;
    const result = work.finally(() => {
      done = true;
    });
    const end = this.time + limitMillis;
    await settle();
    while (!done) {
      const next = this.nextTimerAt;
      if (next === undefined || next > end) break;
      await this.advanceTo(next);
    }
    return result;
  }
}

/** Lets pending promise chains and immediates run (no real I/O is involved). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

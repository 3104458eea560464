/** Time as the send loop sees it. Tests substitute a clock that advances instantly. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts. Never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `callback` once `ms` have passed on this clock; the timer does not keep the process alive.
   * Returns a function that cancels it. Without it, a real timer of `ms` is used.
   */
  schedule?(ms: number, callback: () => void): () => void;
}

/** A timer on `clock` (its own when it has one), unref'd: pending work must not hold the process open. */
export function scheduleOn(clock: Clock, ms: number, callback: () => void): () => void {
  if (clock.schedule) return clock.schedule(ms, callback);
  const timer = setTimeout(callback, Math.max(0, ms));
  timer.unref();
  return () => clearTimeout(timer);
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted || ms <= 0) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      // Not unref'd: a pending retry should keep the process alive until its deadline, or events are lost at exit.
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    });
  },
};

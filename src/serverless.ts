import { logger } from './diagnostics/diagnostics.ts';
import { scheduleOn, systemClock, type Clock } from './shared/clock.ts';

/** Anything with a `forceFlush()`: our processors, a LoggerProvider, a TracerProvider. */
export interface Flushable {
  forceFlush(): Promise<void>;
}

/** Options of {@link withFlush}, given after the flushables. */
export interface WithFlushOptions {
  /**
   * Longest the flush after the handler may add to an invocation, in milliseconds. Default 1000.
   * What it has not delivered by then stays pending: in the retry buffer for a later invocation
   * of the same instance, or in the spool with `spoolDir`.
   */
  timeoutMillis?: number;
}

/** The flush budget of an invocation when none is given: short, as a request's latency allows. */
export const WITH_FLUSH_TIMEOUT_MILLIS = 1_000;

/** Our processors and exporter flush within a budget of their own, rather than being left running past it. */
interface BudgetedFlushable extends Flushable {
  forceFlushWithin(timeoutMillis: number): Promise<void>;
}

/**
 * Wraps a serverless handler (AWS Lambda, Google Cloud Functions, Vercel…) so that every invocation
 * ends with a flush: the platform may freeze or end the process as soon as the handler returns,
 * and whatever is still queued would be lost. The flush runs whether the handler resolves or
 * throws, never replaces the handler's own result or error, and is bounded by a budget
 * (`timeoutMillis`, 1 s by default): `withFlush(handler, posthog, { timeoutMillis: 500 })`.
 * While PostHog is known to be down, the flush does not wait for it.
 */
export function withFlush<Args extends unknown[], Result>(
  handler: (...args: Args) => Result | Promise<Result>,
  ...targets: Array<Flushable | WithFlushOptions>
): (...args: Args) => Promise<Result> {
  return flushingAfter(handler, targets.filter(isFlushable), budgetOf(targets), systemClock);
}

/** @internal {@link withFlush} with its parts given, the clock included. */
export function flushingAfter<Args extends unknown[], Result>(
  handler: (...args: Args) => Result | Promise<Result>,
  flushables: readonly Flushable[],
  timeoutMillis: number,
  clock: Clock,
): (...args: Args) => Promise<Result> {
  return async (...args: Args): Promise<Result> => {
    try {
      return await handler(...args);
    } finally {
      await flushWithin(flushables, timeoutMillis, clock);
    }
  };
}

/**
 * @internal Flushes every flushable at once and resolves when all are done or `timeoutMillis` has
 * passed on `clock`, whichever comes first. Never rejects: a failing flush is logged.
 */
export async function flushWithin(flushables: readonly Flushable[], timeoutMillis: number, clock: Clock): Promise<void> {
  let cancel: (() => void) | undefined;
  const timeUp = new Promise<void>((resolve) => {
    cancel = scheduleOn(clock, timeoutMillis, resolve);
  });
  const flushes = flushables.map((f) =>
    Promise.resolve()
      .then(() => (isBudgeted(f) ? f.forceFlushWithin(timeoutMillis) : f.forceFlush()))
      .catch((error: unknown) => logger.error(`flush after the handler failed: ${String(error)}`)),
  );
  try {
    await Promise.race([Promise.all(flushes), timeUp]);
  } finally {
    cancel?.();
  }
}

function isFlushable(target: Flushable | WithFlushOptions): target is Flushable {
  return typeof (target as Partial<Flushable>).forceFlush === 'function';
}

function isBudgeted(flushable: Flushable): flushable is BudgetedFlushable {
  return typeof (flushable as Partial<BudgetedFlushable>).forceFlushWithin === 'function';
}

/** The last options object's `timeoutMillis`, if it is a usable number; else the default, with a warning. */
function budgetOf(targets: ReadonlyArray<Flushable | WithFlushOptions>): number {
  const options = targets
    .filter((target): target is WithFlushOptions => !isFlushable(target) && typeof target === 'object' && target !== null)
    .at(-1);
  const value: unknown = options?.timeoutMillis;
  if (value === undefined) return WITH_FLUSH_TIMEOUT_MILLIS;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  logger.warn(
    `withFlush: timeoutMillis is ignored: expected a number of milliseconds, 0 or more, got ${String(value)}; using ${WITH_FLUSH_TIMEOUT_MILLIS}.`,
  );
  return WITH_FLUSH_TIMEOUT_MILLIS;
}

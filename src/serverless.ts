import { logger } from './diagnostics/diagnostics.ts';

/** Anything with a `forceFlush()`: our processors, a LoggerProvider, a TracerProvider. */
export interface Flushable {
  forceFlush(): Promise<void>;
}

/**
 * Wraps a serverless handler (AWS Lambda, Google Cloud Functions, Vercel…) so that every invocation
 * ends with a flush: the platform may freeze or end the process as soon as the handler returns,
 * and whatever is still queued would be lost. The flush runs whether the handler resolves or
 * throws, is bounded by `flushTimeoutMillis`, and never replaces the handler's own result or error.
 */
export function withFlush<Args extends unknown[], Result>(
  handler: (...args: Args) => Result | Promise<Result>,
  ...flushables: Flushable[]
): (...args: Args) => Promise<Result> {
  return async (...args: Args): Promise<Result> => {
    try {
      return await handler(...args);
    } finally {
      await Promise.all(
        flushables.map((f) =>
          Promise.resolve()
            .then(() => f.forceFlush())
            .catch((error: unknown) => logger.error(`flush after the handler failed: ${String(error)}`)),
        ),
      );
    }
  };
}

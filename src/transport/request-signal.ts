/** The abort signal of one request, and what fired it. */
export interface RequestSignal {
  readonly signal: AbortSignal;
  /** The request's own time ran out (not the caller's signal). */
  readonly timedOut: boolean;
  /** Stops the timer and lets go of the caller's signal; call once the request has ended. */
  release(): void;
}

/**
 * A signal that aborts after `timeoutMillis` or when `outer` aborts, made of a plain controller and
 * timer that the request releases when it ends. `AbortSignal.any()` would link each request's
 * signal to the long-lived `outer` through weak references that only full collections clear, a
 * known source of retention (nodejs/node#55351, #64476); a released listener leaves nothing behind.
 */
export function requestSignal(timeoutMillis: number, outer?: AbortSignal): RequestSignal {
  const controller = new AbortController();
  let timedOut = false;
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  const timer = setTimeout(
    () => {
      timedOut = true;
      controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    },
    Math.max(1, timeoutMillis),
  );
  // Like AbortSignal.timeout: a request in flight keeps the process alive by its socket, not its timer.
  timer.unref();
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    release() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    },
  };
}

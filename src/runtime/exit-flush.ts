/** A pipeline that can flush when the process is about to exit. */
export interface ExitFlushable {
  /** Starts the exit flush, or returns undefined when there is nothing new to flush. */
  flushAtExit(): Promise<void> | undefined;
}

// One listener for every pipeline (one each would trip Node's max-listeners warning). Weak
// references: registering must not keep an abandoned pipeline alive.
const pipelines = new Set<WeakRef<ExitFlushable>>();
let listening = false;

/**
 * Flushes `pipeline` on `beforeExit`: the event loop has emptied, so a script that never called
 * `shutdown()` would exit with its last batch unsent (the batch timer does not keep it alive).
 * The flush's requests keep the process alive until they end. Returns the function that unregisters.
 */
export function flushOnExit(pipeline: ExitFlushable): () => void {
  const ref = new WeakRef(pipeline);
  pipelines.add(ref);
  if (!listening) {
    process.on('beforeExit', onBeforeExit);
    listening = true;
  }
  return () => {
    pipelines.delete(ref);
    if (pipelines.size === 0 && listening) {
      process.off('beforeExit', onBeforeExit);
      listening = false;
    }
  };
}

function onBeforeExit(): void {
  for (const ref of pipelines) {
    const pipeline = ref.deref();
    if (pipeline === undefined) {
      pipelines.delete(ref);
      continue;
    }
    try {
      pipeline.flushAtExit()?.catch(() => undefined);
    } catch {
      // Flushing is best effort; nothing may throw out of an exit hook.
    }
  }
}

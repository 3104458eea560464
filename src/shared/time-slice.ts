/** How long a loop may hold the event loop before it lets other work run. */
const SLICE_MILLIS = 2;
/** Items between clock reads: reading the clock per item would cost more than it saves. */
const CHECK_EVERY = 32;

/**
 * Cuts long synchronous loops (mapping and serialising hundreds of events) into slices of a few
 * milliseconds, so timers and I/O of the host application are not held up while we export.
 */
export class TimeSlicer {
  private _sliceStart = performance.now();
  private _count = 0;
  /** The turn every paused loop waits for: one slice per turn, however many loops share the slicer. */
  private _nextTurn: Promise<void> | undefined;

  /** Call once per item; resolves at once, or after a turn of the event loop when the slice is used up. */
  pause(): Promise<void> | undefined {
    if (++this._count % CHECK_EVERY !== 0) return undefined;
    return this.pauseIfDue();
  }

  /** Before a larger piece of work: yields when the slice is used up, whatever the item count. */
  pauseIfDue(): Promise<void> | undefined {
    if (performance.now() - this._sliceStart < SLICE_MILLIS) return undefined;
    // Loops running at once share the slicer (an export and a timed resend, exports overlapping
    // after a batch timeout): each waiting on its own setImmediate would get a fresh slice each,
    // all in one turn of the event loop.
    this._nextTurn ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this._nextTurn = undefined;
        this._sliceStart = performance.now();
        resolve();
      }),
    );
    return this._nextTurn;
  }
}

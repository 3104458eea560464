import { scheduleOn, type Clock } from '../shared/clock.ts';

/** A flush or shutdown in progress: sends end by its deadline. */
export interface FlushWindow {
  deadline: number;
  /** Shutdown's window: leftovers go to the spool or are dropped, not back to the buffer. */
  final: boolean;
  /** A delivery in this window found PostHog unreachable: the window sends nothing more. */
  unreachable: boolean;
}

/**
 * The flush and shutdown windows open now. Until a window closes, deliveries end by its deadline;
 * at the deadline in-flight requests and backoff sleeps are aborted through `signal`.
 */
export class FlushWindows {
  private readonly _clock: Clock;
  private readonly _open = new Set<FlushWindow>();
  private _abort = new AbortController();

  constructor(clock: Clock) {
    this._clock = clock;
  }

  /** Aborted when the earliest deadline passes; each deadline gets a fresh controller afterwards. */
  get signal(): AbortSignal {
    return this._abort.signal;
  }

  get isOpen(): boolean {
    return this._open.size > 0;
  }

  get final(): boolean {
    for (const window of this._open) if (window.final) return true;
    return false;
  }

  /** A delivery in an open window found PostHog unreachable. */
  get unreachable(): boolean {
    for (const window of this._open) if (window.unreachable) return true;
    return false;
  }

  /** The window that ends first, if any is open. */
  earliest(): FlushWindow | undefined {
    let earliest: FlushWindow | undefined;
    for (const window of this._open) if (earliest === undefined || window.deadline < earliest.deadline) earliest = window;
    return earliest;
  }

  /** Opens a window of `timeoutMillis`; returns the function that closes it. */
  open(timeoutMillis: number, final: boolean): () => void {
    const window: FlushWindow = { deadline: this._clock.now() + timeoutMillis, final, unreachable: false };
    this._open.add(window);
    const controller = this._abort;
    const cancel = scheduleOn(this._clock, Math.max(0, window.deadline - this._clock.now()), () => {
      // Cut short whatever is still running; later deliveries get a fresh controller.
      if (this._abort === controller) this._abort = new AbortController();
      controller.abort('deadline');
    });
    return () => {
      cancel();
      this._open.delete(window);
    };
  }

  /** Every open window stops sending: what is left stays pending. */
  markUnreachable(): void {
    for (const window of this._open) window.unreachable = true;
  }
}

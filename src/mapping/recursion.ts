// A stack overflow fills the whole stack with one repeating cycle of calls, and where the runtime
// cut it decides which frames are left: the same fault would open a new issue per cut. Like
// posthog-node, one copy of each exact cycle is kept, the part of a cycle left over at a cut is
// removed, and a stack that is nothing but one cycle starts at the same call every time.

import type { ParsedFrame } from './stack-frames.ts';

/** Longest cycle looked for, in frames. */
const MAX_CYCLE = 10;

interface Cycle {
  start: number;
  length: number;
}

/** Collects frames innermost first, keeping one copy of each repeated cycle as they come. */
export class RecursionCollapser {
  readonly frames: ParsedFrame[] = [];
  private readonly _keys: string[] = [];
  private readonly _cycles: Cycle[] = [];

  add(frame: ParsedFrame): void {
    this.frames.push(frame);
    this._keys.push(frameKey(frame));
    const cycle = this._collapseTail();
    if (cycle === undefined) return;
    // The collapse rewrote everything from cycle.start on: cycles recorded there are gone.
    while (this._cycles.length > 0) {
      const previous = this._cycles.at(-1)!;
      if (previous.start + previous.length <= cycle.start) break;
      this._cycles.pop();
    }
    this._cycles.push(cycle);
  }

  /** Frames that will be left once the leftover parts of cycles are removed. */
  get surviving(): number {
    let count = this.frames.length;
    const innermost = this._cycles[0];
    if (innermost !== undefined) count -= this._innermostLeftover(innermost);
    for (const cycle of this._cycles) count -= this._outerLeftover(cycle);
    return count;
  }

  /** The frames, innermost first, with leftovers removed and a lone cycle in its one rotation. */
  finish(): ParsedFrame[] {
    // From the cycle furthest from the throw inwards, so positions of the others still hold.
    const cycles = [...this._cycles].sort((a, b) => b.start - a.start);
    const innermost = cycles.at(-1);
    if (innermost !== undefined) {
      // The innermost end first: the leftover there reads as such only while the copy sits where the stack put it.
      const trimmed = this._innermostLeftover(innermost);
      this._splice(innermost.start - trimmed, trimmed);
      for (const cycle of cycles) cycle.start -= trimmed;
    }
    for (const cycle of cycles) {
      const leftover = this._outerLeftover(cycle);
      if (leftover === 0) continue;
      const copyEnd = cycle.start + cycle.length;
      // A leftover cut off at the end of the stack goes; otherwise the copy gives up its first
      // frames, so the frame outside the cycle stays next to the call it really made.
      this._splice(copyEnd + leftover === this.frames.length ? copyEnd : cycle.start, leftover);
    }
    if (this._cycles.some((cycle) => cycle.start === 0 && cycle.length === this.frames.length)) this._rotateToSmallest();
    return this.frames;
  }

  /** When the last 2×L frames are two equal copies of a cycle, drops the later one. */
  private _collapseTail(): Cycle | undefined {
    const keys = this._keys;
    for (let length = 1; length <= MAX_CYCLE; length++) {
      const start = keys.length - 2 * length;
      if (start < 0) return undefined;
      let same = true;
      for (let i = 0; i < length && same; i++) same = keys[start + i] === keys[start + length + i];
      if (same) {
        this.frames.length -= length;
        keys.length -= length;
        return { start, length };
      }
    }
    return undefined;
  }

  /** Frames just inside the copy that repeat the end of the cycle. */
  private _innermostLeftover(cycle: Cycle): number {
    let start = cycle.start;
    while (start > 0 && this._keys[start - 1] === this._keys[start - 1 + cycle.length]) start--;
    return cycle.start - start;
  }

  /** Frames just outside the copy that repeat its beginning. */
  private _outerLeftover(cycle: Cycle): number {
    const copyEnd = cycle.start + cycle.length;
    let end = copyEnd;
    while (end < this.frames.length && this._keys[end] === this._keys[end - cycle.length]) end++;
    return end - copyEnd;
  }

  private _splice(at: number, count: number): void {
    if (count <= 0) return;
    this.frames.splice(at, count);
    this._keys.splice(at, count);
  }

  /** Any rotation of a lone cycle holds the same calls: always keep the smallest, compared frame by frame. */
  private _rotateToSmallest(): void {
    const keys = this._keys;
    const n = keys.length;
    let best = 0;
    for (let candidate = 1; candidate < n; candidate++) {
      for (let offset = 0; offset < n; offset++) {
        const left = keys[(candidate + offset) % n]!;
        const right = keys[(best + offset) % n]!;
        if (left === right) continue;
        if (left < right) best = candidate;
        break;
      }
    }
    if (best === 0) return;
    this.frames.push(...this.frames.splice(0, best));
    keys.push(...keys.splice(0, best));
  }
}

/** What makes two frames the same call site: as posthog-node compares them, on the path as printed. */
function frameKey(frame: ParsedFrame): string {
  return `${frame.function}|${frame.abs_path ?? frame.filename}|${frame.lineno}|${frame.colno}|undefined`;
}

/** Free buffers kept: one per request being compressed at once, which is rarely more than two. */
const KEEP = 2;
/**
 * A buffer above this is left to the garbage collector: it serves a full request of typical
 * events, and bounds what a client keeps between requests to KEEP such buffers.
 */
const KEEP_MAX_BYTES = 4 * 1024 * 1024;
const MIN_BYTES = 64 * 1024;

/**
 * Buffers for request bodies before compression, reused from one request to the next. A fresh
 * buffer per request (sized for the worst-case UTF-8 length) counts as external memory to V8, and
 * that churn alone set off full garbage collections (BENCHMARKS.md).
 */
export class BodyBuffers {
  private readonly _free: Buffer[] = [];
  private readonly _owned = new WeakSet<ArrayBuffer>();

  /** A buffer of at least `bytes`, to be handed back with `give` once nothing reads it any more. */
  take(bytes: number): Buffer {
    const kept = this._free.pop();
    if (kept !== undefined && kept.length >= bytes) return kept;
    // Too small: dropped, so the pool settles on the size the batches need. Its own memory (never
    // a slice of Node's shared pool), so handing it back cannot touch anyone else's bytes.
    const fresh = Buffer.allocUnsafeSlow(Math.max(MIN_BYTES, 2 ** Math.ceil(Math.log2(bytes))));
    this._owned.add(fresh.buffer);
    return fresh;
  }

  /** Hands back a buffer from `take`, or any view of one; other buffers are ignored. */
  give(view: Buffer): void {
    const memory = view.buffer;
    if (!(memory instanceof ArrayBuffer) || !this._owned.has(memory)) return;
    if (this._free.length >= KEEP || memory.byteLength > KEEP_MAX_BYTES) return;
    if (this._free.some((kept) => kept.buffer === memory)) return;
    this._free.push(Buffer.from(memory));
  }
}

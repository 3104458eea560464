import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Compression } from '../capture/types.ts';

type Compress<O> = (buffer: Buffer, options: O) => Promise<Buffer>;

const gzipAsync = promisify(zlib.gzip) as Compress<zlib.ZlibOptions>;
const deflateAsync = promisify(zlib.deflate) as Compress<zlib.ZlibOptions>;
// Every supported Node has zstd (22.15+); the check sends gzip rather than failing on an older runtime.
const zstdAsync = typeof zlib.zstdCompress === 'function' ? (promisify(zlib.zstdCompress) as Compress<zlib.ZstdOptions>) : undefined;

/** Fastest level: on capture batches, far less CPU than the default level for slightly larger bodies (BENCHMARKS.md). */
const ZLIB_OPTIONS: zlib.ZlibOptions = { level: zlib.constants.Z_BEST_SPEED };

/** Level 1, and the default codec: less CPU and smaller bodies than gzip at either level (BENCHMARKS.md). */
const ZSTD_OPTIONS: zlib.ZstdOptions = { params: { [zlib.constants.ZSTD_c_compressionLevel]: 1 } };

export interface EncodedBody {
  body: Buffer;
  /** The `Content-Encoding` header, absent when the body is plain JSON. */
  encoding?: 'zstd' | 'gzip' | 'deflate';
}

type Codec = Exclude<Compression, 'none'>;

/** One compressor per codec; a missing one (zstd before Node 22.15) means gzip. */
export type Compressors = Partial<Record<Codec, (raw: Buffer) => Promise<Buffer>>>;

const NODE_COMPRESSORS: Compressors = {
  ...(zstdAsync ? { zstd: (raw: Buffer) => zstdAsync(raw, ZSTD_OPTIONS) } : {}),
  gzip: (raw) => gzipAsync(raw, ZLIB_OPTIONS),
  deflate: (raw) => deflateAsync(raw, ZLIB_OPTIONS),
};

/**
 * Compresses on libuv's thread pool, off the event loop. `deflate` is the zlib-wrapped format
 * (RFC 1950) the server sniffs for. If compression fails the body goes out uncompressed.
 * The body returned never shares memory with `raw`: the caller reuses raw's buffer once this returns.
 */
export async function encodeBody(
  raw: Buffer,
  compression: Compression,
  onError?: (error: unknown) => void,
  compressors = NODE_COMPRESSORS,
): Promise<EncodedBody> {
  if (compression === 'none') return { body: Buffer.from(raw) };
  const codec: Codec = compression === 'zstd' && compressors.zstd === undefined ? 'gzip' : compression;
  try {
    return { body: await compressors[codec]!(raw), encoding: codec };
  } catch (error) {
    onError?.(error);
    return { body: Buffer.from(raw) };
  }
}

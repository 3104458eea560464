import { promisify } from 'node:util';
import { constants, deflate, gzip, type ZlibOptions } from 'node:zlib';
import type { Compression } from './types.ts';

const gzipAsync = promisify(gzip) as (buffer: Buffer, options: ZlibOptions) => Promise<Buffer>;
const deflateAsync = promisify(deflate) as (buffer: Buffer, options: ZlibOptions) => Promise<Buffer>;

/**
 * Fastest level: on capture batches it costs about half the CPU of the default level 6 for
 * bodies about 7 % larger (measured on 512-event batches, 228 KB of JSON: 21.6 KB vs 20.2 KB).
 */
const ZLIB_OPTIONS: ZlibOptions = { level: constants.Z_BEST_SPEED };

export interface EncodedBody {
  body: Buffer;
  /** The `Content-Encoding` header, absent when the body is plain JSON. */
  encoding?: 'gzip' | 'deflate';
}

/**
 * Compresses on libuv's thread pool, off the event loop. `deflate` is the zlib-wrapped format
 * (RFC 1950) the server sniffs for. If compression fails the body goes out uncompressed.
 */
export async function encodeBody(json: string, compression: Compression, onError?: (error: unknown) => void): Promise<EncodedBody> {
  const raw = Buffer.from(json, 'utf8');
  if (compression === 'none') return { body: raw };
  try {
    if (compression === 'gzip') return { body: await gzipAsync(raw, ZLIB_OPTIONS), encoding: 'gzip' };
    return { body: await deflateAsync(raw, ZLIB_OPTIONS), encoding: 'deflate' };
  } catch (error) {
    onError?.(error);
    return { body: raw };
  }
}

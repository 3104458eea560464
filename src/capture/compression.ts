import { promisify } from 'node:util';
import { deflate, gzip } from 'node:zlib';
import type { Compression } from './types.ts';

const gzipAsync = promisify(gzip);
const deflateAsync = promisify(deflate);

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
    if (compression === 'gzip') return { body: await gzipAsync(raw), encoding: 'gzip' };
    return { body: await deflateAsync(raw), encoding: 'deflate' };
  } catch (error) {
    onError?.(error);
    return { body: raw };
  }
}

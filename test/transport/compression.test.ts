// Unit tests of request body compression: each encoding round-trips, with the settings the
// capture endpoint expects, and a failing or missing compressor never loses the body.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { constants, gunzipSync, gzipSync, inflateSync, inflateRawSync, zstdCompress, zstdDecompressSync } from 'node:zlib';
import { encodeBody } from '../../src/transport/compression.ts';

describe('compression', () => {
  const json = JSON.stringify({ batch: Array.from({ length: 50 }, (_, i) => ({ i, s: 'hello world' })) });
  test('zstd round-trips', async () => {
    const e = await encodeBody(Buffer.from(json), 'zstd');
    assert.equal(e.encoding, 'zstd');
    assert.deepEqual([...e.body.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    assert.equal(zstdDecompressSync(e.body).toString(), json);
    assert.ok(e.body.length < json.length);
  });
  test('zstd uses level 1, not the library default of 3', async () => {
    // Varied enough that the levels give different frames. Output is deterministic per level, but
    // the streamed (async) and one-shot (sync) APIs frame differently, so compare like with like.
    const varied = JSON.stringify({
      batch: Array.from({ length: 2000 }, (_, i) => ({ i, s: `event ${(i * 7919) % 1000}`, t: new Date(1.7e12 + i * 1013).toISOString() })),
    });
    const zstdAsync = promisify(zstdCompress);
    const level = (n: number): Promise<Buffer> => zstdAsync(Buffer.from(varied), { params: { [constants.ZSTD_c_compressionLevel]: n } });
    const e = await encodeBody(Buffer.from(varied), 'zstd');
    assert.ok(!(await level(1)).equals(await level(3)));
    assert.ok(e.body.equals(await level(1)), `${e.body.length} bytes`);
    assert.equal(zstdDecompressSync(e.body).toString(), varied);
  });
  test('gzip round-trips', async () => {
    const e = await encodeBody(Buffer.from(json), 'gzip');
    assert.equal(e.encoding, 'gzip');
    assert.equal(gunzipSync(e.body).toString(), json);
  });
  test('deflate is zlib-wrapped (RFC 1950), not raw', async () => {
    const e = await encodeBody(Buffer.from(json), 'deflate');
    assert.equal(e.encoding, 'deflate');
    assert.equal(e.body[0], 0x78);
    assert.equal(inflateSync(e.body).toString(), json);
    assert.throws(() => inflateRawSync(e.body));
  });
  test('none sends plain JSON without an encoding, in memory of its own (the input buffer is reused)', async () => {
    const raw = Buffer.from(json);
    const e = await encodeBody(raw, 'none');
    assert.equal(e.encoding, undefined);
    raw.fill(0);
    assert.equal(e.body.toString(), json);
  });
  test('a compressor that fails: reported, and the body goes out uncompressed, in memory of its own', async () => {
    const raw = Buffer.from(json);
    const errors: unknown[] = [];
    const broken = new Error('compressor broke');
    const e = await encodeBody(raw, 'zstd', (error) => errors.push(error), { zstd: () => Promise.reject(broken) });
    assert.deepEqual(errors, [broken]);
    assert.equal(e.encoding, undefined);
    raw.fill(0);
    assert.equal(e.body.toString(), json);
  });
  test('zstd without a zstd compressor (Node before 22.15) sends gzip', async () => {
    const e = await encodeBody(Buffer.from(json), 'zstd', undefined, { gzip: (raw) => Promise.resolve(gzipSync(raw)) });
    assert.equal(e.encoding, 'gzip');
    assert.equal(gunzipSync(e.body).toString(), json);
  });
});

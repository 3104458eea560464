import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyBuffers } from '../../src/capture/body-buffers.ts';

test('a buffer handed back is the one the next take returns, when it is large enough', () => {
  const buffers = new BodyBuffers();
  const first = buffers.take(100_000);
  assert.ok(first.length >= 100_000);
  buffers.give(first.subarray(0, 1234));
  const second = buffers.take(90_000);
  assert.equal(second.buffer, first.buffer, 'the same memory, reused');
  assert.equal(second.length, first.length, 'the whole buffer, not the view that was handed back');
});

test('a kept buffer too small for the next body is dropped for a larger one', () => {
  const buffers = new BodyBuffers();
  const small = buffers.take(70_000);
  buffers.give(small);
  const large = buffers.take(small.length + 1);
  assert.notEqual(large.buffer, small.buffer);
  assert.ok(large.length > small.length);
  buffers.give(large);
  assert.equal(buffers.take(10).buffer, large.buffer);
  assert.notEqual(buffers.take(10).buffer, small.buffer, 'the small one was not kept');
});

test('buffers in use at once are distinct, and at most two are kept', () => {
  const buffers = new BodyBuffers();
  const taken = [buffers.take(1000), buffers.take(1000), buffers.take(1000)];
  assert.equal(new Set(taken.map((b) => b.buffer)).size, 3);
  for (const b of taken) buffers.give(b);
  const again = [buffers.take(1000), buffers.take(1000), buffers.take(1000)];
  const reused = again.filter((b) => taken.some((t) => t.buffer === b.buffer));
  assert.equal(reused.length, 2);
});

test('a buffer handed back twice is kept once', () => {
  const buffers = new BodyBuffers();
  const b = buffers.take(1000);
  buffers.give(b);
  buffers.give(b);
  assert.equal(buffers.take(1000).buffer, b.buffer);
  assert.notEqual(buffers.take(1000).buffer, b.buffer);
});

test('buffers it did not hand out are never kept (a slice of Node’s shared pool would be overwritten)', () => {
  const buffers = new BodyBuffers();
  const foreign = Buffer.from('{"batch":[]}');
  const unpooled = Buffer.allocUnsafe(200_000);
  buffers.give(foreign);
  buffers.give(unpooled);
  const next = buffers.take(10);
  assert.notEqual(next.buffer, foreign.buffer);
  assert.notEqual(next.buffer, unpooled.buffer);
  next.fill(0x78);
  assert.equal(foreign.toString(), '{"batch":[]}');
});

test('a very large buffer is left to the garbage collector', () => {
  const buffers = new BodyBuffers();
  const huge = buffers.take(5 * 1024 * 1024);
  buffers.give(huge);
  assert.notEqual(buffers.take(10).buffer, huge.buffer);
});

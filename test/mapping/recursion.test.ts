import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecursionCollapser } from '../../src/mapping/recursion.ts';
import { parseFrameLine } from '../../src/mapping/stack-frames.ts';

/** Frames named by letters, innermost first, collapsed; returns the names left. */
function collapse(names: string): string {
  const collapser = new RecursionCollapser();
  for (const name of names) collapser.add(parseFrameLine(`    at ${name} (/srv/${name}.js:1:1)`, '/srv')!);
  return collapser
    .finish()
    .map((f) => f.function)
    .join('');
}

test('one copy of a repeated cycle is kept', () => {
  assert.equal(collapse('aaaaaaaa'), 'a');
  assert.equal(collapse('xaaaaam'), 'xam');
  assert.equal(collapse('abababab'), 'ab');
  assert.equal(collapse('abcabcabcz'), 'abcz');
  // No repeat, nothing changes.
  assert.equal(collapse('abcdef'), 'abcdef');
});

test('a stack that is nothing but a cycle reads the same wherever the runtime cut it', () => {
  const cuts = ['abcabcabcabc', 'bcabcabcabca', 'cabcabcabcab', 'abcabcabcab', 'bcabcabcab'];
  const results = new Set(cuts.map(collapse));
  assert.equal(results.size, 1, [...results].join(', '));
  assert.equal([...results][0]!.length, 3);
});

test('the frame that called into a recursion stays next to the call it made', () => {
  // Innermost first: x throws inside a recursion of a and b, which m called through a.
  assert.equal(collapse('xabababam'), 'xbam');
  // A leftover cut off at the end of the stack is dropped.
  assert.equal(collapse('xbababab'), 'xba');
});

test('surviving counts the frames left after leftovers go', () => {
  const collapser = new RecursionCollapser();
  for (const name of 'abababa') collapser.add(parseFrameLine(`    at ${name} (/srv/${name}.js:1:1)`, '/srv')!);
  assert.equal(collapser.surviving, collapser.finish().length);
});

// The check of a `$exception` a hook returns must refuse exactly what error tracking refuses: it is
// compared with the cymbal schema check (written apart from it) on sound properties and on
// generated breakages of them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exceptionPropertiesProblem } from '../../src/mapping/exception-shape.ts';
import { cymbalProblems } from '../support/cymbal-schema.ts';

function sound(): Record<string, unknown> {
  return {
    $exception_level: 'error',
    $exception_fingerprint: 'fp',
    $exception_list: [
      {
        type: 'TypeError',
        value: 'x',
        module: 'm',
        mechanism: { type: 'generic', handled: true, synthetic: false, exception_id: 0 },
        stacktrace: {
          type: 'raw',
          frames: [
            {
              platform: 'node:javascript',
              filename: 'a.js',
              abs_path: '/srv/a.js',
              function: 'f',
              module: 'a',
              lineno: 1,
              colno: 2,
              in_app: true,
            },
            {
              platform: 'node:javascript',
              filename: 'node:internal/x',
              function: '?',
              in_app: false,
              pre_context: ['a'],
              post_context: [],
              context_line: 'c',
            },
          ],
        },
      },
      { type: 'Error', value: 'cause', mechanism: { type: 'chained', source: 'cause', synthetic: false, exception_id: 1, parent_id: 0 } },
    ],
  };
}

/** Values that break a field of one type or another. */
const ODD_VALUES: unknown[] = [null, undefined, '', 'text', 0, -1, 1.5, 2 ** 32, true, [], ['a'], [1], {}, { type: 'raw' }];

/** Every path to a value in the properties, as keys. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, child]) => paths(child, [...prefix, key]))];
}

function withValue(properties: Record<string, unknown>, path: Array<string | number>, value: unknown): Record<string, unknown> {
  const copy = structuredClone(properties);
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

test('sound properties pass both checks', () => {
  assert.equal(exceptionPropertiesProblem(sound()), undefined);
  assert.deepEqual(cymbalProblems(sound()), []);
});

test('every field set to every odd value: the check refuses exactly what the cymbal schema refuses', () => {
  let refused = 0;
  for (const path of paths(sound())) {
    if (path.length === 0) continue;
    for (const value of ODD_VALUES) {
      const properties = withValue(sound(), path, value);
      const problems = cymbalProblems(properties);
      const problem = exceptionPropertiesProblem(properties);
      const what = `${path.join('.')} = ${JSON.stringify(value)}: schema says ${JSON.stringify(problems)}, check says ${problem}`;
      assert.equal(problem !== undefined, problems.length > 0, what);
      if (problem !== undefined) refused++;
    }
  }
  assert.ok(refused > 100, `${refused} breakages refused`);
});

test('the typed properties beside the list, an unknown platform and a duplicate chunk id are refused by both', () => {
  const cases: Array<Record<string, unknown>> = [
    { ...sound(), $exception_fingerprint: 42 },
    { ...sound(), $issue_name: ['a'] },
    { ...sound(), $issue_description: false },
    { ...sound(), $exception_handled: 'yes' },
    { ...sound(), $debug_images: 'none' },
    withValue(sound(), ['$exception_list', 0, 'stacktrace', 'frames', 0, 'platform'], 'nodejs'),
    withValue(
      withValue(sound(), ['$exception_list', 0, 'stacktrace', 'frames', 0, 'chunkId'], 'c'),
      ['$exception_list', 0, 'stacktrace', 'frames', 0, 'chunk_id'],
      'c',
    ),
    withValue(sound(), ['$exception_list', 0, 'stacktrace', 'frames', 0, 'chunk_id'], 7),
    withValue(sound(), ['$exception_list', 0, 'thread_id'], 2 ** 31),
    withValue(sound(), ['$exception_list'], []),
  ];
  for (const properties of cases) {
    assert.ok(cymbalProblems(properties).length > 0, JSON.stringify(properties));
    assert.notEqual(exceptionPropertiesProblem(properties), undefined, JSON.stringify(properties));
  }
  // A getter that throws is a problem, not an exception.
  const hostile = Object.defineProperty({}, '$exception_list', {
    get() {
      throw new Error('no');
    },
  });
  assert.equal(exceptionPropertiesProblem(hostile), 'the properties cannot be read');
});

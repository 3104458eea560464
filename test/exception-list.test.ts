import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  buildExceptionList,
  exceptionLevelFromSeverity,
  parseV8StackTrace,
  type StackFrame,
} from '../src/mapping/exception-list.ts';

function innermostThrower(): never {
  throw new Error('x');
}
function middleCaller(): void {
  innermostThrower();
}
function outerCaller(): void {
  middleCaller();
}
function realStack(): string {
  try {
    outerCaller();
  } catch (e) {
    return (e as Error).stack ?? '';
  }
  return '';
}

/** Parses one "    at ..." line and returns its single frame. */
function one(line: string): StackFrame {
  const frames = parseV8StackTrace(`Error: x\n${line}`);
  assert.equal(frames.length, 1, line);
  return frames[0] as StackFrame;
}

test('a real V8 stack: names, order and numeric positions', () => {
  const stack = realStack();
  const frames = parseV8StackTrace(stack);
  const names = frames.map((f) => f.function);
  for (const name of ['innermostThrower', 'middleCaller', 'outerCaller', 'realStack']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
  // Oldest call first, so the throwing function is last.
  const last = frames.at(-1) as StackFrame;
  assert.equal(last.function, 'innermostThrower');
  assert.ok(names.indexOf('outerCaller') < names.indexOf('middleCaller'));
  assert.ok(names.indexOf('middleCaller') < names.indexOf('innermostThrower'));

  const thisFile = fileURLToPath(import.meta.url);
  assert.equal(last.filename, thisFile);
  assert.equal(last.abs_path, thisFile);
  assert.equal(last.platform, 'node:javascript');
  assert.equal(last.in_app, true);
  for (const f of frames.filter((fr) => fr.filename === thisFile)) {
    assert.equal(typeof f.lineno, 'number');
    assert.equal(typeof f.colno, 'number');
    assert.ok((f.lineno ?? 0) > 0 && (f.colno ?? 0) > 0);
  }
  // The test runner's own frames are Node internals.
  assert.ok(frames.some((f) => f.filename?.startsWith('node:') && !f.in_app));
});

test('named frame with an absolute path', () => {
  assert.deepEqual(one('    at fn (/abs/path/file.js:10:15)'), {
    platform: 'node:javascript',
    filename: '/abs/path/file.js',
    abs_path: '/abs/path/file.js',
    function: 'fn',
    lineno: 10,
    colno: 15,
    in_app: true,
  });
});

test('anonymous frame without a function name', () => {
  assert.deepEqual(one('    at /abs/path/file.js:10:15'), {
    platform: 'node:javascript',
    filename: '/abs/path/file.js',
    abs_path: '/abs/path/file.js',
    function: '?',
    lineno: 10,
    colno: 15,
    in_app: true,
  });
});

test('async frame with a file:// URL', () => {
  const f = one('    at async fn (file:///abs/x.mjs:3:7)');
  assert.equal(f.function, 'fn');
  assert.equal(f.filename, '/abs/x.mjs');
  assert.equal(f.abs_path, '/abs/x.mjs');
  assert.equal(f.lineno, 3);
  assert.equal(f.colno, 7);
  assert.equal(f.in_app, true);

  const bare = one('    at async file:///abs/my%20dir/y.mjs:1:2');
  assert.equal(bare.function, '?');
  assert.equal(bare.filename, '/abs/my dir/y.mjs');
  assert.equal(one('    at f (file:///C:/dir/x.mjs:1:2)').filename, 'C:/dir/x.mjs');
});

test('constructor, Object.<anonymous> and aliased method frames', () => {
  const ctor = one('    at new Foo (/a.js:1:2)');
  assert.equal(ctor.function, 'new Foo');
  assert.equal(ctor.lineno, 1);
  assert.equal(ctor.colno, 2);
  assert.equal(one('    at Object.<anonymous> (/a.js:1:2)').function, 'Object.<anonymous>');
  assert.equal(one('    at Foo.method [as alias] (/a.js:4:5)').function, 'Foo.method [as alias]');
});

test('node: internals are not in app', () => {
  const f = one('    at fn (node:internal/modules/cjs/loader:1234:14)');
  assert.equal(f.function, 'fn');
  assert.equal(f.filename, 'node:internal/modules/cjs/loader');
  assert.equal(f.lineno, 1234);
  assert.equal(f.colno, 14);
  assert.equal(f.in_app, false);
  assert.equal(one('    at node:internal/main/run_main_module:28:49').in_app, false);
  assert.equal(one('    at Module._compile (internal/modules/cjs/loader.js:1:2)').in_app, false);
});

test('Promise.all (index N), native and <anonymous> locations have no file and are not in app', () => {
  assert.deepEqual(one('    at Promise.all (index 0)'), { platform: 'node:javascript', function: 'Promise.all', in_app: false });
  assert.deepEqual(one('    at async Promise.all (index 12)'), {
    platform: 'node:javascript',
    function: 'Promise.all',
    in_app: false,
  });
  assert.deepEqual(one('    at Array.map (native)'), { platform: 'node:javascript', function: 'Array.map', in_app: false });
  assert.deepEqual(one('    at Array.forEach (<anonymous>)'), {
    platform: 'node:javascript',
    function: 'Array.forEach',
    in_app: false,
  });
});

test('eval frames point at the code that called eval', () => {
  const f = one('    at eval (eval at <anonymous> (/a.js:1:1), <anonymous>:1:1)');
  assert.equal(f.function, 'eval');
  assert.equal(f.filename, '/a.js');
  assert.equal(f.lineno, 1);
  assert.equal(f.colno, 1);
  assert.equal(f.in_app, true);
  const nested = one('    at eval (eval at outer (eval at inner (/b.js:7:3), <anonymous>:2:2), <anonymous>:1:1)');
  assert.equal(nested.filename, '/b.js');
  assert.equal(nested.lineno, 7);
  const noFile = one('    at eval (eval at run (native), <anonymous>:4:5)');
  assert.equal(noFile.filename, '<anonymous>');
  assert.equal(noFile.lineno, 4);
});

test('Windows paths keep their drive letter', () => {
  const f = one('    at fn (C:\\dir\\file.js:1:2)');
  assert.equal(f.filename, 'C:\\dir\\file.js');
  assert.equal(f.lineno, 1);
  assert.equal(f.colno, 2);
  assert.equal(f.in_app, true);
  assert.equal(one('    at C:\\dir\\file.js:3:4').filename, 'C:\\dir\\file.js');
  assert.equal(one('    at fn (C:\\app\\node_modules\\lib\\i.js:1:2)').in_app, false);
});

test('paths with parentheses and spaces, line without column, CRLF', () => {
  const f = one('    at fn (/srv/proj (copy)/a b.js:5:6)');
  assert.equal(f.function, 'fn');
  assert.equal(f.filename, '/srv/proj (copy)/a b.js');
  const noCol = one('    at fn (/a.js:9)');
  assert.equal(noCol.lineno, 9);
  assert.equal(noCol.colno, undefined);
  assert.equal(parseV8StackTrace('Error: x\r\n    at fn (/a.js:1:2)\r\n    at g (/b.js:3:4)\r\n').length, 2);
});

test('node_modules frames are not in app', () => {
  assert.equal(one('    at handle (/srv/app/node_modules/express/lib/router/layer.js:95:5)').in_app, false);
  assert.equal(one('    at handle (/srv/app/src/routes.js:95:5)').in_app, true);
});

test('frames come oldest first and maxFrames keeps those nearest the throw', () => {
  const lines = Array.from({ length: 10 }, (_, i) => `    at f${i} (/a.js:${i + 1}:1)`);
  const stack = `Error: x\n${lines.join('\n')}`;
  assert.deepEqual(
    parseV8StackTrace(stack).map((f) => f.function),
    ['f9', 'f8', 'f7', 'f6', 'f5', 'f4', 'f3', 'f2', 'f1', 'f0'],
  );
  assert.deepEqual(
    parseV8StackTrace(stack, 3).map((f) => f.function),
    ['f2', 'f1', 'f0'],
  );
  assert.deepEqual(parseV8StackTrace(stack, 0), []);
  assert.equal(parseV8StackTrace(stack, NaN).length, 10);
});

test('header and message continuation lines are skipped', () => {
  const stack = 'TypeError: boom\nsecond line of the message\n  indented: more\n    at fn (/a.js:1:2)';
  const frames = parseV8StackTrace(stack);
  assert.deepEqual(
    frames.map((f) => f.function),
    ['fn'],
  );
});

test('garbage input gives no frames and never throws', () => {
  const inputs: unknown[] = [
    '',
    'no frames here',
    '    at ',
    '    at this is not a frame',
    'at',
    ')))(((',
    '    at fn (',
    '    at fn ()',
    '\n\n\n',
    '    at :::',
    undefined,
    null,
    42,
    {},
  ];
  for (const input of inputs) {
    assert.deepEqual(parseV8StackTrace(input as string), [], String(input));
  }
  // Garbage between real frames is skipped, the frames are kept.
  const mixed = 'Error: x\n    at a (/a.js:1:1)\n@@@ noise @@@\n    at nonsense here\n    at b (/b.js:2:2)';
  assert.deepEqual(
    parseV8StackTrace(mixed).map((f) => f.function),
    ['b', 'a'],
  );
});

test('a cause section ends the frames of the outer exception', () => {
  const inspected = [
    'Error: outer',
    '    at outer (/a.js:1:1) {',
    '  [cause]: Error: inner',
    '      at inner (/b.js:2:2)',
    '}',
  ].join('\n');
  assert.deepEqual(
    parseV8StackTrace(inspected).map((f) => [f.function, f.filename]),
    [['outer', '/a.js']],
  );
});

test('a 1 MB stack is capped: 100 frames, and only its first 64 KiB are read', () => {
  const line = '    at someFunction (/srv/app/src/some/deep/module/path/file.js:123:45)\n';
  const big = `Error: huge\n${line.repeat(Math.ceil(1_000_000 / line.length))}`;
  assert.ok(big.length >= 1_000_000);
  const frames = parseV8StackTrace(big);
  assert.equal(frames.length, 100);
  // Even with no frame cap only the first 64 KiB are read.
  const all = parseV8StackTrace(big, Infinity);
  assert.ok(all.length > 100 && all.length * line.length <= 64 * 1024 + line.length);
  for (const f of all) assert.equal(f.lineno, 123);

  // One enormous line, and whitespace-heavy lines, give no frames (and, read only in part, no pathological work).
  assert.deepEqual(parseV8StackTrace('x'.repeat(1_000_000)), []);
  assert.deepEqual(parseV8StackTrace(`    at x${' '.repeat(1_000_000)}y`), []);
  assert.deepEqual(parseV8StackTrace(`    at f (${'('.repeat(500_000)}${')'.repeat(500_000)})`), []);
  assert.equal(buildExceptionList({ stacktrace: big })[0]?.stacktrace?.frames.length, 100);
});

test('exceptionLevelFromSeverity covers every range', () => {
  const expected: Array<[number | undefined, string]> = [
    [undefined, 'error'],
    [0, 'error'],
    [-1, 'error'],
    [NaN, 'error'],
  ];
  for (let n = 1; n <= 4; n++) expected.push([n, 'debug']);
  for (let n = 5; n <= 8; n++) expected.push([n, 'debug']);
  for (let n = 9; n <= 12; n++) expected.push([n, 'info']);
  for (let n = 13; n <= 16; n++) expected.push([n, 'warning']);
  for (let n = 17; n <= 20; n++) expected.push([n, 'error']);
  for (let n = 21; n <= 24; n++) expected.push([n, 'fatal']);
  expected.push([25, 'fatal']);
  for (const [severity, level] of expected) {
    assert.equal(exceptionLevelFromSeverity(severity), level, String(severity));
  }
});

test('buildExceptionList with type, message and a real stack', () => {
  const stack = realStack();
  const [entry, ...rest] = buildExceptionList({ type: 'Error', message: 'x', stacktrace: stack });
  assert.equal(rest.length, 0);
  assert.ok(entry);
  assert.equal(entry.type, 'Error');
  assert.equal(entry.value, 'x');
  assert.deepEqual(entry.mechanism, { type: 'generic', handled: true, synthetic: false });
  assert.equal(entry.stacktrace?.type, 'raw');
  assert.deepEqual(entry.stacktrace?.frames, parseV8StackTrace(stack));
  assert.equal(entry.stacktrace?.frames.at(-1)?.function, 'innermostThrower');
  assert.doesNotThrow(() => JSON.stringify(entry));
});

test('buildExceptionList without a stack', () => {
  assert.deepEqual(buildExceptionList({ type: 'TimeoutError', message: 'took too long' }, false), [
    { type: 'TimeoutError', value: 'took too long', mechanism: { type: 'generic', handled: false, synthetic: false } },
  ]);
  assert.deepEqual(buildExceptionList({}), [
    { type: 'Error', value: '', mechanism: { type: 'generic', handled: true, synthetic: false } },
  ]);
  // A stack with no parseable frame adds no stacktrace.
  const [entry] = buildExceptionList({ type: 'E', message: 'm', stacktrace: 'E: m' });
  assert.equal(entry?.stacktrace, undefined);
  assert.ok(entry && !('stacktrace' in entry));
});

test('buildExceptionList with only a stacktrace derives type and message', () => {
  const [entry] = buildExceptionList({ stacktrace: 'TypeError: boom\n    at fn (/a.js:1:2)' });
  assert.equal(entry?.type, 'TypeError');
  assert.equal(entry?.value, 'boom');
  assert.equal(entry?.stacktrace?.frames.length, 1);

  const multi = buildExceptionList({ stacktrace: 'RangeError: first\nsecond\n    at fn (/a.js:1:2)' })[0];
  assert.equal(multi?.value, 'first\nsecond');

  const coded = buildExceptionList({
    stacktrace: 'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string\n    at f (/a.js:1:1)',
  })[0];
  assert.equal(coded?.type, 'TypeError');
  assert.equal(coded?.value, 'The "path" argument must be of type string');

  const bare = buildExceptionList({ stacktrace: 'Error\n    at fn (/a.js:1:2)' })[0];
  assert.equal(bare?.type, 'Error');
  assert.equal(bare?.value, '');

  const real = buildExceptionList({ stacktrace: realStack() })[0];
  assert.equal(real?.type, 'Error');
  assert.equal(real?.value, 'x');

  // Given attributes win over the header; missing ones are filled from it.
  assert.equal(buildExceptionList({ type: 'ERR_CODE', stacktrace: 'TypeError: boom' })[0]?.value, 'boom');
  assert.equal(buildExceptionList({ message: 'given', stacktrace: 'TypeError: boom' })[0]?.type, 'TypeError');
  assert.equal(buildExceptionList({ message: 'given', stacktrace: 'TypeError: boom' })[0]?.value, 'given');
  // A header that is not an error name is not used.
  const prose = buildExceptionList({ stacktrace: 'something bad happened: really\n    at f (/a.js:1:1)' })[0];
  assert.equal(prose?.type, 'Error');
  assert.equal(prose?.value, '');
});

test('buildExceptionList never throws on odd input', () => {
  for (const input of [null, undefined, 42, 'str', { type: 5, message: {}, stacktrace: 7 }]) {
    const list = buildExceptionList(input as never);
    assert.equal(list.length, 1);
    assert.equal(typeof list[0]?.type, 'string');
    assert.equal(typeof list[0]?.value, 'string');
  }
  assert.equal(buildExceptionList({ type: 5 as unknown as string })[0]?.type, '5');
});

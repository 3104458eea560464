import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderFrames, parseFrameLine, relativeFilename, type ParsedFrame } from '../../src/mapping/stack-frames.ts';

const CWD = '/srv/app';

/** One "    at ..." line as a frame, filenames relative to /srv/app. */
function one(line: string, cwd: string | undefined = CWD): ParsedFrame {
  const frame = parseFrameLine(line, cwd);
  assert.ok(frame, `a frame: ${line}`);
  return frame;
}

test('an app frame: filename relative to the working directory, abs_path absolute, in app', () => {
  assert.deepEqual(one('    at handle (/srv/app/src/routes.js:10:15)'), {
    platform: 'node:javascript',
    filename: 'src/routes.js',
    abs_path: '/srv/app/src/routes.js',
    function: 'handle',
    lineno: 10,
    colno: 15,
    in_app: true,
  });
  // Outside the working directory the relative path climbs out of it, as posthog-node's does.
  assert.equal(one('    at f (/opt/lib/x.js:1:2)').filename, '../../opt/lib/x.js');
  // Without a working directory paths stay absolute.
  assert.equal(parseFrameLine('    at f (/srv/app/a.js:1:2)', undefined)?.filename, '/srv/app/a.js');
});

test('the same crash under two release directories gets the same filename (no issue per host or release)', () => {
  const a = parseFrameLine('    at charge (/releases/v41/src/billing.js:88:9)', '/releases/v41');
  const b = parseFrameLine('    at charge (/releases/v42/src/billing.js:88:9)', '/releases/v42');
  assert.equal(a?.filename, 'src/billing.js');
  assert.equal(b?.filename, a?.filename);
  assert.notEqual(a?.abs_path, b?.abs_path);
});

test('anonymous frame without a function name: function "?"', () => {
  const f = one('    at /srv/app/a.js:10:15');
  assert.equal(f.function, '?');
  assert.equal(f.filename, 'a.js');
  assert.equal(f.lineno, 10);
});

test('async frames and file:// URLs (decoded, Windows drive kept)', () => {
  const f = one('    at async fn (file:///srv/app/x.mjs:3:7)');
  assert.equal(f.function, 'fn');
  assert.equal(f.filename, 'x.mjs');
  assert.equal(f.abs_path, '/srv/app/x.mjs');
  assert.equal(f.in_app, true);
  assert.equal(one('    at async file:///srv/app/my%20dir/y.mjs:1:2').abs_path, '/srv/app/my dir/y.mjs');
  assert.equal(one('    at f (file:///C:/dir/x.mjs:1:2)').filename, 'C:/dir/x.mjs');
  // `async (file)` alone is a function named async; `async (name) (file)` an await continuation.
  assert.equal(one('    at async (/srv/app/h.ts:91:27)').function, 'async');
  assert.equal(one('    at async (work) (/srv/app/h.ts:91:27)').function, '(work)');
});

test('function names as posthog-node gives them: constructors, class methods, Type.<anonymous>, .Module', () => {
  assert.equal(one('    at new Foo (/srv/app/a.js:1:2)').function, 'new Foo');
  assert.equal(one('    at Repo.load (/srv/app/a.js:1:2)').function, 'Repo.load');
  assert.equal(one('    at get size (/srv/app/a.js:1:2)').function, 'get size');
  assert.equal(one('    at #secret (/srv/app/a.js:1:2)').function, '#secret');
  assert.equal(one('    at Foo.method [as alias] (/srv/app/a.js:4:5)').function, 'Foo.method [as alias]');
  assert.equal(one('    at Object.<anonymous> (/srv/app/a.js:1:2)').function, 'Object.?');
  assert.equal(one('    at Foo.Module.bar (/srv/app/a.js:1:2)').function, 'Module.bar');
  assert.equal(one('    at Module._compile (node:internal/modules/cjs/loader:1554:14)').function, 'Module._compile');
});

test('V8 built-ins get the filename posthog-node gives them and are not in app', () => {
  assert.deepEqual(one('    at JSON.parse (<anonymous>)'), {
    platform: 'node:javascript',
    filename: '<anonymous>',
    function: 'JSON.parse',
    in_app: false,
  });
  assert.deepEqual(one('    at Array.map (<anonymous>)'), {
    platform: 'node:javascript',
    filename: '<anonymous>',
    function: 'Array.map',
    in_app: false,
  });
  assert.deepEqual(one('    at new Promise (<anonymous>)'), {
    platform: 'node:javascript',
    filename: '<anonymous>',
    function: 'new Promise',
    in_app: false,
  });
  assert.deepEqual(one('    at async Promise.all (index 0)'), {
    platform: 'node:javascript',
    filename: 'node:internal/promise',
    function: 'Promise.all',
    in_app: false,
  });
  assert.equal(one('    at async Promise.allSettled (index 3)').filename, 'node:internal/promise');
  assert.equal(one('    at <anonymous>').filename, '<anonymous>');
  assert.equal(one('    at f (unknown location)').filename, 'unknown location');
  // A (native) frame takes the filename of the frame that threw, once the frames are ordered.
  const native = one('    at Array.forEach (native)');
  assert.equal(native.filename, undefined);
  assert.equal(native.in_app, false);
});

test('eval and new Function frames: the origin text is the filename, positions within the evaluated code', () => {
  const f = one('    at eval (eval at <anonymous> (file:///srv/app/a.js:1:1), <anonymous>:1:25)');
  assert.equal(f.function, 'eval');
  assert.equal(f.filename, 'eval at <anonymous> (file:///srv/app/a.js:1:1), <anonymous>');
  assert.equal(f.abs_path, undefined);
  assert.equal(f.lineno, 1);
  assert.equal(f.colno, 25);
  assert.equal(f.in_app, false);
  const nested = one('    at eval (eval at outer (eval at inner (/b.js:7:3), <anonymous>:2:2), <anonymous>:1:1)');
  assert.equal(nested.filename, 'eval at outer (eval at inner (/b.js:7:3), <anonymous>:2:2), <anonymous>');
  assert.equal(one('    at anonymous (<anonymous>:3:12)').filename, '<anonymous>');
});

test('node: internals, internal/ and node_modules are not in app; relative names are kept', () => {
  const f = one('    at fn (node:internal/modules/cjs/loader:1234:14)');
  assert.equal(f.filename, 'node:internal/modules/cjs/loader');
  assert.equal(f.lineno, 1234);
  assert.equal(f.in_app, false);
  assert.equal(one('    at node:internal/main/run_main_module:28:49').in_app, false);
  assert.equal(one('    at Module._compile (internal/modules/cjs/loader.js:1:2)').in_app, false);
  const dep = one('    at handle (/srv/app/node_modules/express/lib/router/layer.js:95:5)');
  assert.equal(dep.in_app, false);
  assert.equal(dep.filename, 'node_modules/express/lib/router/layer.js');
  assert.equal(one('    at fn (C:\\app\\node_modules\\lib\\i.js:1:2)').in_app, false);
  assert.equal(one('    at fn (C:\\dir\\file.js:1:2)').in_app, true);
});

test('line and column are positive 32-bit integers or absent', () => {
  const noCol = one('    at fn (/srv/app/a.js:9)');
  assert.equal(noCol.lineno, 9);
  assert.equal(noCol.colno, undefined);
  const huge = one('    at fn (/srv/app/a.js:99999999999:4294967296)');
  assert.equal(huge.lineno, undefined);
  assert.equal(huge.colno, undefined);
  const zero = one('    at fn (/srv/app/a.js:0:0)');
  assert.equal(zero.lineno, undefined);
  assert.equal(one('    at fn (/srv/app/a.js:4294967295:1)').lineno, 4294967295);
});

test('paths with parentheses and spaces; util.inspect separators after the location', () => {
  const f = one('    at fn (/srv/app/proj (copy)/a b.js:5:6)');
  assert.equal(f.function, 'fn');
  assert.equal(f.abs_path, '/srv/app/proj (copy)/a b.js');
  assert.equal(one('    at fn (/srv/app/a.js:5:6) {').colno, 6);
  assert.equal(one('    at fn (/srv/app/a.js:5:6),').colno, 6);
});

test('lines that are no frames give none', () => {
  for (const line of [
    '',
    'Error: x',
    '    at ',
    '    at this is not a frame',
    'at',
    '    at fn (',
    '    at fn ()',
    '    at :::',
    'code: 1',
  ]) {
    assert.equal(parseFrameLine(line, CWD), undefined, line);
  }
});

test('orderFrames: oldest call first, nearest the throw kept, (native) takes the crash site filename', () => {
  const printed = ['    at a (/srv/app/a.js:1:1)', '    at Array.forEach (native)', '    at b (/srv/app/b.js:2:2)'].map((line) =>
    one(line),
  );
  const frames = orderFrames(printed, 50);
  assert.deepEqual(
    frames.map((f) => [f.function, f.filename]),
    [
      ['b', 'b.js'],
      ['Array.forEach', 'a.js'],
      ['a', 'a.js'],
    ],
  );
  assert.deepEqual(
    orderFrames(printed, 2).map((f) => f.function),
    ['Array.forEach', 'a'],
  );
  // With no file at the crash site either, a fixed name stands in.
  assert.equal(orderFrames([one('    at x (native)')], 50)[0]?.filename, 'native');
});

test('relativeFilename leaves node:, data: and relative names alone', () => {
  assert.equal(relativeFilename('node:fs', CWD), 'node:fs');
  assert.equal(relativeFilename('data:text/javascript,1', CWD), 'data:text/javascript,1');
  assert.equal(relativeFilename('lib/x.js', CWD), 'lib/x.js');
  assert.equal(relativeFilename('/srv/app/lib/x.js', CWD), 'lib/x.js');
});

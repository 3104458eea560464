import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildExceptionList,
  exceptionLevelFromSeverity,
  exceptionLevelOf,
  MAX_EXCEPTIONS,
  parseV8StackTrace,
  type PostHogException,
  type StackFrame,
} from '../../src/mapping/exception-list.ts';
import { cymbalProblems } from '../support/cymbal-schema.ts';
import { linkedErrors, printedTexts, realisticErrors } from '../support/realistic-errors.ts';

const THIS_FILE = fileURLToPath(import.meta.url);
/** The repository root: test files are at test/mapping/. */
const ROOT = dirname(dirname(dirname(THIS_FILE)));

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

function assertParses(list: PostHogException[], what: string): void {
  assert.deepEqual(cymbalProblems({ $exception_list: JSON.parse(JSON.stringify(list)) }), [], what);
}

const functions = (frames: readonly StackFrame[] | undefined): string[] => (frames ?? []).map((f) => f.function);

test('a real V8 stack: names, order, positions; filenames relative to the working directory', () => {
  const frames = parseV8StackTrace(realStack(), undefined, { cwd: ROOT });
  const names = functions(frames);
  for (const name of ['innermostThrower', 'middleCaller', 'outerCaller', 'realStack'])
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  // Oldest call first, so the throwing function is last.
  const last = frames.at(-1) as StackFrame;
  assert.equal(last.function, 'innermostThrower');
  assert.ok(names.indexOf('outerCaller') < names.indexOf('middleCaller'));
  assert.equal(last.filename, 'test/mapping/exception-list.test.ts');
  assert.equal(last.abs_path, THIS_FILE);
  assert.equal(last.platform, 'node:javascript');
  assert.equal(last.in_app, true);
  assert.ok((last.lineno ?? 0) > 0 && (last.colno ?? 0) > 0);
  // The test runner's own frames are Node internals.
  assert.ok(frames.some((f) => f.filename.startsWith('node:') && !f.in_app));
  // By default the process's working directory is the base.
  assert.equal(parseV8StackTrace(realStack()).at(-1)?.filename, THIS_FILE.slice(process.cwd().length + 1));
});

test('a corpus of real errors, as err.stack, util.inspect and pino print them: every list parses in error tracking', async () => {
  const corpus = await realisticErrors();
  for (const { name, error } of corpus) {
    for (const [how, text] of Object.entries(printedTexts(error))) {
      const list = buildExceptionList({ type: error.name, message: error.message, stacktrace: text }, true, { cwd: ROOT });
      const what = `${name} (${how})`;
      assert.ok(list.length >= 1, what);
      assertParses(list, what);
      assert.equal(list[0]?.type, error.name, what);
      for (const entry of list)
        for (const frame of entry.stacktrace?.frames ?? []) assert.ok(frame.filename !== '' && frame.function !== '', what);
    }
  }
});

test('each exception of a chain keeps its own frames: the same as its own err.stack gives, whichever tool printed the chain', async () => {
  const corpus = await realisticErrors();
  for (const { name, error } of corpus) {
    const expected = linkedErrors(error);
    const texts = printedTexts(error);
    // pino prints causes but not an AggregateError's errors.
    const checked: Array<[string, string, Error[]]> = [
      ['inspect', texts.inspect, expected],
      ['inspect in colour', texts.inspectColours, expected],
      ['pino', texts.pino, expected.filter((e, i) => i === 0 || !(expected[0] instanceof AggregateError))],
    ];
    for (const [how, text, errors] of checked) {
      // A string cause is an entry of its own, with no error behind it: compared elsewhere.
      const list = buildExceptionList({ stacktrace: text }, true, { cwd: ROOT }).filter((e) => !e.mechanism.synthetic);
      const what = `${name} (${how})`;
      if (how === 'pino' && error instanceof AggregateError) {
        assert.equal(list.length, 1 + (error.cause instanceof Error ? 1 : 0), what);
        continue;
      }
      assert.equal(list.length, errors.length, `${what}: ${JSON.stringify(list.map((e) => e.type))}`);
      errors.forEach((e, i) => {
        const entry = list[i]!;
        assert.equal(entry.type, e.name, what);
        assert.equal(entry.value, e.message, what);
        assert.deepEqual(
          entry.stacktrace?.frames ?? [],
          parseV8StackTrace(e.stack ?? '', undefined, { cwd: ROOT }),
          `${what}: frames of entry ${i}`,
        );
      });
    }
  }
});

test('causes become linked entries, outer first and root cause last, as posthog-node links them', async () => {
  const error = (await realisticErrors()).find((e) => e.name === 'causes')!.error;
  for (const text of [printedTexts(error).inspect, printedTexts(error).pino]) {
    const list = buildExceptionList({ type: 'TypeError', message: 'checkout failed', stacktrace: text }, false, { cwd: ROOT });
    assert.deepEqual(
      list.map((e) => [e.type, e.value, e.mechanism]),
      [
        ['TypeError', 'checkout failed', { type: 'generic', handled: false, synthetic: false, exception_id: 0 }],
        ['Error', 'could not read the order', { type: 'chained', source: 'cause', synthetic: false, exception_id: 1, parent_id: 0 }],
        ['SyntaxError', list[2]?.value, { type: 'chained', source: 'cause', synthetic: false, exception_id: 2, parent_id: 1 }],
      ],
    );
    assert.match(list[2]!.value, /JSON/);
    // The root cause's crash site is JSON.parse, a built-in; its caller is the class's static method.
    assert.deepEqual(functions(list[2]!.stacktrace?.frames).slice(-2), ['OrderRepository.parse', 'JSON.parse']);
    assert.ok(!functions(list[0]!.stacktrace?.frames).includes('JSON.parse'), 'no cause frame spliced into its parent');
  }
});

test('cause headers in any case: util.inspect [cause], pino "caused by", Java-style "Caused by"', () => {
  for (const header of ['caused by:', 'Caused by:', 'CAUSED BY:']) {
    const list = buildExceptionList(
      { stacktrace: `Error: outer\n    at outer (/srv/a.js:1:1)\n${header} Error: inner\n    at inner (/srv/b.js:2:2)` },
      true,
      { cwd: '/srv' },
    );
    assert.deepEqual(
      list.map((e) => [e.value, functions(e.stacktrace?.frames)]),
      [
        ['outer', ['outer']],
        ['inner', ['inner']],
      ],
      header,
    );
  }
  const java = buildExceptionList(
    {
      stacktrace:
        'java.io.IOException: boom\n\tat A.b (/srv/A.java:1)\nCaused by: java.net.SocketException: reset\n\tat C.d (/srv/C.java:2)',
    },
    true,
    { cwd: '/srv' },
  );
  assert.deepEqual(
    java.map((e) => e.type),
    ['java.io.IOException', 'java.net.SocketException'],
  );
});

test('util.inspect: frames it left out of a cause ("... N lines matching cause stack trace ...") are restored from the cause', () => {
  const text = [
    'Error: outer',
    '    at outer (/srv/a.js:1:1)',
    '    at shared1 (/srv/s.js:1:1)',
    '    ... 2 lines matching cause stack trace ...',
    '    at shared4 (/srv/s.js:4:4) {',
    '  [cause]: Error: inner',
    '      at inner (/srv/b.js:2:2)',
    '      at shared1 (/srv/s.js:1:1)',
    '      at shared2 (/srv/s.js:2:2)',
    '      at shared3 (/srv/s.js:3:3)',
    '      at shared4 (/srv/s.js:4:4)',
    '}',
  ].join('\n');
  const list = buildExceptionList({ stacktrace: text }, true, { cwd: '/srv' });
  assert.deepEqual(functions(list[0]!.stacktrace?.frames), ['shared4', 'shared3', 'shared2', 'shared1', 'outer']);
  assert.deepEqual(functions(list[1]!.stacktrace?.frames), ['shared4', 'shared3', 'shared2', 'shared1', 'inner']);
});

test('AggregateError: its errors become member entries after its cause, each member with its own causes', async () => {
  const error = (await realisticErrors()).find((e) => e.name === 'AggregateError with a cause and members with causes')!.error;
  const list = buildExceptionList({ stacktrace: printedTexts(error).inspect }, true, { cwd: ROOT });
  assert.deepEqual(
    list.map((e) => [
      e.type,
      e.value,
      e.mechanism.type,
      'source' in e.mechanism ? e.mechanism.source : undefined,
      e.mechanism.exception_id,
      'parent_id' in e.mechanism ? e.mechanism.parent_id : undefined,
    ]),
    [
      ['AggregateError', 'batch failed', 'generic', undefined, 0, undefined],
      ['Error', 'batch root', 'chained', 'cause', 1, 0],
      ['Error', 'member a', 'chained', 'member', 2, 0],
      ['Error', 'a root', 'chained', 'cause', 3, 2],
      ['TypeError', 'member b', 'chained', 'member', 4, 0],
    ],
  );
  // Promise.any's AggregateError has no frames of its own: util.inspect prints it as [AggregateError: …].
  const any = (await realisticErrors()).find((e) => e.name === 'AggregateError from Promise.any')!.error;
  const anyList = buildExceptionList({ stacktrace: printedTexts(any).inspect }, true, { cwd: ROOT });
  assert.deepEqual(
    anyList.map((e) => [e.type, e.value]),
    [
      ['AggregateError', 'All promises were rejected'],
      ['Error', 'first'],
      ['RangeError', 'second'],
    ],
  );
  assert.ok(functions(anyList[1]!.stacktrace?.frames).includes('failsLater'));
});

test('a cause that is a string is a synthetic entry; other values are no exceptions', () => {
  const list = buildExceptionList({ stacktrace: printedTexts(new Error('wrapped', { cause: 'upstream said no' })).inspect });
  assert.deepEqual(
    list.map((e) => [e.type, e.value, e.mechanism.synthetic]),
    [
      ['Error', 'wrapped', false],
      ['Error', 'upstream said no', true],
    ],
  );
  for (const cause of [{ code: 1 }, 42, [1, 2], null, undefined, true, () => 1, Symbol('s'), new Map()]) {
    assert.equal(buildExceptionList({ stacktrace: printedTexts(new Error('x', { cause })).inspect }).length, 1, String(cause));
  }
});

test('a message that spans lines, and a "caused by" inside a message, stay in the message', () => {
  const [entry] = buildExceptionList({ stacktrace: 'RangeError: first\nsecond\n    at fn (/a.js:1:2)' });
  assert.equal(entry?.value, 'first\nsecond');
  const inMessage = buildExceptionList({ stacktrace: 'Error: request failed\ncaused by: timeout\n    at fn (/a.js:1:2)' });
  assert.equal(inMessage.length, 1);
  assert.equal(inMessage[0]?.value, 'request failed\ncaused by: timeout');
});

test('frames: at most 50 per exception, those nearest the throw; at most 50 exceptions', () => {
  const lines = Array.from({ length: 120 }, (_, i) => `    at f${i} (/a.js:${i + 1}:1)`);
  const stack = `Error: x\n${lines.join('\n')}`;
  const frames = buildExceptionList({ stacktrace: stack })[0]?.stacktrace?.frames ?? [];
  assert.equal(frames.length, 50);
  assert.equal(frames.at(-1)?.function, 'f0');
  assert.equal(frames[0]?.function, 'f49');
  assert.deepEqual(functions(parseV8StackTrace(stack, 3)), ['f2', 'f1', 'f0']);
  assert.deepEqual(parseV8StackTrace(stack, 0), []);

  let chain = 'Error: e0\n    at f (/a.js:1:1)';
  for (let i = 1; i < 80; i++) chain += `\ncaused by: Error: e${i}\n    at f (/a.js:1:1)`;
  const list = buildExceptionList({ stacktrace: chain });
  assert.equal(list.length, MAX_EXCEPTIONS);
  assert.equal(list.at(-1)?.value, 'e49');
  assertParses(list, 'a long chain');
});

test('a 1 MB stack is read in part and never takes pathological time; odd lines give no frames', () => {
  const lines = Array.from(
    { length: 15_000 },
    (_, i) => `    at someFunction${i} (/srv/app/src/some/deep/module/path/file.js:${i + 1}:45)`,
  );
  const big = `Error: huge\n${lines.join('\n')}`;
  assert.ok(big.length > 1_000_000);
  assert.equal(buildExceptionList({ stacktrace: big })[0]?.stacktrace?.frames.length, 50);
  // The same line repeated is one recursion: one frame.
  const same = `Error: huge\n${lines[0]!.concat('\n').repeat(15_000)}`;
  assert.equal(buildExceptionList({ stacktrace: same })[0]?.stacktrace?.frames.length, 1);
  assert.deepEqual(parseV8StackTrace('x'.repeat(1_000_000)), []);
  assert.deepEqual(parseV8StackTrace(`    at x${' '.repeat(1_000_000)}y`), []);
  assert.deepEqual(parseV8StackTrace(`    at f (${'('.repeat(500_000)}${')'.repeat(500_000)})`), []);
  for (const input of ['', 'no frames here', '    at ', ')))(((', '\n\n\n', undefined, null, 42, {}]) {
    assert.deepEqual(parseV8StackTrace(input as string), [], String(input));
  }
  // Noise between frames is skipped, the frames are kept.
  assert.deepEqual(
    functions(parseV8StackTrace('Error: x\n    at a (/a.js:1:1)\n@@@ noise @@@\n    at nonsense here\n    at b (/b.js:2:2)')),
    ['b', 'a'],
  );
  assert.equal(parseV8StackTrace('Error: x\r\n    at fn (/a.js:1:2)\r\n    at g (/b.js:3:4)\r\n').length, 2);
});

test('an error code OpenTelemetry put in place of the name gives way to the name in the stack, as posthog-node reports it', () => {
  const typeOf = (type: string, message: string, stacktrace: string): string | undefined =>
    buildExceptionList({ type, message, stacktrace })[0]?.type;
  const fs = "Error: ENOENT: no such file or directory, open '/x'\n    at open (node:fs:1:1)";
  assert.equal(typeOf('ENOENT', "ENOENT: no such file or directory, open '/x'", fs), 'Error');
  assert.equal(
    typeOf('ERR_OUT_OF_RANGE', 'out of range', 'RangeError [ERR_OUT_OF_RANGE]: out of range\n    at f (/a.js:1:1)'),
    'RangeError',
  );
  // A type that is no code, or a stack of another error, is kept.
  assert.equal(typeOf('PaymentDeclined', 'card declined', 'Error: card declined\n    at f (/a.js:1:1)'), 'PaymentDeclined');
  assert.equal(typeOf('ENOENT', 'another message', fs), 'ENOENT');
  assert.equal(typeOf('ENOENT', "ENOENT: no such file or directory, open '/x'", '    at f (/a.js:1:1)'), 'ENOENT');
});

test('a huge message or type is cut where error tracking cuts it, so the $exception is not too large to send', () => {
  const [entry] = buildExceptionList({ type: 'T'.repeat(1000), message: 'm'.repeat(3_000_000) });
  assert.equal(entry?.value, `${'m'.repeat(9_997)}...`);
  assert.equal(entry?.type, `${'T'.repeat(252)}...`);
  // Never in the middle of a surrogate pair.
  const emoji = buildExceptionList({ message: '💥'.repeat(6_000) })[0]!.value;
  assert.ok(emoji.length <= 10_000 && emoji.endsWith('...'));
  assert.ok((emoji as unknown as { isWellFormed(): boolean }).isWellFormed());
  // Headers read from a stack are cut the same way; short ones are kept whole.
  assert.equal(buildExceptionList({ stacktrace: `Error: ${'h'.repeat(20_000)}\n    at f (/a.js:1:1)` })[0]?.value.length, 10_000);
  assert.equal(buildExceptionList({ type: 'T'.repeat(255), message: 'm'.repeat(10_000) })[0]?.value.length, 10_000);
  assert.equal(buildExceptionList({ type: 'T'.repeat(255) })[0]?.type.length, 255);
});

test('exceptionLevelFromSeverity covers every range', () => {
  const expected: Array<[number | undefined, string]> = [
    [undefined, 'error'],
    [0, 'error'],
    [-1, 'error'],
    [NaN, 'error'],
  ];
  for (let n = 1; n <= 8; n++) expected.push([n, 'debug']);
  for (let n = 9; n <= 12; n++) expected.push([n, 'info']);
  for (let n = 13; n <= 16; n++) expected.push([n, 'warning']);
  for (let n = 17; n <= 20; n++) expected.push([n, 'error']);
  for (let n = 21; n <= 25; n++) expected.push([n, 'fatal']);
  for (const [severity, level] of expected) assert.equal(exceptionLevelFromSeverity(severity), level, String(severity));
});

test('buildExceptionList with type, message and a real stack', () => {
  const stack = realStack();
  const [entry, ...rest] = buildExceptionList({ type: 'Error', message: 'x', stacktrace: stack }, true, { cwd: ROOT });
  assert.equal(rest.length, 0);
  assert.ok(entry);
  assert.equal(entry.type, 'Error');
  assert.equal(entry.value, 'x');
  assert.deepEqual(entry.mechanism, { type: 'generic', handled: true, synthetic: false, exception_id: 0 });
  assert.equal(entry.stacktrace?.type, 'raw');
  assert.deepEqual(entry.stacktrace?.frames, parseV8StackTrace(stack, undefined, { cwd: ROOT }));
  assert.equal(entry.stacktrace?.frames.at(-1)?.function, 'innermostThrower');
});

test('buildExceptionList without a stack, or with one that has no frame', () => {
  assert.deepEqual(buildExceptionList({ type: 'TimeoutError', message: 'took too long' }, false), [
    { type: 'TimeoutError', value: 'took too long', mechanism: { type: 'generic', handled: false, synthetic: false, exception_id: 0 } },
  ]);
  assert.deepEqual(buildExceptionList({}), [
    { type: 'Error', value: '', mechanism: { type: 'generic', handled: true, synthetic: false, exception_id: 0 } },
  ]);
  const [entry] = buildExceptionList({ type: 'E', message: 'm', stacktrace: 'E: m' });
  assert.ok(entry && !('stacktrace' in entry));
});

test('buildExceptionList with only a stacktrace derives type and message from its header', () => {
  const [entry] = buildExceptionList({ stacktrace: 'TypeError: boom\n    at fn (/a.js:1:2)' });
  assert.equal(entry?.type, 'TypeError');
  assert.equal(entry?.value, 'boom');
  const coded = buildExceptionList({
    stacktrace: 'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string\n    at f (/a.js:1:1)',
  })[0];
  assert.equal(coded?.type, 'TypeError');
  assert.equal(coded?.value, 'The "path" argument must be of type string');
  const bare = buildExceptionList({ stacktrace: 'Error\n    at fn (/a.js:1:2)' })[0];
  assert.deepEqual([bare?.type, bare?.value], ['Error', '']);
  // Given attributes win over the header; missing ones are filled from it.
  assert.equal(buildExceptionList({ type: 'ERR_CODE', stacktrace: 'TypeError: boom' })[0]?.value, 'boom');
  assert.equal(buildExceptionList({ message: 'given', stacktrace: 'TypeError: boom' })[0]?.type, 'TypeError');
  assert.equal(buildExceptionList({ message: 'given', stacktrace: 'TypeError: boom' })[0]?.value, 'given');
  // A header that is not an error name is not used.
  const prose = buildExceptionList({ stacktrace: 'something bad happened: really\n    at f (/a.js:1:1)' })[0];
  assert.deepEqual([prose?.type, prose?.value], ['Error', '']);
});

test('buildExceptionList never throws on odd input', () => {
  for (const input of [null, undefined, 42, 'str', { type: 5, message: {}, stacktrace: 7 }]) {
    const list = buildExceptionList(input as never);
    assert.equal(list.length, 1);
    assertParses(list, String(input));
  }
  assert.equal(buildExceptionList({ type: 5 as unknown as string })[0]?.type, '5');
});

test('the schema check catches what error tracking refuses (so the tests above can fail)', () => {
  const frame = { platform: 'node:javascript', filename: 'a.js', function: 'f' };
  const cases: Array<[unknown, RegExp]> = [
    [undefined, /missing/],
    [[], /empty/],
    [[{ value: 'x' }], /type is required/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ platform: 'node:javascript', function: 'f' }] } }], /filename is required/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ platform: 'node:javascript', filename: 'a.js' }] } }], /function is required/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ ...frame, lineno: -1 }] } }], /lineno must be an unsigned/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ ...frame, colno: 2 ** 32 }] } }], /colno must be an unsigned/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ ...frame, lineno: 1.5 }] } }], /lineno/],
    [[{ type: 'E\ud83d' }], /type is required and must be a well-formed string/],
    [[{ type: 'E', mechanism: { handled: 'yes' } }], /handled must be a boolean/],
    // serde defaults take absence, not null.
    [[{ type: 'E', value: null }], /value must be a string \(null is not\)/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ ...frame, in_app: null }] } }], /in_app must be a boolean/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ ...frame, in_app: 'true' }] } }], /in_app must be a boolean/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ ...frame, synthetic: 0 }] } }], /synthetic must be a boolean/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ ...frame, pre_context: null }] } }], /pre_context must be an array of strings/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: null } }], /frames must be an array/],
    // Tags: an unknown platform or stacktrace type does not parse.
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ ...frame, platform: 'nodejs' }] } }], /no platform error tracking knows/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ filename: 'a.js', function: 'f' }] } }], /platform is required/],
    [[{ type: 'E', stacktrace: { type: 'Raw', frames: [] } }], /stacktrace.type must be "raw"/],
    [[{ type: 'E', stacktrace: { frames: [] } }], /stacktrace.type must be "raw"/],
    [[{ type: 'E', id: 0 }], /id must be a string/],
    [[{ type: 'E', thread_id: 2 ** 31 }], /thread_id must be an i32/],
    [[{ type: 'E', stacktrace: { type: 'raw', frames: [{ ...frame, chunk_id: 'a', chunkId: 'a' }] } }], /both chunk_id and chunkId/],
    [[{ type: null }], /type is required/],
  ];
  for (const [list, problem] of cases) assert.match(cymbalProblems({ $exception_list: list }).join('; '), problem, JSON.stringify(list));
  assert.deepEqual(cymbalProblems({ $exception_list: [{ type: 'E', stacktrace: { type: 'raw', frames: [frame] } }] }), []);
  // Option<T> takes null.
  assert.deepEqual(
    cymbalProblems({
      $exception_list: [
        {
          type: 'E',
          mechanism: null,
          module: null,
          stacktrace: { type: 'raw', frames: [{ ...frame, lineno: null, colno: null, module: null }] },
        },
      ],
    }),
    [],
  );
  // The list must be an array; typed properties next to it; and the properties parse as a whole.
  const one = [{ type: 'E' }];
  const properties: Array<[Record<string, unknown>, RegExp]> = [
    [{ $exception_list: null }, /must be an array/],
    [{ $exception_list: one, $exception_fingerprint: 42 }, /\$exception_fingerprint must be a string/],
    [{ $exception_list: one, $issue_name: ['a'] }, /\$issue_name must be a string/],
    [{ $exception_list: one, $issue_description: {} }, /\$issue_description must be a string/],
    [{ $exception_list: one, $exception_handled: 'true' }, /\$exception_handled must be a boolean/],
    [{ $exception_list: one, $debug_images: null }, /\$debug_images must be an array/],
    [{ $exception_list: one, note: 'cut \ud83d' }, /properties.note holds a lone UTF-16 surrogate/],
    [{ $exception_list: one, nested: { ['k\udc00']: 1 } }, /key with a lone UTF-16 surrogate/],
  ];
  for (const [props, problem] of properties) assert.match(cymbalProblems(props).join('; '), problem, JSON.stringify(props));
  assert.deepEqual(
    cymbalProblems({
      $exception_list: one,
      $exception_fingerprint: null,
      $exception_handled: false,
      $debug_images: [],
      $issue_severity: 3,
    }),
    [],
  );
});

test('util.inspect: a recursion it printed once ("... collapsed N duplicate lines ...") is read in full, also at the end of a stack', () => {
  const text = [
    'Error: outer',
    '    at b (/srv/r.js:2:2)',
    '    at a (/srv/r.js:1:1)',
    '    ... collapsed 4 duplicate lines matching above 2 lines 2 times... {',
    '  [cause]: Error: inner',
    '      at inner (/srv/i.js:1:1)',
    '}',
  ].join('\n');
  const list = buildExceptionList({ stacktrace: text }, true, { cwd: '/srv' });
  assert.deepEqual(
    list.map((e) => [e.value, e.stacktrace?.frames.length]),
    [
      ['outer', 2],
      ['inner', 1],
    ],
  );
  // Read in full, the six frames are three copies of one cycle: one copy is kept, as posthog-node keeps it.
  const expanded = buildExceptionList(
    { stacktrace: 'Error: outer\n' + '    at b (/srv/r.js:2:2)\n    at a (/srv/r.js:1:1)\n'.repeat(3) },
    true,
    { cwd: '/srv' },
  );
  assert.deepEqual(list[0]?.stacktrace, expanded[0]?.stacktrace);
});

test('exceptionLevelOf: the levels and the names loggers give them, in any case; anything else undefined', () => {
  const cases: Array<[unknown, string | undefined]> = [
    ['fatal', 'fatal'],
    ['CRITICAL', 'fatal'],
    ['emerg', 'fatal'],
    ['error', 'error'],
    ['ERR', 'error'],
    [' Warning ', 'warning'],
    ['warn', 'warning'],
    ['log', 'log'],
    ['notice', 'info'],
    ['INFO', 'info'],
    ['trace', 'debug'],
    ['debug', 'debug'],
    ['severe', undefined],
    ['', undefined],
    ['toString', undefined],
    ['__proto__', undefined],
    [3, undefined],
    [null, undefined],
    [undefined, undefined],
  ];
  assert.deepEqual(
    cases.map(([given]) => [given, exceptionLevelOf(given)]),
    cases,
  );
});

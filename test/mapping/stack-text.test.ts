// Hostile stack texts: odd frame lines, huge and deep texts, and generated texts. Whatever the text,
// the list must parse in error tracking (the cymbal schema check) and keep posthog-node's links.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  buildExceptionList,
  MAX_EXCEPTIONS,
  MAX_FRAMES,
  type PostHogException,
  type StackFrame,
} from '../../src/mapping/exception-list.ts';
import { mapRecord } from '../../src/mapping/record-to-event.ts';
import type { MappingSettings } from '../../src/config/sections.ts';
import { parseStackText } from '../../src/mapping/stack-text.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { cymbalProblems } from '../support/cymbal-schema.ts';

const CWD = '/srv/app';

function list(stacktrace: string): PostHogException[] {
  return buildExceptionList({ stacktrace }, true, { cwd: CWD, moduleBase: CWD });
}

/** The list parses in error tracking, and its links are posthog-node's: ids in order, each parent listed before. */
function assertSound(entries: PostHogException[], what: string): void {
  assert.deepEqual(cymbalProblems({ $exception_list: JSON.parse(JSON.stringify(entries)) }), [], what);
  assert.ok(entries.length >= 1 && entries.length <= MAX_EXCEPTIONS, `${what}: ${entries.length} entries`);
  entries.forEach((entry, i) => {
    assert.equal(entry.mechanism.exception_id, i, what);
    if (i === 0) assert.equal(entry.mechanism.type, 'generic', what);
    else {
      assert.equal(entry.mechanism.type, 'chained', what);
      assert.ok('parent_id' in entry.mechanism && entry.mechanism.parent_id < i, what);
    }
    assert.ok((entry.stacktrace?.frames.length ?? 0) <= MAX_FRAMES, what);
  });
}

const only = (text: string): StackFrame[] => list(text)[0]?.stacktrace?.frames ?? [];
const described = (frames: StackFrame[]): string[] =>
  frames.map((f) => `${f.function} @ ${f.filename}:${f.lineno ?? '-'}:${f.colno ?? '-'}${f.in_app ? ' app' : ''}`);

test('odd frame lines: each gives the frame posthog-node gives, or none, and the list parses', () => {
  const cases: Array<[string, string, string[]]> = [
    ['a stack of only a header', 'TypeError: boom', []],
    ['bare <anonymous>', 'Error: x\n    at <anonymous>', ['? @ <anonymous>:-:-']],
    ['ESM file URL with a Windows drive', 'Error: x\n    at file:///C:/app/x.js:1:2', ['? @ C:/app/x.js:1:2 app']],
    ['escaped file URL', 'Error: x\n    at f (file:///srv/app/my%20dir/y.js:3:4)', ['f @ my dir/y.js:3:4 app']],
    ['webpack-internal URL', 'Error: x\n    at webpack-internal:///./src/a.ts:3:4', ['? @ webpack-internal:///./src/a.ts:3:4 app']],
    [
      'await of Promise.any',
      'AggregateError: All promises were rejected\n    at async Promise.any (index 2)',
      ['Promise.any @ node:internal/promise:-:-'],
    ],
    ['constructor', 'Error: x\n    at new ClassName (/srv/app/a.js:1:2)', ['new ClassName @ a.js:1:2 app']],
    ['Windows path', 'Error: x\n    at f (C:\\srv\\app\\a.js:1:2)', ['f @ C:\\srv\\app\\a.js:1:2 app']],
    ['no column', 'Error: x\n    at f (/srv/app/a.js:10)\n    at /srv/app/b.js:11', ['? @ b.js:11:- app', 'f @ a.js:10:- app']],
    [
      'zero and out-of-range positions',
      'Error: x\n    at f (/srv/app/a.js:0:0)\n    at g (/srv/app/a.js:4294967296:4294967295)',
      ['g @ a.js:-:4294967295 app', 'f @ a.js:-:- app'],
    ],
    ['parentheses in names and paths', 'Error: x\n    at g (/srv/app/a (copy).js:1:2)', ['g @ a (copy).js:1:2 app']],
    ['a tab before "at"', 'Error: x\n\tat f (/srv/app/a.js:1:2)', ['f @ a.js:1:2 app']],
    [
      'node_modules',
      'Error: x\n    at Layer.handle (/srv/app/node_modules/express/lib/router/layer.js:95:5)',
      ['Layer.handle @ node_modules/express/lib/router/layer.js:95:5'],
    ],
    [
      'a data: URL',
      'Error: x\n    at data:text/javascript,throw%20new%20Error():1:7',
      ['? @ data:text/javascript,throw%20new%20Error():1:7'],
    ],
  ];
  for (const [what, text, expected] of cases) {
    const entries = list(text);
    assertSound(entries, what);
    assert.deepEqual(described(entries[0]?.stacktrace?.frames ?? []), expected, what);
  }
  const header = list('TypeError: boom')[0]!;
  assert.deepEqual([header.type, header.value, header.stacktrace], ['TypeError', 'boom', undefined]);
});

test('line endings and colour codes do not change what is read', () => {
  const plain = 'TypeError: boom\n    at f (/srv/app/a.js:1:2)\n    at g (/srv/app/b.js:3:4)';
  const expected = list(plain);
  const variants: Array<[string, string]> = [
    ['CRLF', plain.replace(/\n/g, '\r\n')],
    ['CRLF with a trailing one', `${plain.replace(/\n/g, '\r\n')}\r\n`],
    [
      'colour codes',
      '\u001b[31mTypeError: boom\u001b[39m\n    at f \u001b[90m(/srv/app/a.js:1:2)\u001b[39m\n\u001b[90m    at g (/srv/app/b.js:3:4)\u001b[39m',
    ],
  ];
  for (const [what, text] of variants) assert.deepEqual(list(text), expected, what);
});

test('a cause chain that loops, and one 1000 deep, as util.inspect and pino print them', () => {
  // util.inspect prints a loop as [Circular *1]: no exception there.
  const looped =
    'Error: a\n    at f (/srv/app/a.js:1:1) {\n  [cause]: Error: b\n      at g (/srv/app/b.js:1:1) {\n    [cause]: [Circular *1]\n  }\n}';
  assert.deepEqual(
    list(looped).map((e) => e.value),
    ['a', 'b'],
  );
  const a = new Error('a');
  const b = new Error('b', { cause: a });
  a.cause = b;
  assertSound(list(inspect(a)), 'a real loop through util.inspect');

  // 1000 causes: util.inspect indents each one level deeper; pino prints them one after the other.
  let nested = '';
  for (let i = 999; i >= 0; i--) {
    const pad = '  '.repeat(i);
    nested = `${i === 0 ? '' : `${pad}[cause]: `}Error: e${i}\n${pad}    at f${i} (/srv/app/a.js:${i + 1}:1)${nested === '' ? '' : ` {\n${nested}\n${pad}}`}`;
  }
  let flat = 'Error: e0\n    at f0 (/srv/app/a.js:1:1)';
  for (let i = 1; i < 1000; i++) flat += `\ncaused by: Error: e${i}\n    at f${i} (/srv/app/a.js:${i + 1}:1)`;
  for (const [what, text] of [
    ['nested', nested],
    ['flat', flat],
  ] as const) {
    const entries = list(text);
    assertSound(entries, what);
    // The outer exceptions first, as many as a list holds; those read have their own frames.
    assert.equal(entries[0]?.value, 'e0', what);
    assert.equal(entries.length, what === 'flat' ? MAX_EXCEPTIONS : entries.length, what);
    entries.forEach((entry, i) => {
      assert.equal(entry.value, `e${i}`, what);
      assert.deepEqual(
        entry.stacktrace?.frames.map((f) => f.function),
        [`f${i}`],
        what,
      );
      if (i > 0) assert.equal((entry.mechanism as { parent_id: number }).parent_id, i - 1, what);
    });
  }
});

test('util.inspect past its depth prints a cause as [Error]: an entry of its own, with nothing after it in its message', () => {
  let error: Error | undefined;
  for (let i = 5; i >= 0; i--) error = new Error(`e${i}`, error === undefined ? {} : { cause: error });
  const entries = list(inspect(error));
  assertSound(entries, 'past the depth');
  assert.deepEqual(
    entries.map((e) => [e.type, e.value]),
    [
      ['Error', 'e0'],
      ['Error', 'e1'],
      ['Error', 'e2'],
      ['Error', ''],
    ],
  );
  assert.deepEqual(
    list('Error: a\n    at f (/srv/app/a.js:1:1) {\n  [cause]: [TypeError: short] {\n    code: 1\n  }\n}').map((e) => [e.type, e.value]),
    [
      ['Error', 'a'],
      ['TypeError', 'short'],
    ],
  );
});

test('enormous texts: bounded work, bounded lists', () => {
  const frames = Array.from({ length: 100_000 }, (_, i) => `    at f${i} (/srv/app/a.js:${i + 1}:1)`).join('\n');
  const cases: Array<[string, string]> = [
    ['100 000 frames', `Error: many\n${frames}`],
    ['a 5 MB message on one line', `Error: ${'m'.repeat(5_000_000)}\n    at f (/srv/app/a.js:1:1)`],
    ['a 5 MB frame line', `Error: x\n    at f (/srv/app/${'d/'.repeat(2_500_000)}a.js:1:1)`],
    ['100 000 cause headers', `Error: e\n${'caused by: Error: again\n    at f (/srv/app/a.js:1:1)\n'.repeat(100_000)}`],
    ['100 000 blank lines', `Error: x${'\n'.repeat(100_000)}    at f (/srv/app/a.js:1:1)`],
  ];
  for (const [what, text] of cases) {
    const entries = list(text);
    assertSound(entries, what);
  }
  assert.equal(only(`Error: many\n${frames}`).length, MAX_FRAMES);
  // The tree of a huge text is read in part too.
  assert.ok(parseStackText(`Error: many\n${frames}`).frameLines.length < 10_000);
});

/** A small deterministic generator (mulberry32): the same texts on every run. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  'f',
  'Foo.bar',
  'new Foo',
  'async g',
  'Object.<anonymous>',
  'Array.map',
  'x.y.z',
  '<anonymous>',
  'Promise.all',
  'eval',
  'Module._compile',
  'a(b)',
  '',
  'fn 💥',
  'fn \ud83d',
];
const LOCATIONS = [
  '/srv/app/a.js:1:2',
  '/srv/app/node_modules/p/i.js:3:4',
  'file:///srv/app/m.mjs:5:6',
  'file:///C:/w/x.js:7:8',
  'C:\\w\\y.js:9:10',
  'node:internal/process/task_queues:95:5',
  'webpack-internal:///./src/a.ts:3:4',
  '<anonymous>',
  'native',
  'index 3',
  'eval at run (/srv/app/a.js:1:2), <anonymous>:1:1',
  '/srv/app/a.js:10',
  '/srv/app/a.js',
  '/srv/app/a.js:0:0',
  '/srv/app/a.js:99999999999:1',
  '/srv/app/a.js:-1:-1',
  'unknown location',
  '',
  '/srv/app/\udc00.js:1:1',
];
const HEADERS = [
  'Error: boom',
  'TypeError: x',
  'Error',
  'RangeError [ERR_OUT_OF_RANGE]: n',
  '[TypeError: bracketed]',
  'not an error header',
  'Error: multi\nline message',
  'AggregateError: all failed',
  'Error: 💥 \ud83d cut',
  '',
];

function randomText(next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const lines: string[] = [];
  const count = Math.floor(next() * 40);
  let indent = 0;
  for (let i = 0; i < count; i++) {
    const pad = ' '.repeat(indent);
    const roll = next();
    if (roll < 0.55) {
      const name = pick(NAMES);
      const location = pick(LOCATIONS);
      lines.push(`${pad}    at ${name === '' ? location : `${name} (${location})`}${pick(['', '', ' {', ','])}`);
    } else if (roll < 0.62) {
      lines.push(`${pad}${pick(['[cause]: ', 'caused by: ', 'Caused By: ', 'CAUSED BY:'])}${pick(HEADERS)}`);
      if (next() < 0.5) indent += 2;
    } else if (roll < 0.66) {
      lines.push(`${pad}[errors]: [`);
      indent += 4;
    } else if (roll < 0.72) {
      indent = Math.max(0, indent - 2);
      lines.push(`${' '.repeat(indent)}${pick(['}', ']', '],', '},'])}`);
    } else if (roll < 0.76) {
      lines.push(`${pad}    ... ${Math.floor(next() * 5)} lines matching cause stack trace ...`);
    } else if (roll < 0.79) {
      lines.push(
        `${pad}    ... collapsed ${Math.floor(next() * 9)} duplicate lines matching above ${Math.floor(next() * 4)} lines ${Math.floor(next() * 4)} times...`,
      );
    } else if (roll < 0.83) {
      lines.push(
        `${pad}${pick(["[cause]: 'a string cause'", '[cause]: 42', '[cause]: [Circular *1]', '[cause]: [Object: null prototype] {}'])}`,
      );
    } else if (roll < 0.87) {
      lines.push(pick(['', '   ', '\u001b[90m', '\r']));
    } else {
      lines.push(`${pad}${pick(HEADERS)}`);
    }
  }
  return `${pick(HEADERS)}\n${lines.join(pick(['\n', '\n', '\r\n']))}`;
}

test('generated texts: every list parses in error tracking and keeps its links', () => {
  const next = generator(13);
  for (let i = 0; i < 2000; i++) {
    const text = randomText(next);
    const entries = list(text);
    // The mapping repairs lone surrogates when it writes the event; the list itself keeps the text.
    const repaired = JSON.parse(JSON.stringify(entries).replace(/\\ud[89a-f][0-9a-f]{2}/g, '\\ufffd')) as PostHogException[];
    assertSound(repaired, `text ${i}: ${JSON.stringify(text)}`);
  }
});

const SETTINGS: MappingSettings = { disableGeoip: true, resourceAttributes: 'default', logEventName: 'log' };

function recordWith(attributes: Record<string, string>, body?: string): ReadableLogRecord {
  const captured: ReadableLogRecord[] = [];
  const capture: LogRecordProcessor = {
    onEmit: (record) => void captured.push(record as unknown as ReadableLogRecord),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  new LoggerProvider({ resource: resourceFromAttributes({}), processors: [capture] })
    .getLogger('app')
    .emit({ context: ROOT_CONTEXT, eventName: '$exception', attributes, ...(body === undefined ? {} : { body }) });
  return captured[0]!;
}

test('generated texts as records: every $exception the mapping writes parses in error tracking, lone surrogates included', () => {
  const next = generator(29);
  for (let i = 0; i < 500; i++) {
    const text = randomText(next);
    const record =
      i % 3 === 0
        ? recordWith({}, text)
        : recordWith({
            'exception.stacktrace': text,
            ...(i % 2 === 0 ? { 'exception.type': 'E\ud800', 'exception.message': 'cut \udfff' } : {}),
          });
    const outcome = mapRecord(record, SETTINGS, Date.UTC(2026, 0, 1));
    assert.equal(outcome.kind, 'mapped');
    for (const event of (outcome as Extract<typeof outcome, { kind: 'mapped' }>).events) {
      const sent = JSON.parse(event.json) as CaptureEvent;
      assert.deepEqual(cymbalProblems(sent.properties), [], `text ${i}: ${JSON.stringify(text)}`);
    }
  }
});

// Real errors, thrown at test time the ways Node applications throw them, and the texts the tools
// that report them print: `err.stack` (what span.recordException and OpenTelemetry's logs keep),
// util.inspect (console.error, most loggers) and pino's error serializer.

import { inspect } from 'node:util';
import pino from 'pino';

export interface RealisticError {
  name: string;
  error: Error;
}

class OrderRepository {
  static parse(text: string): unknown {
    return JSON.parse(text);
  }
  get total(): number {
    throw new TypeError('total is not loaded');
  }
  #check(): never {
    throw new RangeError('quantity out of range');
  }
  validate(): void {
    this.#check();
  }
}

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

async function caughtAsync(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

async function failsLater(message: string): Promise<never> {
  await null;
  throw new Error(message);
}

function recurse(n: number): number {
  return recurse(n + 1) + 1;
}

function ping(n: number): number {
  return pong(n + 1) + 1;
}

function pong(n: number): number {
  return ping(n + 1) + 1;
}

function descend(depth: number): number {
  if (depth === 0) throw new RangeError('reached the bottom');
  return descend(depth - 1) + 1;
}

/** An error thrown with a longer stack than Node's default 10 frames. */
function withStackLimit(limit: number, fn: () => unknown): Error {
  const previous = Error.stackTraceLimit;
  Error.stackTraceLimit = limit;
  try {
    return caught(fn);
  } finally {
    Error.stackTraceLimit = previous;
  }
}

function withCauses(): Error {
  const root = caught(() => OrderRepository.parse('{"items": [1, 2'));
  const middle = caught(() => {
    throw new Error('could not read the order', { cause: root });
  });
  return caught(() => {
    throw new TypeError('checkout failed', { cause: middle });
  });
}

/** Causes set as a property after the error was made, as older code does: util.inspect prints `cause:`, not `[cause]:`. */
function withAssignedCauses(): Error {
  const root = caught(() => OrderRepository.parse('{"items": [1, 2'));
  const outer = caught(() => {
    throw new Error('could not read the order');
  });
  (outer as { cause?: unknown }).cause = root;
  return outer;
}

/** The corpus: every error thrown for real, none of its text written by hand. */
export async function realisticErrors(): Promise<RealisticError[]> {
  const errors: RealisticError[] = [
    { name: 'JSON.parse in a static method', error: caught(() => OrderRepository.parse('{bad')) },
    { name: 'a getter', error: caught(() => new OrderRepository().total) },
    { name: 'a private method', error: caught(() => new OrderRepository().validate()) },
    {
      name: 'Array.map callback',
      error: caught(() =>
        [1, 2].map((n) => {
          if (n === 2) throw new Error('item 2 is invalid');
          return n;
        }),
      ),
    },
    {
      name: 'new Promise executor',
      error: caught(() => {
        let thrown: unknown;
        void new Promise(() => {
          try {
            (undefined as unknown as { f(): void }).f();
          } catch (error) {
            thrown = error;
          }
        });
        throw thrown;
      }),
    },
    { name: 'Promise.all', error: await caughtAsync(() => Promise.all([Promise.resolve(1), failsLater('one of all failed')])) },
    {
      name: 'Promise.allSettled reason',
      error: await Promise.allSettled([failsLater('settled')]).then((r) => (r[0] as PromiseRejectedResult).reason as Error),
    },
    { name: 'eval', error: caught(() => (0, eval)('(function evaluated() { throw new SyntaxError("in eval"); })()')) },
    { name: 'new Function', error: caught(() => new Function('order', 'return order.items.length')({})) },
    { name: 'Node internal with a code', error: caught(() => Buffer.alloc(-1)) },
    {
      name: 'fs rejection',
      error: await caughtAsync(() => import('node:fs/promises').then((fs) => fs.readFile('/nonexistent/order.json'))),
    },
    { name: 'stack overflow', error: caught(() => recurse(0)) },
    { name: 'mutual recursion overflow', error: caught(() => ping(0)) },
    { name: 'deep recursion in a 200-frame stack', error: withStackLimit(200, () => descend(120)) },
    { name: 'mutual recursion in a 200-frame stack', error: withStackLimit(200, () => ping(0)) },
    { name: 'multi-line message', error: new Error('first line\nsecond line\n  indented third') },
    { name: 'emoji message', error: new Error('payment 💳 declined') },
    { name: 'causes', error: withCauses() },
    { name: 'string cause', error: new Error('wrapped', { cause: 'the upstream said no' }) },
    { name: 'cause assigned after construction', error: withAssignedCauses() },
    {
      name: 'AggregateError from Promise.any',
      error: await caughtAsync(() => Promise.any([failsLater('first'), Promise.reject(new RangeError('second'))])),
    },
    {
      name: 'AggregateError with a cause and members with causes',
      error: new AggregateError([new Error('member a', { cause: new Error('a root') }), new TypeError('member b')], 'batch failed', {
        cause: new Error('batch root'),
      }),
    },
  ];
  return errors;
}

/** The texts each reporting path prints for an error (util.inspect also as a terminal shows it, in colour). */
export function printedTexts(error: Error): Record<'stack' | 'inspect' | 'inspectColours' | 'pino', string> {
  return {
    stack: error.stack ?? '',
    inspect: inspect(error),
    inspectColours: inspect(error, { colors: true }),
    pino: (pino.stdSerializers.err(error) as { stack: string }).stack,
  };
}

/** The error, its cause chain and its AggregateError members, depth first as PostHog lists them. */
export function linkedErrors(error: Error): Error[] {
  const out: Error[] = [];
  const visit = (e: Error): void => {
    out.push(e);
    if (e.cause instanceof Error) visit(e.cause);
    if (e instanceof AggregateError) for (const member of e.errors as unknown[]) if (member instanceof Error) visit(member);
  };
  visit(error);
  return out;
}

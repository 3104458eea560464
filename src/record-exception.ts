import type { Attributes, Span, TimeInput } from '@opentelemetry/api';

/** Exceptions written for one error: the error, its causes and an AggregateError's errors (PostHog keeps as many). */
const MAX_EXCEPTIONS = 50;

/**
 * Records `error` on `span` as an `exception` span event, like `span.recordException(error)`, but
 * with its causes: `recordException` keeps only `error.stack`, which in Node never includes
 * `error.cause`. The causes (and an AggregateError's `errors`) are written into
 * `exception.stacktrace` after the error's own stack, laid out as `util.inspect` prints them, and
 * become linked entries of the event's `$exception_list` in PostHog.
 *
 * `exception.type` is the error's name (as posthog-node reports it; `recordException` prefers a
 * `code`). Never throws.
 */
export function recordExceptionWithCauses(span: Span, error: unknown, time?: TimeInput): void {
  try {
    const attributes: Attributes = {};
    if (isError(error)) {
      attributes['exception.type'] = textOf(read(error, 'name')) ?? 'Error';
      const message = textOf(read(error, 'message'));
      if (message !== undefined) attributes['exception.message'] = message;
      attributes['exception.stacktrace'] = inspectLines(error, { count: 0, seen: new Set() }).join('\n');
    } else {
      attributes['exception.message'] = textOf(error) ?? String(error);
    }
    span.addEvent('exception', attributes, time);
  } catch {
    // A span that throws from addEvent, a hostile error object: recording is best effort.
  }
}

interface Walk {
  count: number;
  /** Errors already written: a cause chain that loops ends where it comes back. */
  seen: Set<object>;
}

/** The error's stack, then its cause and errors as indented blocks, as util.inspect lays them out. */
function inspectLines(error: Error, walk: Walk): string[] {
  walk.count++;
  walk.seen.add(error);
  const stack = read(error, 'stack');
  const lines = (typeof stack === 'string' && stack !== '' ? stack : headerOf(error)).split('\n');
  const blocks: string[][] = [];

  const cause = read(error, 'cause');
  if (isError(cause) && !walk.seen.has(cause) && walk.count < MAX_EXCEPTIONS) {
    const inner = inspectLines(cause, walk);
    blocks.push([`  [cause]: ${inner[0] ?? ''}`, ...inner.slice(1).map((line) => `  ${line}`)]);
  } else if (typeof cause === 'string' && walk.count < MAX_EXCEPTIONS) {
    walk.count++;
    blocks.push([`  [cause]: '${cause.replace(/\r?\n/g, ' ')}'`]);
  }

  const errors = read(error, 'errors');
  if (Array.isArray(errors)) {
    const members: string[][] = [];
    for (const member of errors) {
      if (walk.count >= MAX_EXCEPTIONS) break;
      if (isError(member) && !walk.seen.has(member)) members.push(inspectLines(member, walk).map((line) => `    ${line}`));
    }
    if (members.length > 0) {
      const list = ['  [errors]: ['];
      members.forEach((member, i) => list.push(...(i < members.length - 1 ? withTrailingComma(member) : member)));
      list.push('  ]');
      blocks.push(list);
    }
  }

  if (blocks.length === 0) return lines;
  lines[lines.length - 1] += ' {';
  blocks.forEach((block, i) => lines.push(...(i < blocks.length - 1 ? withTrailingComma(block) : block)));
  lines.push('}');
  return lines;
}

function withTrailingComma(lines: string[]): string[] {
  const out = [...lines];
  out[out.length - 1] += ',';
  return out;
}

function headerOf(error: Error): string {
  const name = textOf(read(error, 'name')) ?? 'Error';
  const message = textOf(read(error, 'message'));
  return message === undefined ? name : `${name}: ${message}`;
}

function isError(value: unknown): value is Error {
  try {
    return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
  } catch {
    return false;
  }
}

function read(object: object, key: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return undefined;
}

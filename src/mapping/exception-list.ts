// PostHog error-tracking properties ($exception_list, $exception_level) from OTel exception
// attributes. The list has the shape posthog-node builds: the exception first, then its cause
// chain and an AggregateError's errors, each entry linked to its parent through `mechanism`.

import { RecursionCollapser } from './recursion.ts';
import { defaultModuleBase, orderFrames, parseFrameLine, type StackFrame } from './stack-frames.ts';
import { parseHeader, parseStackText, type StackNode } from './stack-text.ts';

export type { StackFrame } from './stack-frames.ts';

export interface ExceptionAttributes {
  type?: string;
  message?: string;
  stacktrace?: string;
}

export type ExceptionLevel = 'fatal' | 'error' | 'warning' | 'log' | 'info' | 'debug';

/** The first entry's mechanism; later entries are `chained` to the one they belong to. */
export type ExceptionMechanism =
  | { type: 'generic'; handled: boolean; synthetic: boolean; exception_id: number }
  | { type: 'chained'; source: 'cause' | 'member'; synthetic: boolean; exception_id: number; parent_id: number };

export interface PostHogException {
  type: string;
  value: string;
  mechanism: ExceptionMechanism;
  stacktrace?: { type: 'raw'; frames: StackFrame[] };
}

export interface ExceptionListOptions {
  /** Directory frame filenames are made relative to; default the process's working directory. */
  cwd?: string;
  /** Directory module names are taken relative to; default the main script's, as posthog-node does. */
  moduleBase?: string;
}

/**
 * Error tracking keeps at most this much of a value and of a type (in UTF-8 bytes), cut with "...".
 * Longer ones are cut here, the same way: what more was sent would only make the event too large.
 */
const MAX_VALUE_CHARS = 10_000;
const MAX_TYPE_CHARS = 255;

/** Frames kept per exception, those nearest the throw (posthog-node keeps as many). */
export const MAX_FRAMES = 50;
/** Entries in one list, the exception and everything linked to it (posthog-node's bound too). */
export const MAX_EXCEPTIONS = 50;

/**
 * Frames of the first exception in a V8 stack string, oldest call first (V8 prints the innermost
 * first). Of more than `maxFrames`, the ones nearest the throw are kept. Unparseable lines are skipped.
 */
export function parseV8StackTrace(stack: string, maxFrames: number = MAX_FRAMES, options: ExceptionListOptions = {}): StackFrame[] {
  try {
    if (typeof stack !== 'string') return [];
    return framesOf(parseStackText(stack), frameLimit(maxFrames), pathsOf(options));
  } catch {
    return [];
  }
}

/**
 * The `$exception_list` of an exception: never empty. Type and message missing from the attributes
 * are taken from the stack's header line; causes and an AggregateError's errors printed in the
 * stack become entries of their own.
 */
export function buildExceptionList(
  exc: ExceptionAttributes,
  handled: boolean = true,
  options: ExceptionListOptions = {},
): PostHogException[] {
  const rootMechanism: ExceptionMechanism = { type: 'generic', handled: handled !== false, synthetic: false, exception_id: 0 };
  try {
    const stack = typeof exc?.stacktrace === 'string' ? exc.stacktrace : undefined;
    const tree = stack === undefined ? undefined : parseStackText(stack);
    const header = tree === undefined ? undefined : parseHeader(tree.header);
    const paths = pathsOf(options);
    const message = textOf(exc?.message);
    const root: PostHogException = {
      type: cut(reportedType(textOf(exc?.type), header, message), MAX_TYPE_CHARS),
      value: cut(message ?? header?.message ?? '', MAX_VALUE_CHARS),
      mechanism: rootMechanism,
    };
    const list = [withFrames(root, tree, paths)];
    if (tree !== undefined) appendLinked(list, tree, 0, paths);
    return list;
  } catch {
    return [{ type: 'Error', value: '', mechanism: rootMechanism }];
  }
}

/** An error code as Node and undici write them: `ENOENT`, `ERR_OUT_OF_RANGE`, `UND_ERR_SOCKET`. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]*$/;

/**
 * The exception's type as posthog-node reports it: the error's name. OpenTelemetry's
 * `span.recordException` puts the error's `code` in `exception.type` when it has one; when the stack
 * header is that same error's (same message), its name is taken instead, so the issue is the one
 * posthog-node opens for it.
 */
function reportedType(
  given: string | undefined,
  header: { type: string; message: string } | undefined,
  message: string | undefined,
): string {
  if (given === undefined) return header?.type ?? 'Error';
  if (header !== undefined && message !== undefined && header.type !== given && header.message === message && ERROR_CODE.test(given))
    return header.type;
  return given;
}

/** OTel SeverityNumber (0..24) → PostHog $exception_level. 21–24 fatal, 17–20 error, 13–16 warning, 9–12 info, 1–8 debug, undefined/0 → 'error'. */
export function exceptionLevelFromSeverity(severityNumber: number | undefined): ExceptionLevel {
  // Unspecified: the record is being reported as an exception, so error is the honest default.
  if (typeof severityNumber !== 'number' || !(severityNumber >= 1)) return 'error';
  if (severityNumber >= 21) return 'fatal';
  if (severityNumber >= 17) return 'error';
  if (severityNumber >= 13) return 'warning';
  if (severityNumber >= 9) return 'info';
  return 'debug'; // DEBUG and TRACE; PostHog has no trace level
}

/** Other names loggers give the levels, lower case: a level given as one of these is sent as PostHog's. */
const LEVEL_ALIASES: Readonly<Record<string, ExceptionLevel>> = {
  fatal: 'fatal',
  critical: 'fatal',
  crit: 'fatal',
  emergency: 'fatal',
  emerg: 'fatal',
  alert: 'fatal',
  panic: 'fatal',
  error: 'error',
  err: 'error',
  warning: 'warning',
  warn: 'warning',
  log: 'log',
  info: 'info',
  information: 'info',
  informational: 'info',
  notice: 'info',
  debug: 'debug',
  trace: 'debug',
};

/**
 * Error tracking's level for a level given as text (`WARN`, `critical`), or undefined when the
 * text is not one it knows by any name.
 */
export function exceptionLevelOf(given: unknown): ExceptionLevel | undefined {
  if (typeof given !== 'string') return undefined;
  const name = given.trim().toLowerCase();
  return Object.hasOwn(LEVEL_ALIASES, name) ? LEVEL_ALIASES[name] : undefined;
}

/** Depth first, as posthog-node orders them: each exception, then its cause's chain, then its errors. */
function appendLinked(list: PostHogException[], node: StackNode, parentId: number, paths: Paths): void {
  const linked: Array<[StackNode, 'cause' | 'member']> = [];
  if (node.cause !== undefined) linked.push([node.cause, 'cause']);
  for (const member of node.members) linked.push([member, 'member']);
  for (const [child, source] of linked) {
    if (list.length >= MAX_EXCEPTIONS) return;
    const id = list.length;
    const synthetic = child.literal !== undefined;
    const header = synthetic ? undefined : parseHeader(child.header);
    const entry: PostHogException = {
      type: cut(header?.type ?? 'Error', MAX_TYPE_CHARS),
      value: cut(child.literal ?? header?.message ?? child.header.join('\n').trim(), MAX_VALUE_CHARS),
      mechanism: { type: 'chained', source, synthetic, exception_id: id, parent_id: parentId },
    };
    list.push(withFrames(entry, child, paths));
    appendLinked(list, child, id, paths);
  }
}

function withFrames(entry: PostHogException, node: StackNode | undefined, paths: Paths): PostHogException {
  const frames = node === undefined ? [] : framesOf(node, MAX_FRAMES, paths);
  if (frames.length > 0) entry.stacktrace = { type: 'raw', frames };
  return entry;
}

/** posthog-node's bounds on reading a stack: lines read, and length of a line that can be a frame. */
const MAX_FRAME_LINES = 1000;
const MAX_FRAME_LINE_CHARS = 1024;

function framesOf(node: StackNode, maxFrames: number, paths: Paths): StackFrame[] {
  const frames = new RecursionCollapser();
  const lines = node.frameLines;
  for (let i = 0; i < lines.length && i < MAX_FRAME_LINES; i++) {
    // Counted after collapsing repeats: a deep recursion leaves room for the frames outside it.
    if (frames.surviving >= maxFrames) break;
    const line = lines[i]!;
    if (line.length > MAX_FRAME_LINE_CHARS) continue;
    const frame = parseFrameLine(line, paths.cwd);
    if (frame !== undefined) frames.add(frame);
  }
  return orderFrames(frames.finish(), maxFrames, paths.moduleBase);
}

function frameLimit(maxFrames: number): number {
  return typeof maxFrames === 'number' && !Number.isNaN(maxFrames) ? Math.max(0, Math.floor(maxFrames)) : MAX_FRAMES;
}

interface Paths {
  /** Filenames are made relative to it (undefined: kept absolute). */
  cwd: string | undefined;
  /** Module names are taken relative to it (undefined: none given). */
  moduleBase: string | undefined;
}

function pathsOf(options: ExceptionListOptions): Paths {
  return {
    cwd: typeof options?.cwd === 'string' ? options.cwd : workingDirectory(),
    moduleBase: typeof options?.moduleBase === 'string' ? options.moduleBase : defaultModuleBase(),
  };
}

function workingDirectory(): string | undefined {
  try {
    return process.cwd();
  } catch {
    // The directory was removed: paths stay absolute.
    return undefined;
  }
}

/** At most `max` UTF-16 units, ending in "..." when cut; never half a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 3;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}...`;
}

function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return undefined;
}

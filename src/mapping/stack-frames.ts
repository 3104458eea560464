// Frames of PostHog's `node:javascript` platform from V8 stack lines (https://v8.dev/docs/stack-trace-api).
// Error tracking requires a string `filename` and `function` on every frame, and groups an issue on
// the function and filename of its in-app frames: the names here follow posthog-node's, so the same
// crash reported by either lands in the same issue.

import { isAbsolute, posix, relative, sep } from 'node:path';

export interface StackFrame {
  platform: 'node:javascript';
  /** Relative to the working directory for files under it; a placeholder name for V8 built-ins. */
  filename: string;
  /** The file's absolute path, when the frame has one (not for `node:` modules or built-ins). */
  abs_path?: string;
  function: string;
  /** posthog-node's module name (`express.lib.router:layer`, `routes:checkout`): error tracking groups on it too. */
  module?: string;
  /** Unsigned 32-bit, as error tracking reads them; absent when unknown. */
  lineno?: number;
  colno?: number;
  in_app: boolean;
}

/** Function name error tracking uses when V8 gives none. */
export const UNKNOWN_FUNCTION = '?';
/** Filename of V8's `Promise.all (index N)` frames, as posthog-node names them. */
export const PROMISE_FILENAME = 'node:internal/promise';
/** Filename of a `(native)` frame when the frame that threw has no file either. */
export const NATIVE_FILENAME = 'native';

const MAX_U32 = 0xffff_ffff;
const DIGITS = /^\d+$/;
const INDEX_LOCATION = /^index \d+$/;
const WINDOWS_DRIVE = /^[A-Za-z]:[/\\]/;
const URL_WITH_AUTHORITY = /^[a-zA-Z][a-zA-Z0-9.+-]*:\/\//;

/** The text after "at ", or undefined when the line is not a frame line. */
export function frameBody(line: string): string | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('at ') && !trimmed.startsWith('at\t')) return undefined;
  let body = trimmed.slice(3).trim();
  // util.inspect appends " {" when properties follow, and "," between the members of an array.
  if (body.endsWith(' {')) body = body.slice(0, -2).trimEnd();
  else if (body.endsWith(',')) body = body.slice(0, -1).trimEnd();
  return body === '' ? undefined : body;
}

/** A parsed frame, before the exception's frames are put in order and built-ins get their filename. */
export interface ParsedFrame extends Omit<StackFrame, 'filename'> {
  /** Undefined only for `(native)` frames: they take the filename of the frame that threw. */
  filename: string | undefined;
}

/**
 * One frame line, or undefined when it is not one. `cwd` is the directory filenames are made
 * relative to (undefined: kept absolute).
 */
export function parseFrameLine(line: string, cwd: string | undefined): ParsedFrame | undefined {
  let body = frameBody(line);
  if (body === undefined) return undefined;
  // "async" marks an await continuation; `async (file:1:2)` alone is a function named async.
  if (body.startsWith('async ')) {
    const rest = body.slice(6).trimStart();
    if (!(rest.startsWith('(') && !rest.includes(') ('))) body = rest;
  }

  let name: string | undefined;
  let location = body;
  let bare = true;
  if (body.endsWith(')')) {
    const open = matchingOpenParen(body);
    if (open > 0) {
      name = body.slice(0, open).trim();
      location = body.slice(open + 1, -1).trim();
      bare = false;
    }
  }

  const loc = parseLocation(location);
  // A bare "at <text>" that is no location is message text or noise, not a frame.
  if (loc === undefined || (bare && loc.lineno === undefined && loc.kind === 'file')) return undefined;

  const frame: ParsedFrame = { platform: 'node:javascript', filename: undefined, function: functionName(name), in_app: false };
  if (loc.kind === 'file') {
    frame.filename = relativeFilename(loc.path, cwd);
    if (isAbsolute(loc.path)) frame.abs_path = loc.path;
    frame.in_app = isInApp(loc.path);
  } else if (loc.kind === 'builtin') {
    frame.filename = loc.name;
  }
  if (loc.lineno !== undefined) frame.lineno = loc.lineno;
  if (loc.colno !== undefined) frame.colno = loc.colno;
  return frame;
}

/**
 * Frames as printed (innermost first) → the order error tracking wants (oldest call first), keeping
 * the `maxFrames` nearest the throw. A `(native)` frame takes the filename of the frame that threw.
 * `moduleBase` is the directory module names are taken relative to (undefined: none are given).
 */
export function orderFrames(printed: readonly ParsedFrame[], maxFrames: number, moduleBase?: string): StackFrame[] {
  const kept = printed.slice(0, Math.max(0, maxFrames));
  const crashSite = kept[0];
  const frames: StackFrame[] = [];
  for (let i = kept.length - 1; i >= 0; i--) {
    const parsed = kept[i]!;
    const frame: StackFrame =
      parsed.filename === undefined
        ? { ...parsed, filename: crashSite?.filename ?? NATIVE_FILENAME }
        : { ...parsed, filename: parsed.filename };
    if (moduleBase !== undefined) {
      // posthog-node names modules after the path as printed, before making it relative.
      const source = parsed.filename === undefined ? crashSite : parsed;
      frame.module = moduleName(source?.abs_path ?? source?.filename ?? NATIVE_FILENAME, moduleBase);
    }
    frames.push(frame);
  }
  return frames;
}

/** The directory posthog-node takes module names relative to: the main script's, else the working directory. */
export function defaultModuleBase(): string | undefined {
  try {
    const main = process.argv[1];
    return main ? posix.dirname(toPosix(main)) : toPosix(process.cwd());
  } catch {
    return undefined;
  }
}

/**
 * posthog-node's module name of a file: `<package path, dotted>:<file>` inside node_modules,
 * `<directory under the base, dotted>:<file>` under `base`, else the file's name; `.js`, `.mjs` and
 * `.cjs` are left out.
 */
export function moduleName(path: string, base: string): string {
  const parsed = posix.parse(toPosix(path));
  let file = parsed.base;
  if (parsed.ext === '.js' || parsed.ext === '.mjs' || parsed.ext === '.cjs') file = file.slice(0, -parsed.ext.length);
  try {
    file = decodeURIComponent(file);
  } catch {
    // Malformed escapes: the name as written.
  }
  const dir = parsed.dir === '' ? '.' : parsed.dir;
  const packages = dir.lastIndexOf('/node_modules');
  if (packages !== -1) return `${dir.slice(packages + '/node_modules/'.length).replace(/\//g, '.')}:${file}`;
  const normalisedBase = toPosix(base);
  if (dir.startsWith(normalisedBase)) {
    const under = dir.slice(normalisedBase.length + 1).replace(/\//g, '.');
    return under === '' ? file : `${under}:${file}`;
  }
  return file;
}

/** On Windows, a path without its drive letter and with forward slashes, as posthog-node compares them. */
function toPosix(path: string): string {
  return sep === '\\' ? path.replace(/^[A-Z]:/, '').replace(/\\/g, '/') : path;
}

/**
 * posthog-node's function names: `Type.<anonymous>` becomes `Type.?`, and a `.Module` segment in the
 * receiver is cut, so grouping matches its issues.
 */
function functionName(raw: string | undefined): string {
  if (raw === undefined || raw === '') return UNKNOWN_FUNCTION;
  let fn = raw;
  let methodStart = fn.lastIndexOf('.');
  if (fn[methodStart - 1] === '.') methodStart--;
  if (methodStart > 0) {
    let receiver = fn.slice(0, methodStart);
    const method = fn.slice(methodStart + 1);
    const moduleAt = receiver.indexOf('.Module');
    if (moduleAt > 0) {
      fn = fn.slice(moduleAt + 1);
      receiver = receiver.slice(0, moduleAt);
    }
    if (method === '<anonymous>') return `${receiver}.${UNKNOWN_FUNCTION}`;
  }
  return fn;
}

/** Index of the "(" that closes with the final ")", so parentheses inside names and paths balance out. */
function matchingOpenParen(body: string): number {
  let depth = 0;
  for (let i = body.length - 1; i >= 0; i--) {
    const c = body.charCodeAt(i);
    if (c === 41 /* ) */) depth++;
    else if (c === 40 /* ( */ && --depth === 0) return i;
  }
  return -1;
}

type Location =
  | { kind: 'file'; path: string; lineno?: number; colno?: number }
  /** V8 built-ins and eval'd code: no file, a name as posthog-node gives it. */
  | { kind: 'builtin'; name: string; lineno?: number; colno?: number }
  | { kind: 'native'; lineno?: undefined; colno?: undefined };

function parseLocation(location: string): Location | undefined {
  if (location === '') return undefined;
  if (location === 'native') return { kind: 'native' };
  if (INDEX_LOCATION.test(location)) return { kind: 'builtin', name: PROMISE_FILENAME };
  if (location === '<anonymous>' || location === 'unknown location') return { kind: 'builtin', name: location };
  const pos = splitPosition(location);
  // Eval'd code (`eval at f (file:1:2), <anonymous>:3:4`, new Function) has no file of its own: the
  // whole origin text is its name, positions are within the evaluated source.
  if (location.startsWith('eval at ') || pos.path === '<anonymous>') return { ...pos, kind: 'builtin', name: pos.path };
  if (pos.path === '') return undefined;
  return { ...pos, kind: 'file', path: normalisePath(pos.path) };
}

/** `path:line:col`, `path:line` or a bare path. Split from the right so Windows drive colons survive. */
function splitPosition(text: string): { path: string; lineno?: number; colno?: number } {
  const c2 = text.lastIndexOf(':');
  if (c2 > 0 && DIGITS.test(text.slice(c2 + 1))) {
    const c1 = text.lastIndexOf(':', c2 - 1);
    if (c1 > 0 && DIGITS.test(text.slice(c1 + 1, c2))) {
      return withNumbers(text.slice(0, c1), text.slice(c1 + 1, c2), text.slice(c2 + 1));
    }
    return withNumbers(text.slice(0, c2), text.slice(c2 + 1), undefined);
  }
  return { path: text };
}

function withNumbers(path: string, line: string, col: string | undefined): { path: string; lineno?: number; colno?: number } {
  const out: { path: string; lineno?: number; colno?: number } = { path };
  const lineno = toU32(line);
  const colno = col === undefined ? undefined : toU32(col);
  if (lineno !== undefined) out.lineno = lineno;
  if (colno !== undefined) out.colno = colno;
  return out;
}

/** A positive integer error tracking can hold (u32); 0 means unknown, as posthog-node reads it. */
function toU32(digits: string): number | undefined {
  const n = Number(digits);
  return Number.isInteger(n) && n > 0 && n <= MAX_U32 ? n : undefined;
}

/** ESM frames carry file:// URLs; error tracking wants the plain path. */
function normalisePath(path: string): string {
  if (!path.startsWith('file://')) return path;
  const rest = path.slice(7);
  // file:///C:/x → C:/x; file://host/share → //host/share (UNC).
  const plain = rest.startsWith('/') ? (/^\/[A-Za-z]:[/\\]/.test(rest) ? rest.slice(1) : rest) : `//${rest}`;
  try {
    return decodeURI(plain);
  } catch {
    // Malformed escapes: keep them as written.
    return plain;
  }
}

/**
 * Relative to `cwd` for absolute paths, with forward slashes (posthog-node's rule), so an issue does
 * not split per release directory or host. `node:` and `data:` names stay as they are.
 */
export function relativeFilename(path: string, cwd: string | undefined): string {
  if (cwd === undefined || path.startsWith('node:') || path.startsWith('data:') || !isAbsolute(path)) return path;
  try {
    const rel = relative(cwd, path);
    if (rel === '') return path;
    return sep === '\\' ? rel.replace(/\\/g, '/') : rel;
  } catch {
    return path;
  }
}

/**
 * posthog-node's rule: app code is an absolute path (or a URL, or a path starting with a dot) outside
 * node_modules. `node:` and `internal/` modules, built-ins and eval'd code are not.
 */
function isInApp(path: string): boolean {
  const located = path.startsWith('/') || WINDOWS_DRIVE.test(path) || path.startsWith('.') || URL_WITH_AUTHORITY.test(path);
  return located && !path.includes('/node_modules/') && !path.includes('\\node_modules\\');
}

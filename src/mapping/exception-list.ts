// PostHog error-tracking properties ($exception_list, $exception_level) from OTel exception
// attributes. `exception.stacktrace` is V8's `error.stack`; format facts: https://v8.dev/docs/stack-trace-api

export interface ExceptionAttributes {
  type?: string;
  message?: string;
  stacktrace?: string;
}

export type ExceptionLevel = 'fatal' | 'error' | 'warning' | 'log' | 'info' | 'debug';

export interface StackFrame {
  platform: 'node:javascript';
  filename?: string;
  abs_path?: string;
  function: string;
  lineno?: number;
  colno?: number;
  in_app: boolean;
}

export interface PostHogException {
  type: string;
  value: string;
  mechanism: { type: 'generic'; handled: boolean; synthetic: false };
  stacktrace?: { type: 'raw'; frames: StackFrame[] };
}

const DEFAULT_MAX_FRAMES = 100;
/** Real stacks are a few KiB; this bounds the work a pathological attribute can cause. */
const MAX_STACK_CHARS = 64 * 1024;

/**
 * Frames from a V8 stack string, oldest call first (V8 prints the innermost first). When there are
 * more than `maxFrames`, the ones nearest the throw are kept. Unparseable lines are skipped.
 */
export function parseV8StackTrace(stack: string, maxFrames: number = DEFAULT_MAX_FRAMES): StackFrame[] {
  const frames: StackFrame[] = [];
  try {
    if (typeof stack !== 'string') return frames;
    const limit = typeof maxFrames === 'number' && !Number.isNaN(maxFrames) ? Math.max(0, Math.floor(maxFrames)) : DEFAULT_MAX_FRAMES;
    const text = capStack(stack);
    let start = 0;
    while (start <= text.length && frames.length < limit) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const line = text.slice(start, end);
      start = end + 1;
      const frame = parseFrameLine(line);
      if (frame !== undefined) frames.push(frame);
      // A cause chain (util.inspect's "[cause]:", Java-style "Caused by:") belongs to another exception.
      else if (frames.length > 0 && CAUSE_HEADER.test(line)) break;
    }
  } catch {
    // Keep whatever parsed; a partial stack beats none.
  }
  return frames.reverse();
}

/** One `$exception_list` entry. Type and message missing from the attributes are taken from the stack's header line. */
export function buildExceptionList(exc: ExceptionAttributes, handled: boolean = true): PostHogException[] {
  const mechanism = { type: 'generic', handled: handled !== false, synthetic: false } as const;
  try {
    const stack = typeof exc?.stacktrace === 'string' ? exc.stacktrace : undefined;
    let type = textOf(exc?.type);
    let value = textOf(exc?.message);
    if (stack !== undefined && (type === undefined || value === undefined)) {
      const header = parseHeader(stack);
      if (header !== undefined) {
        type ??= header.type;
        value ??= header.message;
      }
    }
    const entry: PostHogException = { type: type ?? 'Error', value: value ?? '', mechanism };
    const frames = stack === undefined ? [] : parseV8StackTrace(stack);
    if (frames.length > 0) entry.stacktrace = { type: 'raw', frames };
    return [entry];
  } catch {
    return [{ type: 'Error', value: '', mechanism }];
  }
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

const CAUSE_HEADER = /^\s*(?:\[cause\]:|Caused by:)/;
/** `TypeError`, `errors.MyError`, Node's `TypeError [ERR_INVALID_ARG_TYPE]`. */
const ERROR_NAME = /^([A-Za-z_$][\w$.]*)(?: \[[^\]]*\])?$/;
const DIGITS = /^\d+$/;
const INDEX_LOCATION = /^index \d+$/;
/** `(path:line:col)` with no parentheses inside: the innermost origin of an eval location. */
const PAREN_LOCATION = /\(([^()]+)\)/g;

function capStack(stack: string): string {
  if (stack.length <= MAX_STACK_CHARS) return stack;
  const head = stack.slice(0, MAX_STACK_CHARS);
  // Drop the cut-off last line rather than parse half a location.
  const nl = head.lastIndexOf('\n');
  return nl === -1 ? head : head.slice(0, nl);
}

function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** The body after "at ", or undefined when the line is not a frame line. */
function frameBody(line: string): string | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('at ') && !trimmed.startsWith('at\t')) return undefined;
  let body = trimmed.slice(3).trim();
  // util.inspect appends " {" to the last frame when the error has extra properties.
  if (body.endsWith(' {')) body = body.slice(0, -2).trimEnd();
  return body === '' ? undefined : body;
}

function parseFrameLine(line: string): StackFrame | undefined {
  let body = frameBody(line);
  if (body === undefined) return undefined;
  // "async" marks an await continuation, not part of the name.
  if (body.startsWith('async ')) body = body.slice(6).trimStart();

  let fn: string | undefined;
  let location = body;
  let bare = true;
  if (body.endsWith(')')) {
    const open = matchingOpenParen(body);
    if (open !== -1) {
      fn = body.slice(0, open).trim();
      location = body.slice(open + 1, -1).trim();
      bare = false;
    }
  }

  const loc = parseLocation(location);
  // A bare "at <text>" that is no location is message text or noise, not a frame.
  if (loc === undefined || (bare && loc.lineno === undefined && !loc.builtin)) return undefined;

  const name = fn === undefined || fn === '' ? '?' : fn;
  const inApp = !loc.builtin && isInApp(loc.filename);
  const frame: StackFrame =
    loc.filename === undefined
      ? { platform: 'node:javascript', function: name, in_app: inApp }
      : { platform: 'node:javascript', filename: loc.filename, abs_path: loc.filename, function: name, in_app: inApp };
  if (loc.lineno !== undefined) frame.lineno = loc.lineno;
  if (loc.colno !== undefined) frame.colno = loc.colno;
  return frame;
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

interface Location {
  filename?: string;
  lineno?: number;
  colno?: number;
  /** V8 built-ins: `native`, `index N` (Promise.all and friends), `<anonymous>` without a position. */
  builtin: boolean;
}

function parseLocation(location: string): Location | undefined {
  if (location === '') return undefined;
  if (location === 'native' || location === '<anonymous>' || location === 'unknown location' || INDEX_LOCATION.test(location)) {
    return { builtin: true };
  }
  if (location.startsWith('eval at ')) {
    // Point at the code that called eval: the innermost "(file:line:col)" of the chain.
    for (const m of location.matchAll(PAREN_LOCATION)) {
      const inner = parsePosition(m[1] ?? '');
      if (inner.lineno !== undefined) return inner;
    }
    const tail = location.slice(location.lastIndexOf(',') + 1).trim();
    const pos = parsePosition(tail);
    return pos.lineno === undefined ? undefined : pos;
  }
  return parsePosition(location);
}

/** `path:line:col`, `path:line` or a bare path. Split from the right so Windows drive colons survive. */
function parsePosition(text: string): Location {
  let path = text;
  let lineno: number | undefined;
  let colno: number | undefined;
  const c2 = text.lastIndexOf(':');
  if (c2 > 0 && DIGITS.test(text.slice(c2 + 1))) {
    const c1 = text.lastIndexOf(':', c2 - 1);
    if (c1 > 0 && DIGITS.test(text.slice(c1 + 1, c2))) {
      path = text.slice(0, c1);
      lineno = toInt(text.slice(c1 + 1, c2));
      colno = toInt(text.slice(c2 + 1));
    } else {
      path = text.slice(0, c2);
      lineno = toInt(text.slice(c2 + 1));
    }
  }
  const loc: Location = { filename: normalisePath(path), builtin: false };
  if (lineno !== undefined) loc.lineno = lineno;
  if (colno !== undefined) loc.colno = colno;
  return loc;
}

function toInt(digits: string): number | undefined {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** ESM frames carry file:// URLs; PostHog wants the plain path. */
function normalisePath(path: string): string {
  if (!path.startsWith('file://')) return path;
  const rest = path.slice(7);
  // file:///C:/x → C:/x; file://host/share → //host/share (UNC).
  let plain = rest.startsWith('/') ? (/^\/[A-Za-z]:[/\\]/.test(rest) ? rest.slice(1) : rest) : `//${rest}`;
  try {
    plain = decodeURIComponent(plain);
  } catch {
    // Malformed escapes: keep them as written.
  }
  return plain;
}

function isInApp(filename: string | undefined): boolean {
  if (filename === undefined || filename === '') return false;
  // "internal/" is how Node before the node: scheme named its own modules.
  if (filename.startsWith('node:') || filename.startsWith('internal/')) return false;
  return !filename.includes('/node_modules/') && !filename.includes('\\node_modules\\');
}

/** `Type: message` (message may span lines) from the text before the first frame line. */
function parseHeader(stack: string): { type: string; message: string } | undefined {
  const text = capStack(stack);
  let headerEnd = text.length;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (frameBody(text.slice(start, end)) !== undefined) {
      headerEnd = start;
      break;
    }
    start = end + 1;
  }
  const header = text.slice(0, headerEnd).trimEnd();
  if (header === '') return undefined;
  const firstNl = header.indexOf('\n');
  const sep = header.indexOf(':');
  let namePart: string;
  let message: string;
  if (sep !== -1 && (firstNl === -1 || sep < firstNl)) {
    namePart = header.slice(0, sep);
    message = header.slice(sep + 1).replace(/^ /, '');
  } else {
    namePart = firstNl === -1 ? header : header.slice(0, firstNl);
    message = firstNl === -1 ? '' : header.slice(firstNl + 1);
  }
  const m = ERROR_NAME.exec(namePart.trim());
  if (m?.[1] === undefined) return undefined;
  return { type: m[1], message };
}

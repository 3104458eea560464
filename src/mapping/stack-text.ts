// Splits the text of a stack into the exceptions it describes. Node's `err.stack` holds one; loggers
// print the causes after it: util.inspect as indented `[cause]: …` blocks (`cause: …` for a cause set
// as a property) and an AggregateError's `[errors]: [ … ]`, pino and Java-style tools as
// `caused by: …` lines. Each exception keeps its own frame lines, so a cause's frames never end up in
// its parent's stack.

/** One exception found in the text, with the exceptions linked to it. */
export interface StackNode {
  /** Header lines (`Type: message`, message continuation lines), indentation removed. */
  header: string[];
  /** A cause that is no error but a string (util.inspect's `[cause]: 'text'`): its text. */
  literal?: string;
  /** Frame lines as printed, trimmed, innermost first. */
  frameLines: string[];
  cause?: StackNode;
  /** The errors of an AggregateError, in order. */
  members: StackNode[];
}

/** Bounds the work on hostile input: real texts are a few KiB. */
export const MAX_STACK_CHARS = 128 * 1024;

const CAUSE_HEADER = /^(\[cause\]|caused by):\s?(.*)$/i;
/** util.inspect prints a `cause` set as an ordinary property (`err.cause = e`) as `cause: …` among the properties. */
const CAUSE_PROPERTY = /^cause:\s?(.*)$/;
const ERRORS_OPEN = /^\[errors\]:\s*\[$/;
/** util.inspect's `... 3 lines matching cause stack trace ...`: frames it left out because the cause has them. */
const ELIDED = /^\.\.\. (\d+) lines? matching cause stack trace \.\.\.$/;
/** util.inspect's `... collapsed 48 duplicate lines matching above 2 lines 24 times...`: a recursion it printed once. */
const COLLAPSED = /^\.\.\. collapsed \d+ duplicate lines? matching above (\d+) lines? (\d+) times?\.\.\.( \{|,)?$/;
/** Frame lines a collapsed run may be expanded to: a stack is at most this long to be read anyway. */
const MAX_EXPANDED_LINES = 1000;
const QUOTED = /^'(.*)'$/s;
/** util.inspect's form of an error without frames: `[TypeError: x]`, maybe followed by its properties. */
const BRACKETED = /^\[([^\s[\]][^]*?)\](?: \{.*)?$/s;
/** `TypeError`, `errors.MyError`, Node's `TypeError [ERR_INVALID_ARG_TYPE]`. */
const ERROR_NAME = /^([A-Za-z_$][\w$.]*)(?: \[[^\]]*\])?$/;

interface OpenNode {
  node: StackNode;
  /** Column of the node's properties (`[cause]:`, `[errors]:`). */
  bodyIndent: number;
  /** Column where its header starts, removed from continuation lines. */
  headerIndent: number;
  /** Column of its frame lines, set by the first one. */
  frameIndent?: number;
  /** Frames may still follow (none yet, or nothing but frames since the first). */
  framesOpen: boolean;
  /** Left-out frames to restore from the cause: after which frame, how many. */
  elided?: { after: number; count: number };
}

interface ErrorsList {
  owner: OpenNode;
  memberIndent: number;
}

/** The exception tree of a stack text. Never throws; text it cannot place is skipped. */
export function parseStackText(text: string): StackNode {
  const root: StackNode = { header: [], frameLines: [], members: [] };
  const rootOpen: OpenNode = { node: root, bodyIndent: 2, headerIndent: 0, framesOpen: true };
  const all: OpenNode[] = [rootOpen];
  try {
    const lines = withoutColours(capText(text)).split(/\r?\n/);
    const firstIndent = lines.findIndex((line) => line.trim() !== '');
    if (firstIndent > 0) lines.splice(0, firstIndent);
    const base = indentOf(lines[0] ?? '');
    rootOpen.bodyIndent = base + 2;
    rootOpen.headerIndent = base;
    // Exceptions whose properties may still follow, innermost last.
    const open: OpenNode[] = [rootOpen];
    const lists: ErrorsList[] = [];
    let last = rootOpen;
    let previous = '';
    for (const line of lines) {
      const trimmed = line.trim();
      const indent = indentOf(line);
      const afterComma = previous.endsWith(',') || ERRORS_OPEN.test(previous);
      if (trimmed !== '') previous = trimmed;
      if (trimmed === '') {
        if (last.framesOpen && last.node.frameLines.length === 0 && last.node.header.length > 0) last.node.header.push('');
        continue;
      }

      if (trimmed.startsWith('at ') || trimmed.startsWith('at\t')) {
        if (last.framesOpen && (last.frameIndent === undefined || last.frameIndent === indent)) {
          last.frameIndent = indent;
          last.node.frameLines.push(trimmed);
          if (trimmed.endsWith(' {') || trimmed.endsWith(',')) last.framesOpen = false;
        }
        continue;
      }
      const collapsed = COLLAPSED.exec(trimmed);
      if (collapsed && last.framesOpen && last.node.frameLines.length > 0) {
        expandCollapsed(last.node.frameLines, Number(collapsed[1]), Number(collapsed[2]));
        // The last line of a stack gets util.inspect's " {" or "," too.
        if (collapsed[3] !== undefined) last.framesOpen = false;
        continue;
      }
      const elided = ELIDED.exec(trimmed);
      if (elided && last.framesOpen && last.node.frameLines.length > 0) {
        last.elided = { after: last.node.frameLines.length, count: Number(elided[1]) };
        continue;
      }

      const cause = causeHeader(trimmed, last.framesOpen);
      // A `caused by:` line inside a message that has no frames yet is part of that message.
      if (cause && (cause.inspectStyle || last.node.frameLines.length > 0 || !last.framesOpen)) {
        const parent = cause.inspectStyle ? (ownerAt(open, indent) ?? last) : last;
        closeAbove(open, parent);
        last.framesOpen = false;
        const node = causeNode(cause.rest);
        if (node === undefined) continue;
        if (parent.node.cause === undefined) parent.node.cause = node;
        // A string, or util.inspect's one-line `[Type: message]`, is the whole cause: nothing more is its message.
        const whole = node.literal !== undefined || BRACKETED.test(cause.rest.trim());
        const opened: OpenNode = { node, bodyIndent: indent + 2, headerIndent: indent, framesOpen: !whole };
        all.push(opened);
        open.push(opened);
        last = opened;
        continue;
      }
      if (ERRORS_OPEN.test(trimmed)) {
        const owner = ownerAt(open, indent) ?? last;
        closeAbove(open, owner);
        last.framesOpen = false;
        lists.push({ owner, memberIndent: indent + 2 });
        continue;
      }
      const list = lists.at(-1);
      if (list !== undefined && indent < list.memberIndent && (trimmed === ']' || trimmed === '],')) {
        lists.pop();
        closeAbove(open, list.owner);
        last.framesOpen = false;
        continue;
      }
      if (list !== undefined && indent === list.memberIndent && afterComma && !trimmed.startsWith('}') && !trimmed.startsWith(']')) {
        closeAbove(open, list.owner);
        const node: StackNode = { header: [trimmed], frameLines: [], members: [] };
        list.owner.node.members.push(node);
        const opened: OpenNode = { node, bodyIndent: indent + 2, headerIndent: indent, framesOpen: true };
        all.push(opened);
        open.push(opened);
        last = opened;
        continue;
      }

      // Before the first frame the message goes on; after it come properties, braces or noise.
      if (last.framesOpen && last.node.frameLines.length === 0) last.node.header.push(dedent(line, last.headerIndent));
    }
    // Deepest first: a cause's own left-out frames are restored before its parent reads them.
    for (let i = all.length - 1; i >= 0; i--) restoreElided(all[i]!);
  } catch {
    // Keep whatever was read; a partial tree beats none.
  }
  return root;
}

/**
 * A line that starts a cause: `[cause]:` (util.inspect, laid out by indentation), `caused by:` in any
 * case (pino, Java-style), or `cause:` where properties are printed (after the frames closed).
 */
function causeHeader(trimmed: string, framesOpen: boolean): { inspectStyle: boolean; rest: string } | undefined {
  const header = CAUSE_HEADER.exec(trimmed);
  if (header) return { inspectStyle: header[1]!.startsWith('['), rest: header[2] ?? '' };
  const property = framesOpen ? null : CAUSE_PROPERTY.exec(trimmed);
  return property ? { inspectStyle: true, rest: property[1] ?? '' } : undefined;
}

/** Repeats the last `span` frame lines `times` times, as util.inspect left them out. */
function expandCollapsed(lines: string[], span: number, times: number): void {
  if (!(span > 0) || span > lines.length) return;
  const run = lines.slice(-span);
  for (let i = 0; i < times && lines.length + span <= MAX_EXPANDED_LINES; i++) lines.push(...run);
}

function capText(text: string): string {
  if (text.length <= MAX_STACK_CHARS) return text;
  const head = text.slice(0, MAX_STACK_CHARS);
  // Drop the cut-off last line rather than read half of it.
  const nl = head.lastIndexOf('\n');
  return nl === -1 ? head : head.slice(0, nl);
}

/** Terminal colour codes (util.inspect's `colors`, pretty printers) hide frame lines and headers. */
const ESC = String.fromCharCode(0x1b);
const ANSI_ESCAPE = new RegExp(`${ESC}\\[[0-9;]*[A-Za-z]`, 'g');

function withoutColours(text: string): string {
  return text.includes(ESC) ? text.replace(ANSI_ESCAPE, '') : text;
}

function indentOf(line: string): number {
  let i = 0;
  while (i < line.length && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
  return i;
}

function dedent(line: string, columns: number): string {
  const cut = Math.min(columns, indentOf(line));
  return line.slice(cut).trimEnd();
}

/** The open exception whose properties sit at this column. */
function ownerAt(open: readonly OpenNode[], indent: number): OpenNode | undefined {
  for (let i = open.length - 1; i >= 0; i--) {
    if (open[i]!.bodyIndent === indent) return open[i];
  }
  return undefined;
}

/** Exceptions opened after `owner` have ended: what follows belongs to `owner` or its ancestors. */
function closeAbove(open: OpenNode[], owner: OpenNode): void {
  const at = open.lastIndexOf(owner);
  if (at !== -1) open.length = at + 1;
}

/**
 * The exception a cause header starts: an error's header (also util.inspect's `[Type: message]`
 * for an error without frames), a string, or nothing for other values (objects, numbers: util.inspect
 * prints whatever was given as the cause, and they are no exceptions).
 */
function causeNode(rest: string): StackNode | undefined {
  const text = rest.trim();
  if (text === '') return { header: [], frameLines: [], members: [] };
  const quoted = QUOTED.exec(text);
  if (quoted) return { header: [], literal: quoted[1] ?? '', frameLines: [], members: [] };
  return isErrorHeader(text) ? { header: [text], frameLines: [], members: [] } : undefined;
}

/** Names util.inspect prints for values that are not errors: `[Function: f]`, `[Object: null prototype] {…}`, `[Getter]`… */
const NOT_ERROR_NAMES = new Set([
  'Function',
  'AsyncFunction',
  'GeneratorFunction',
  'AsyncGeneratorFunction',
  'Object',
  'Array',
  'Getter',
  'Setter',
  'Circular',
  'Symbol',
]);

/** `Type: message`, or a bare name that says it is an error (`TypeError`, `IOException`): not `null`, `42` or `[Function: f]`. */
function isErrorHeader(text: string): boolean {
  const header = parseHeader([text]);
  if (header === undefined || NOT_ERROR_NAMES.has(header.type)) return false;
  return text.includes(':') || /(?:Error|Exception)$/.test(header.type);
}

/** `Type: message` (the message may span lines); undefined when the first line names no error type. */
export function parseHeader(lines: readonly string[]): { type: string; message: string } | undefined {
  const first = lines[0];
  if (first === undefined) return undefined;
  const bracketed = BRACKETED.exec(first.trim());
  const header = (bracketed ? [bracketed[1] ?? '', ...lines.slice(1)] : lines).join('\n').trimEnd();
  if (header.trim() === '') return undefined;
  const firstNl = header.indexOf('\n');
  const colon = header.indexOf(':');
  let name: string;
  let message: string;
  if (colon !== -1 && (firstNl === -1 || colon < firstNl)) {
    name = header.slice(0, colon);
    message = header.slice(colon + 1).replace(/^ /, '');
  } else {
    name = firstNl === -1 ? header : header.slice(0, firstNl);
    message = firstNl === -1 ? '' : header.slice(firstNl + 1);
  }
  const m = ERROR_NAME.exec(name.trim());
  return m?.[1] === undefined ? undefined : { type: m[1], message };
}

/**
 * util.inspect leaves out the frames an exception shares with its cause, keeping the first and last
 * of the run: the run continues in the cause's frames after the kept first one.
 */
function restoreElided(open: OpenNode): void {
  const elided = open.elided;
  const cause = open.node.cause;
  if (elided === undefined || cause === undefined) return;
  const lines = open.node.frameLines;
  const anchor = lines[elided.after - 1];
  if (anchor === undefined) return;
  const wanted = stripSeparator(anchor);
  const start = cause.frameLines.findIndex((line) => stripSeparator(line) === wanted);
  if (start === -1) return;
  const restored = cause.frameLines.slice(start + 1, start + 1 + elided.count).map(stripSeparator);
  lines.splice(elided.after, 0, ...restored);
}

function stripSeparator(line: string): string {
  if (line.endsWith(' {')) return line.slice(0, -2);
  return line.endsWith(',') ? line.slice(0, -1) : line;
}

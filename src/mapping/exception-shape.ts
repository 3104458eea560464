// Error tracking parses a `$exception`'s properties strictly: one field of another type and the
// whole event is dead-lettered, with no sign to the sender. The mapping builds them so they parse;
// a `$exception` a `beforeSend` hook returns is checked here, so one it broke is counted, not lost.

const MAX_U32 = 0xffff_ffff;
const MIN_I32 = -0x8000_0000;
const MAX_I32 = 0x7fff_ffff;
/** Frame platforms error tracking knows; a frame of another one fails the event. */
const PLATFORMS: ReadonlySet<string> = new Set([
  'node:javascript',
  'web:javascript',
  'javascript',
  'python',
  'ruby',
  'go',
  'php',
  'hermes',
  'java',
  'dart',
  'apple',
  'native',
  'rust',
  'custom',
]);

/** Why error tracking could not read these `$exception` properties; undefined when it can. */
export function exceptionPropertiesProblem(properties: Readonly<Record<string, unknown>>): string | undefined {
  try {
    const list = properties.$exception_list;
    if (!Array.isArray(list)) return '$exception_list is missing or not a list';
    if (list.length === 0) return '$exception_list is empty';
    for (let i = 0; i < list.length; i++) {
      const problem = exceptionProblem(list[i]);
      if (problem !== undefined) return `$exception_list[${i}]${problem}`;
    }
    for (const key of ['$exception_fingerprint', '$issue_name', '$issue_description']) {
      if (!optional(properties[key], isString)) return `${key} is not a string`;
    }
    if (!optional(properties.$exception_handled, isBoolean)) return '$exception_handled is not a boolean';
    if (properties.$debug_images !== undefined && !Array.isArray(properties.$debug_images)) return '$debug_images is not a list';
    return undefined;
  } catch {
    return 'the properties cannot be read';
  }
}

function exceptionProblem(entry: unknown): string | undefined {
  if (!isObject(entry)) return ' is not an object';
  if (!isString(entry.type)) return '.type is not a string';
  if (entry.value !== undefined && !isString(entry.value)) return '.value is not a string';
  if (!optional(entry.id, isString)) return '.id is not a string';
  if (!optional(entry.module, isString)) return '.module is not a string';
  if (!optional(entry.thread_id, (v) => Number.isInteger(v) && (v as number) >= MIN_I32 && (v as number) <= MAX_I32))
    return '.thread_id is not a 32-bit integer';
  const mechanism = entry.mechanism;
  if (mechanism !== undefined && mechanism !== null) {
    if (!isObject(mechanism)) return '.mechanism is not an object';
    if (!optional(mechanism.handled, isBoolean) || !optional(mechanism.synthetic, isBoolean))
      return '.mechanism.handled or .synthetic is not a boolean';
    if (!optional(mechanism.type, isString) || !optional(mechanism.source, isString)) return '.mechanism.type or .source is not a string';
  }
  const stacktrace = entry.stacktrace;
  if (stacktrace === undefined || stacktrace === null) return undefined;
  if (!isObject(stacktrace) || stacktrace.type !== 'raw') return '.stacktrace is not {type: "raw", frames}';
  if (!Array.isArray(stacktrace.frames)) return '.stacktrace.frames is not a list';
  for (let j = 0; j < stacktrace.frames.length; j++) {
    const problem = frameProblem(stacktrace.frames[j]);
    if (problem !== undefined) return `.stacktrace.frames[${j}]${problem}`;
  }
  return undefined;
}

function frameProblem(frame: unknown): string | undefined {
  if (!isObject(frame)) return ' is not an object';
  if (typeof frame.platform !== 'string' || !PLATFORMS.has(frame.platform)) return '.platform is not one error tracking knows';
  // Other platforms' frames have fields of their own; this exporter writes node frames only.
  if (frame.platform !== 'node:javascript') return undefined;
  if (!isString(frame.filename)) return '.filename is not a string';
  if (!isString(frame.function)) return '.function is not a string';
  if (!optional(frame.lineno, isU32) || !optional(frame.colno, isU32)) return '.lineno or .colno is not an unsigned 32-bit integer';
  for (const key of ['module', 'context_line', 'chunk_id', 'chunkId']) {
    if (!optional(frame[key], isString)) return `.${key} is not a string`;
  }
  if ('chunk_id' in frame && 'chunkId' in frame) return ' has both chunk_id and chunkId';
  for (const key of ['in_app', 'synthetic']) {
    if (frame[key] !== undefined && !isBoolean(frame[key])) return `.${key} is not a boolean`;
  }
  for (const key of ['pre_context', 'post_context']) {
    const lines = frame[key];
    if (lines !== undefined && !isStringList(lines)) return `.${key} is not a list of strings`;
  }
  return undefined;
}

/** Absent or null, or passing `check`. */
function optional(value: unknown, check: (value: unknown) => boolean): boolean {
  return value === undefined || value === null || check(value);
}

function isString(value: unknown): boolean {
  return typeof value === 'string';
}

/** A list of strings, holes included (JSON writes them as null): `every` would skip them. */
function isStringList(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
  return true;
}

function isBoolean(value: unknown): boolean {
  return typeof value === 'boolean';
}

function isU32(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_U32;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

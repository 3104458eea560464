// What PostHog error tracking (cymbal) requires of a `$exception` event's properties to parse them,
// written from cymbal's serde types (`RawExceptionProperties`, `Exception`, `Mechanism`, `Stacktrace`,
// `RawFrame`, `RawNodeFrame`, `CommonFrameMetadata`), independently of the code under test. An event
// that fails here goes to cymbal's dead-letter queue: no issue, no error event, no signal to the
// sender.
//
// serde rules that matter here: `Option<T>` takes null or absence; a field with `#[serde(default)]`
// (a `String`, `Vec` or `bool`) takes absence but not null; an enum tagged by a field refuses a tag
// it does not know; no struct here denies unknown fields.

const U32_MAX = 0xffff_ffff;
const I32_MIN = -0x8000_0000;
const I32_MAX = 0x7fff_ffff;
/** cymbal walks `$exception_list` before parsing it and gives up past this depth. */
const MAX_LIST_DEPTH = 64;
/** Frame platforms cymbal knows (`RawFrame`'s tags). Only `node:javascript` frames are checked field by field. */
const KNOWN_PLATFORMS = new Set([
  'python',
  'ruby',
  'web:javascript',
  'node:javascript',
  'go',
  'php',
  'hermes',
  'java',
  'dart',
  'apple',
  'native',
  'rust',
  'custom',
  'javascript',
]);

/** Every reason cymbal could not parse these properties, as they go on the wire; empty when it can. */
export function cymbalProblems(given: Record<string, unknown>): string[] {
  let properties: Record<string, unknown>;
  try {
    // What is sent: undefined members left out, holes in arrays as null.
    properties = JSON.parse(JSON.stringify(given)) as Record<string, unknown>;
  } catch (error) {
    return [`the properties are not JSON: ${String(error)}`];
  }
  const problems: string[] = [];
  // cymbal parses the event's properties JSON as a whole: one lone-surrogate escape anywhere fails it.
  checkWellFormed(properties, 'properties', problems, 0);
  if (!('$exception_list' in properties) || properties.$exception_list === undefined) return [...problems, '$exception_list is missing'];
  const list = properties.$exception_list;
  if (!Array.isArray(list)) return [...problems, `$exception_list must be an array, got ${describe(list)}`];
  if (list.length === 0) problems.push('$exception_list is empty');
  if (depthOf(list, 0) > MAX_LIST_DEPTH) problems.push(`$exception_list is nested deeper than ${MAX_LIST_DEPTH} levels`);
  list.forEach((entry, i) => checkException(entry, `$exception_list[${i}]`, problems));
  // Other properties cymbal reads with a type of their own.
  optional(properties, '$exception_fingerprint', 'properties', problems, isString, 'a string');
  optional(properties, '$issue_name', 'properties', problems, isString, 'a string');
  optional(properties, '$issue_description', 'properties', problems, isString, 'a string');
  optional(properties, '$exception_handled', 'properties', problems, isBoolean, 'a boolean');
  defaulted(properties, '$debug_images', 'properties', problems, Array.isArray, 'an array');
  return problems;
}

function checkException(entry: unknown, at: string, problems: string[]): void {
  if (!isObject(entry)) return void problems.push(`${at} is not an object`);
  requireString(entry, 'type', at, problems);
  defaulted(entry, 'value', at, problems, isString, 'a string');
  optional(entry, 'id', at, problems, isString, 'a string');
  optional(entry, 'module', at, problems, isString, 'a string');
  optional(entry, 'thread_id', at, problems, (v) => Number.isInteger(v) && (v as number) >= I32_MIN && (v as number) <= I32_MAX, 'an i32');
  const mechanism = entry.mechanism;
  if (mechanism !== undefined && mechanism !== null) {
    if (!isObject(mechanism)) problems.push(`${at}.mechanism is not an object`);
    else {
      optional(mechanism, 'handled', `${at}.mechanism`, problems, isBoolean, 'a boolean');
      optional(mechanism, 'type', `${at}.mechanism`, problems, isString, 'a string');
      optional(mechanism, 'source', `${at}.mechanism`, problems, isString, 'a string');
      optional(mechanism, 'synthetic', `${at}.mechanism`, problems, isBoolean, 'a boolean');
    }
  }
  const stacktrace = entry.stacktrace;
  if (stacktrace === undefined || stacktrace === null) return;
  if (!isObject(stacktrace)) return void problems.push(`${at}.stacktrace is not an object`);
  // Tagged by `type`: `raw` (frames as sent) or `resolved` (cymbal's own output, which no SDK sends).
  if (stacktrace.type !== 'raw') return void problems.push(`${at}.stacktrace.type must be "raw", got ${describe(stacktrace.type)}`);
  if (!Array.isArray(stacktrace.frames))
    return void problems.push(`${at}.stacktrace.frames must be an array, got ${describe(stacktrace.frames)}`);
  stacktrace.frames.forEach((frame, j) => checkFrame(frame, `${at}.stacktrace.frames[${j}]`, problems));
}

/** A raw frame is tagged by `platform`; for `node:javascript` it is a RawNodeFrame. */
function checkFrame(frame: unknown, at: string, problems: string[]): void {
  if (!isObject(frame)) return void problems.push(`${at} is not an object`);
  const platform = frame.platform;
  if (typeof platform !== 'string') return void problems.push(`${at}.platform is required and must be a string, got ${describe(platform)}`);
  if (!KNOWN_PLATFORMS.has(platform))
    return void problems.push(`${at}.platform ${JSON.stringify(platform)} is no platform error tracking knows`);
  // Node frames are all this exporter sends; another platform's fields are not checked here.
  if (platform !== 'node:javascript')
    return void problems.push(`${at}.platform is ${JSON.stringify(platform)}, not node:javascript: not checked`);
  requireString(frame, 'filename', at, problems);
  requireString(frame, 'function', at, problems);
  optional(frame, 'lineno', at, problems, isU32, 'an unsigned 32-bit integer');
  optional(frame, 'colno', at, problems, isU32, 'an unsigned 32-bit integer');
  optional(frame, 'module', at, problems, isString, 'a string');
  optional(frame, 'context_line', at, problems, isString, 'a string');
  optional(frame, 'chunk_id', at, problems, isString, 'a string');
  optional(frame, 'chunkId', at, problems, isString, 'a string');
  if ('chunk_id' in frame && 'chunkId' in frame) problems.push(`${at} has both chunk_id and chunkId (one field, twice)`);
  // CommonFrameMetadata: plain booleans with defaults, so null does not parse.
  defaulted(frame, 'in_app', at, problems, isBoolean, 'a boolean');
  defaulted(frame, 'synthetic', at, problems, isBoolean, 'a boolean');
  for (const key of ['pre_context', 'post_context'])
    defaulted(frame, key, at, problems, (v) => Array.isArray(v) && v.every(isString), 'an array of strings');
}

function requireString(object: Record<string, unknown>, key: string, at: string, problems: string[]): void {
  if (!isString(object[key])) problems.push(`${at}.${key} is required and must be a well-formed string, got ${describe(object[key])}`);
}

/** Option<T>: absent or null, or a T. */
function optional(
  object: Record<string, unknown>,
  key: string,
  at: string,
  problems: string[],
  check: (value: unknown) => boolean,
  what: string,
): void {
  const value = object[key];
  if (value !== undefined && value !== null && !check(value)) problems.push(`${at}.${key} must be ${what}, got ${describe(value)}`);
}

/** `#[serde(default)] T`: absent, or a T; null is not a T. */
function defaulted(
  object: Record<string, unknown>,
  key: string,
  at: string,
  problems: string[],
  check: (value: unknown) => boolean,
  what: string,
): void {
  const value = object[key];
  if (value !== undefined && !check(value)) problems.push(`${at}.${key} must be ${what} (null is not), got ${describe(value)}`);
}

/** Lone surrogates anywhere (keys too): JSON writes them as escapes serde refuses. */
function checkWellFormed(value: unknown, at: string, problems: string[], depth: number): void {
  if (problems.length > 20 || depth > 200) return;
  if (typeof value === 'string') {
    if (!isString(value)) problems.push(`${at} holds a lone UTF-16 surrogate: the properties do not parse`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    if (!isString(key)) problems.push(`${at} has a key with a lone UTF-16 surrogate: the properties do not parse`);
    checkWellFormed(child, `${at}.${key}`, problems, depth + 1);
  }
}

function depthOf(value: unknown, depth: number): number {
  if (typeof value !== 'object' || value === null || depth > MAX_LIST_DEPTH) return depth;
  let deepest = depth;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child, depth + 1));
  return deepest;
}

/** serde's String: lone surrogates (escaped in JSON) do not parse. */
function isString(value: unknown): boolean {
  return typeof value === 'string' && (value as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function isBoolean(value: unknown): boolean {
  return typeof value === 'boolean';
}

function isU32(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= U32_MAX;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

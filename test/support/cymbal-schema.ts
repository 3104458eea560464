// What PostHog error tracking (cymbal) requires of a `$exception` event's properties to parse them,
// written from cymbal's `Exception`, `Mechanism`, `Stacktrace` and `RawNodeFrame` types,
// independently of the code under test. An event that fails here goes to
// cymbal's dead-letter queue: no issue, no error event, no signal to the sender.

const U32_MAX = 0xffff_ffff;
const I32_MIN = -0x8000_0000;
const I32_MAX = 0x7fff_ffff;

/** Every reason cymbal could not parse these properties; empty when it can. */
export function cymbalProblems(properties: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const list = properties.$exception_list;
  if (!Array.isArray(list)) return ['$exception_list is missing or not an array'];
  if (list.length === 0) problems.push('$exception_list is empty');
  list.forEach((entry, i) => checkException(entry, `$exception_list[${i}]`, problems));
  return problems;
}

function checkException(entry: unknown, at: string, problems: string[]): void {
  if (!isObject(entry)) return void problems.push(`${at} is not an object`);
  requireString(entry, 'type', at, problems);
  optional(entry, 'value', at, problems, isString, 'a string');
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
  if (stacktrace.type !== 'raw') return void problems.push(`${at}.stacktrace.type is not "raw"`);
  if (!Array.isArray(stacktrace.frames)) return void problems.push(`${at}.stacktrace.frames is not an array`);
  stacktrace.frames.forEach((frame, j) => checkFrame(frame, `${at}.stacktrace.frames[${j}]`, problems));
}

/** A raw frame is tagged by `platform`; for `node:javascript` it is a RawNodeFrame. */
function checkFrame(frame: unknown, at: string, problems: string[]): void {
  if (!isObject(frame)) return void problems.push(`${at} is not an object`);
  if (typeof frame.platform !== 'string') return void problems.push(`${at}.platform is not a string`);
  if (frame.platform !== 'node:javascript') return;
  requireString(frame, 'filename', at, problems);
  requireString(frame, 'function', at, problems);
  optional(frame, 'lineno', at, problems, isU32, 'an unsigned 32-bit integer');
  optional(frame, 'colno', at, problems, isU32, 'an unsigned 32-bit integer');
  optional(frame, 'module', at, problems, isString, 'a string');
  optional(frame, 'context_line', at, problems, isString, 'a string');
  optional(frame, 'chunk_id', at, problems, isString, 'a string');
  optional(frame, 'in_app', at, problems, isBoolean, 'a boolean');
  optional(frame, 'synthetic', at, problems, isBoolean, 'a boolean');
  for (const key of ['pre_context', 'post_context']) {
    const value = frame[key];
    if (value !== undefined && !(Array.isArray(value) && value.every(isString))) problems.push(`${at}.${key} is not an array of strings`);
  }
}

function requireString(object: Record<string, unknown>, key: string, at: string, problems: string[]): void {
  if (!isString(object[key])) problems.push(`${at}.${key} is required and must be a well-formed string, got ${describe(object[key])}`);
}

/** Option<T>: absent or null, or a T. */
function optional(object: Record<string, unknown>, key: string, at: string, problems: string[], check: (value: unknown) => boolean, what: string): void {
  const value = object[key];
  if (value !== undefined && value !== null && !check(value)) problems.push(`${at}.${key} must be ${what}, got ${describe(value)}`);
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
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

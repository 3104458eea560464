// Turns arbitrary attribute values into data JSON.stringify can always serialise. Runs for every
// exported event, so primitives take a path that allocates nothing and every user hook is guarded.

export interface JsonSafeLimits {
  /** Container levels kept (the root is level 0); deeper containers become '[Truncated]'. Default 10, capped at 100. */
  maxDepth: number;
  /** Strings longer than this are cut to this many UTF-16 code units. Default: no limit. */
  maxStringLength?: number;
}

export const CIRCULAR = '[Circular]';
export const TRUNCATED = '[Truncated]';
export const UNSERIALIZABLE = '[unserializable]';

/** Counts the values that could not be converted and were replaced by {@link UNSERIALIZABLE}. */
export interface ConversionTally {
  unconvertible: number;
}

const DEFAULT_MAX_DEPTH = 10;
// Recursion depth follows container depth, so this cap is what keeps us clear of the call stack limit.
const MAX_DEPTH_CAP = 100;

/**
 * Values `JSON.stringify` writes exactly as it writes `toJsonSafe(value)`: strings, booleans, finite
 * numbers, null, and plain arrays of those (OpenTelemetry's attribute values). Such a value needs no
 * walk. Never throws: a revoked Proxy or an array with a `toJSON` of its own is simply not plain.
 */
export function isPlainJson(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      return value === null || isPlainArray(value);
    default:
      return false;
  }
}

function isPlainArray(value: object): boolean {
  try {
    return (
      Array.isArray(value) &&
      Object.getPrototypeOf(value) === Array.prototype &&
      (value as { toJSON?: unknown }).toJSON === undefined &&
      isPrimitiveArray(value)
    );
  } catch {
    return false;
  }
}

function isPrimitiveArray(values: readonly unknown[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value !== null && typeof value !== 'string' && typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value)))
      return false;
  }
  return true;
}

/** Returns a value JSON.stringify can serialise losslessly enough for analytics, never throws. */
export function toJsonSafe(value: unknown, limits?: Partial<JsonSafeLimits>, tally?: ConversionTally): unknown {
  // Primitives, the common case, need no walk state.
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) return String(value);
      return value === 0 ? 0 : value;
    case 'string':
      return cutString(value, stringLimit(limits));
    case 'bigint':
      return cutString(value.toString(), stringLimit(limits));
    case 'object':
      if (value === null) return null;
      break;
    default:
      return undefined;
  }
  try {
    const state: WalkState = { maxDepth: depthLimit(limits), maxStr: stringLimit(limits), ancestors: [], tally };
    return walk(value, 0, state, false);
  } catch {
    return unconvertible(tally);
  }
}

/** Same, for a whole attribute map; keys kept as they are. Returns a new object, never mutates the input. */
export function toJsonSafeProperties(
  attributes: Record<string, unknown>,
  limits?: Partial<JsonSafeLimits>,
  tally?: ConversionTally,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  try {
    if (attributes === null || typeof attributes !== 'object') return out;
    const maxStr = stringLimit(limits);
    // Created on the first non-primitive value, so flat maps allocate only `out`.
    let state: WalkState | undefined;
    for (const key in attributes) {
      if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
      let v: unknown;
      try {
        v = attributes[key];
      } catch {
        setKey(out, key, unconvertible(tally));
        continue;
      }
      if (typeof v === 'string') {
        setKey(out, key, v.length > maxStr ? cutString(v, maxStr) : v);
      } else if (typeof v === 'boolean' || v === null) {
        setKey(out, key, v);
      } else if (typeof v === 'number' && Number.isFinite(v)) {
        setKey(out, key, v === 0 ? 0 : v);
      } else {
        state ??= { maxDepth: depthLimit(limits), maxStr, ancestors: [attributes], tally };
        const safe = walk(v, 1, state, false);
        if (safe !== undefined) setKey(out, key, safe);
      }
    }
  } catch {
    // A hostile map (e.g. a Proxy throwing from ownKeys): keep whatever was copied.
    unconvertible(tally);
  }
  return out;
}

interface WalkState {
  maxDepth: number;
  maxStr: number;
  /** Containers on the path from the root to the current value; only these make a cycle. */
  ancestors: object[];
  tally: ConversionTally | undefined;
}

/** The marker for a value that could not be read or converted, counted. */
function unconvertible(tally: ConversionTally | undefined): string {
  if (tally !== undefined) tally.unconvertible++;
  return UNSERIALIZABLE;
}

function depthLimit(limits: Partial<JsonSafeLimits> | undefined): number {
  const d = readLimit(limits, 'maxDepth');
  if (typeof d !== 'number' || Number.isNaN(d)) return DEFAULT_MAX_DEPTH;
  return d <= 0 ? 0 : Math.min(Math.floor(d), MAX_DEPTH_CAP);
}

function stringLimit(limits: Partial<JsonSafeLimits> | undefined): number {
  const n = readLimit(limits, 'maxStringLength');
  if (typeof n !== 'number' || Number.isNaN(n)) return Infinity;
  return n <= 0 ? 0 : Math.floor(n);
}

/** An unreadable limits object means the defaults, not a lost value. */
function readLimit(limits: Partial<JsonSafeLimits> | undefined, key: keyof JsonSafeLimits): unknown {
  try {
    return limits?.[key];
  } catch {
    return undefined;
  }
}

function cutString(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  // Do not leave half of a surrogate pair at the end.
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return s.slice(0, end);
}

/** A key named "__proto__" must become an own property, not a prototype change. */
function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** undefined means "omit" (object member) or null (array element), as JSON.stringify does. */
function walk(value: unknown, depth: number, state: WalkState, skipToJSON: boolean): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > state.maxStr ? cutString(value, state.maxStr) : value;
    case 'number':
      // String(NaN) etc. give 'NaN', 'Infinity', '-Infinity'.
      if (!Number.isFinite(value)) return String(value);
      return value === 0 ? 0 : value;
    case 'boolean':
      return value;
    case 'bigint':
      return cutString(value.toString(), state.maxStr);
    case 'object':
      if (value === null) return null;
      try {
        return walkObject(value, depth, state, skipToJSON);
      } catch {
        // Proxies, revoked proxies, detached buffers, throwing iterators...
        return unconvertible(state.tally);
      }
    default:
      // undefined, function, symbol
      return undefined;
  }
}

function walkObject(obj: object, depth: number, state: WalkState, skipToJSON: boolean): unknown {
  const proto: unknown = Object.getPrototypeOf(obj);
  const plain = proto === Object.prototype || proto === null;
  const isArray = !plain && Array.isArray(obj);
  if (!plain && !isArray) {
    // Leaf-like objects become strings, whatever their depth.
    if (obj instanceof Date) {
      return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
    }
    // Checked before toJSON: Buffer#toJSON would give a long array of byte numbers.
    if (ArrayBuffer.isView(obj)) return base64(obj.buffer, obj.byteOffset, obj.byteLength, state.maxStr);
    if (obj instanceof ArrayBuffer || obj instanceof SharedArrayBuffer) {
      return base64(obj, 0, obj.byteLength, state.maxStr);
    }
    // Boxed primitives serialise as their primitive in JSON.stringify (BigInt would throw there).
    if (obj instanceof Number || obj instanceof String || obj instanceof Boolean || obj instanceof BigInt) {
      return walk(obj.valueOf(), depth, state, true);
    }
  }

  if (state.ancestors.includes(obj)) return CIRCULAR;
  if (depth >= state.maxDepth) return TRUNCATED;

  state.ancestors.push(obj);
  try {
    if (!skipToJSON) {
      const toJSON: unknown = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        let replaced: unknown;
        try {
          replaced = (toJSON as (key: string) => unknown).call(obj, '');
        } catch {
          return unconvertible(state.tally);
        }
        // The replacement stands in for obj at the same depth; its own toJSON is not called, as in JSON.stringify.
        if (replaced !== obj) return walk(replaced, depth, state, true);
      }
    }
    if (plain) return walkProps(obj, depth, state, {});
    if (isArray) return walkArray(obj as unknown[], depth, state);
    if (obj instanceof Map) return walkMap(obj, depth, state);
    if (obj instanceof Set) return walkArray(Array.from(obj), depth, state);
    if (obj instanceof Error) return walkError(obj, depth, state);
    return walkProps(obj, depth, state, {});
  } finally {
    state.ancestors.pop();
  }
}

function walkProps(
  obj: object,
  depth: number,
  state: WalkState,
  out: Record<string, unknown>,
  skip?: ReadonlySet<string>,
): Record<string, unknown> {
  const source = obj as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (skip?.has(key)) continue;
    let v: unknown;
    try {
      v = source[key];
    } catch {
      setKey(out, key, unconvertible(state.tally));
      continue;
    }
    const safe = walk(v, depth + 1, state, false);
    if (safe !== undefined) setKey(out, key, safe);
  }
  return out;
}

function walkArray(arr: unknown[], depth: number, state: WalkState): unknown[] {
  const out: unknown[] = [];
  const length = arr.length;
  for (let i = 0; i < length; i++) {
    let v: unknown;
    try {
      v = arr[i];
    } catch {
      out.push(unconvertible(state.tally));
      continue;
    }
    const safe = walk(v, depth + 1, state, false);
    out.push(safe === undefined ? null : safe);
  }
  return out;
}

function walkMap(map: Map<unknown, unknown>, depth: number, state: WalkState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of map) {
    let key: string;
    try {
      key = typeof k === 'string' ? k : String(k);
    } catch {
      // A key whose toString throws cannot be named: its entry is left out, and counted.
      unconvertible(state.tally);
      continue;
    }
    const safe = walk(v, depth + 1, state, false);
    if (safe !== undefined) setKey(out, key, safe);
  }
  return out;
}

const ERROR_OWN_FIELDS: ReadonlySet<string> = new Set(['name', 'message', 'stack']);

function walkError(err: Error, depth: number, state: WalkState): Record<string, unknown> {
  const name = readGuarded(err, 'name', state);
  const message = readGuarded(err, 'message', state);
  const stack = readGuarded(err, 'stack', state);
  const out: Record<string, unknown> = {
    name: typeof name === 'string' ? cutString(name, state.maxStr) : 'Error',
    message: message === undefined ? '' : (walk(message, depth + 1, state, false) ?? ''),
  };
  if (typeof stack === 'string') out.stack = cutString(stack, state.maxStr);
  // Enumerable extras such as Node's `code` / `errno` are worth keeping for analytics.
  return walkProps(err, depth, state, out, ERROR_OWN_FIELDS);
}

function readGuarded(obj: object, key: string, state: WalkState): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return unconvertible(state.tally);
  }
}

function base64(buffer: ArrayBufferLike, offset: number, length: number, maxStr: number): string {
  // With a string cap, encode only the bytes that can appear in the result.
  const bytes = maxStr === Infinity ? length : Math.min(length, Math.ceil(maxStr / 4) * 3);
  const encoded = Buffer.from(buffer, offset, bytes).toString('base64');
  return encoded.length > maxStr ? encoded.slice(0, maxStr) : encoded;
}

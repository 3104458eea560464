import type { EventResult } from './types.ts';

export type ParsedSuccess = { ok: true; results: Map<string, EventResult> } | { ok: false; reason: string };

/**
 * Reads a 2xx body's per-uuid `results`. Anything but a JSON object whose `results` is an object is
 * malformed, and a malformed success is terminal: a server that answers so would answer so again.
 * A body without `results` is malformed too (the stricter reading among the official SDKs). A body
 * that never arrived whole is not judged here: the send loop resends its events like any failed
 * exchange, within the attempt budget and the retry buffer's age limit.
 */
export function parseSuccessBody(body: string): ParsedSuccess {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'response body is not JSON' };
  }
  if (!isObject(parsed)) return { ok: false, reason: 'response body is not a JSON object' };
  const results = parsed.results;
  if (!isObject(results)) return { ok: false, reason: 'response has no results object' };
  const map = new Map<string, EventResult>();
  for (const key of Object.keys(results)) {
    const entry = results[key];
    if (!isObject(entry) || typeof entry.result !== 'string') continue;
    const details = typeof entry.details === 'string' ? entry.details : undefined;
    map.set(key.toLowerCase(), details === undefined ? { result: entry.result } : { result: entry.result, details });
  }
  return { ok: true, results: map };
}

const MAX_MESSAGE_LENGTH = 300;

/** A short human message from an error body (`error_description`, then `error`), for diagnostics only. */
export function errorMessageFromBody(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  for (const key of ['error_description', 'error', 'detail', 'message']) {
    const value = parsed[key];
    if (typeof value === 'string' && value.trim() !== '') return sanitizeMessage(value);
  }
  return undefined;
}

/**
 * Server text goes into logs: keep it short and printable. A cut drops the word it falls in: half
 * of an echoed API key would no longer match the key when diagnostics redact it.
 */
function sanitizeMessage(text: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (printable.length <= MAX_MESSAGE_LENGTH) return printable;
  const cut = printable.slice(0, MAX_MESSAGE_LENGTH + 1);
  const lastSpace = cut.lastIndexOf(' ');
  return `${lastSpace > 0 ? cut.slice(0, lastSpace) : ''}…`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

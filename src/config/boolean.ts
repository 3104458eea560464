const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** The spellings every boolean setting accepts, in any case, for messages. */
export const BOOLEAN_SPELLINGS = 'true/false, 1/0, yes/no or on/off';

/**
 * A boolean as people write it: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case, with
 * surrounding spaces ignored. Anything else is `undefined`: the caller warns and picks the fallback.
 */
export function parseBoolean(text: string): boolean | undefined {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

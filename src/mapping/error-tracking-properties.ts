// Properties beside `$exception_list` that error tracking reads with a type of its own. An attribute
// of the same name with a value of another type would fail the whole `$exception` there: it is
// dead-lettered, with no sign to the sender. So a `$exception` carries them in the type read.

/** Read as strings (`$exception_fingerprint` groups issues): other values are written as text. */
const TEXT_PROPERTIES: ReadonlySet<string> = new Set(['$exception_fingerprint', '$issue_name', '$issue_description']);

/** Error tracking derives these itself; posthog-node leaves them out of the properties a caller adds too. */
export const DERIVED_PROPERTIES: ReadonlySet<string> = new Set(['$exception_handled', '$debug_images']);

/** Whether a `$exception` cannot carry this attribute value as it is. */
export function needsTextForm(key: string, value: unknown): boolean {
  return TEXT_PROPERTIES.has(key) && typeof value !== 'string' && value !== null && value !== undefined;
}

/**
 * The JSON string a value of a {@link needsTextForm} property is sent as: numbers and booleans as
 * written, a value that converts to a string as that string, anything else as the text of its JSON
 * (`json`). Undefined when JSON has no value for it, as for any attribute.
 */
export function textFormJson(value: unknown, json: (value: unknown) => string | undefined): string | undefined {
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return `"${String(value)}"`;
    default: {
      const text = json(value);
      if (text === undefined) return undefined;
      return text.startsWith('"') ? text : JSON.stringify(text);
    }
  }
}

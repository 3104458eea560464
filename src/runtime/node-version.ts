// Runs before anything else of the package loads (index.ts imports it first, and it imports
// nothing): on an older Node.js, undici 8 and OpenTelemetry 3.x fail at import with errors that do
// not say why (Node.js 20: "TypeError: Cannot read properties of undefined (reading 'bind')").

/** The oldest Node.js the package runs on: undici 8 needs 22.19, whatever the OpenTelemetry line. */
export const MINIMUM_NODE_VERSION = '22.19.0';

/** The error message for a Node.js version that is too old; undefined when it is recent enough or not Node.js. */
export function unsupportedNodeMessage(version: string | undefined): string | undefined {
  const match = /^v?(\d+)\.(\d+)\.\d+/.exec(version ?? '');
  // Not a Node.js version string: another runtime, or one that does not say. Nothing to check.
  if (match === null) return undefined;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major > 22 || (major === 22 && minor >= 19)) return undefined;
  return (
    `opentelemetry-exporter-posthog needs Node.js 22.19 or later (22.19+, 24 or newer); this is Node.js ${version}. ` +
    'Upgrade Node.js: its HTTP client (undici 8) and OpenTelemetry JS 3.x do not load on older versions.'
  );
}

const message = unsupportedNodeMessage(globalThis.process?.versions?.node);
if (message !== undefined) throw new Error(message);

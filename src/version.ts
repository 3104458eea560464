// Kept in step with package.json by scripts/sync-version.mjs (run by `npm version`); a test checks it.
export const VERSION = '0.1.0';

// Kept in step with package.json by scripts/sync-version.mjs, which `npm version` runs; a test checks it.
export const VERSION = '0.1.0';

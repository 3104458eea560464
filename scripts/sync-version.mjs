// Writes package.json's version into src/version.ts. `npm version` runs it (the "version" script),
// so the PostHog-Sdk-Info header always names the version being published.
import { readFileSync, writeFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const path = 'src/version.ts';
const text = readFileSync(path, 'utf8').replace(/export const VERSION = '[^']*';/, `export const VERSION = '${version}';`);
writeFileSync(path, text);

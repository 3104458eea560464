// The examples and packaging tests run the built package (dist/), not the sources. `npm test` builds
// first; any other run (a bare `node --test`, `npm run test:unit` after an edit) builds here when
// dist/ is missing or older than a source file, so those tests never pass on stale code.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Newest modification time of any file under `dir`, in ms; 0 when there is none. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Builds the package in `repo` unless its entry point is newer than every file in src/. */
export function ensureBuilt(repo: string): void {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { exports: { '.': { import: { default: string } } } };
  let built = 0;
  try {
    built = statSync(join(repo, pkg.exports['.'].import.default)).mtimeMs;
  } catch {
    // Not built yet.
  }
  if (built > newestMtime(join(repo, 'src'))) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: repo, encoding: 'utf8', shell: process.platform === 'win32' });
  assert.equal(build.status, 0, build.stderr);
}

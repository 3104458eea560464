// The Node.js version check: a clear error, before any dependency loads, on a Node.js the package
// cannot run on. The pure check, then the real thing: the built package imported on Node.js 20,
// where undici would otherwise fail with a TypeError that does not say why.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { unsupportedNodeMessage } from '../../src/runtime/node-version.ts';
import { ensureBuilt } from '../support/built-package.ts';
import { runChild } from '../support/child-process.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('unsupportedNodeMessage', () => {
  test('Node.js before 22.19 gets a message naming the versions needed and the one running', () => {
    for (const version of ['20.20.2', 'v20.0.0', '18.20.8', '22.0.0', '22.18.0', '21.7.3', '16.0.0']) {
      const message = unsupportedNodeMessage(version);
      assert.ok(message !== undefined, version);
      assert.match(message, /^opentelemetry-exporter-posthog needs Node\.js 22\.19 or later \(22\.19\+, 24 or newer\); this is Node\.js /);
      assert.ok(message.includes(`this is Node.js ${version}.`), message);
    }
  });

  test('22.19 and later pass, as does anything that is not a Node.js version', () => {
    for (const version of [
      '22.19.0',
      '22.19.1',
      '22.20.0',
      '23.0.0',
      '24.0.0',
      '24.11.1',
      '25.2.0',
      '100.0.0',
      undefined,
      '',
      'bun',
      '1.2',
    ]) {
      assert.equal(unsupportedNodeMessage(version), undefined, String(version));
    }
  });

  test('the running Node.js passes', () => {
    assert.equal(unsupportedNodeMessage(process.versions.node), undefined);
  });
});

describe('on Node.js 20', () => {
  before(() => ensureBuilt(REPO));

  test(
    'require() and import of the built package fail with the version message, not an error from a dependency',
    { timeout: 180_000 },
    async () => {
      const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
        exports: { '.': { import: { default: string }; require: { default: string } } };
      };
      const cjs = join(REPO, pkg.exports['.'].require.default);
      const esm = pathToFileURL(join(REPO, pkg.exports['.'].import.default)).href;
      // One process for both formats: the CommonJS build first, then the ES module build. npx runs
      // outside the repository, where it would read the whole dependency tree first.
      const script = `
      const outcome = (error) => ({ name: error.name, message: error.message });
      const results = { node: process.versions.node };
      try { require(${JSON.stringify(cjs)}); results.require = 'loaded'; } catch (error) { results.require = outcome(error); }
      import(${JSON.stringify(esm)}).then(() => 'loaded', outcome).then((result) => {
        results.import = result;
        console.log(JSON.stringify(results));
      });
    `;
      const run = await runChild(['-y', '-p', 'node@20', '--', 'node', '-e', script], {
        command: 'npx',
        cwd: tmpdir(),
        timeoutMs: 170_000,
      });
      assert.equal(run.code, 0, run.stderr);
      const results = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as { node: string; require: unknown; import: unknown };
      assert.match(results.node, /^20\./);
      const expected = { name: 'Error', message: unsupportedNodeMessage(results.node) };
      assert.deepEqual(results.require, expected);
      assert.deepEqual(results.import, expected);
    },
  );
});

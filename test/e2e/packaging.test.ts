// The package as npm would publish it: `npm pack` ships only the build, README, LICENSE and
// CHANGELOG; the packed tarball, installed into a fresh project, loads with `require` and `import`
// and type-checks under nodenext (ESM and CommonJS) and bundler resolution; publint and
// "Are the types wrong?" find nothing. Nothing is downloaded: the temporary project's dependencies
// are symlinks into this repository's node_modules.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { ensureBuilt } from '../support/built-package.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NAME = 'opentelemetry-exporter-posthog';
const WINDOWS = process.platform === 'win32';

/** The package's runtime exports, the same in both formats. */
const RUNTIME_EXPORTS = [
  'PostHogExportError',
  'PostHogLogRecordExporter',
  'PostHogLogRecordProcessor',
  'PostHogSpanEventProcessor',
  'VERSION',
  'getPostHogIdentity',
  'identityFromHeaders',
  'recordExceptionWithCauses',
  'setPostHogIdentity',
  'withFlush',
  'withPostHogIdentity',
];

interface PackageJson {
  name: string;
  version: string;
  homepage?: string;
  repository?: { type: string; url: string };
  bugs?: { url: string };
  sideEffects?: string[] | boolean;
  exports: { '.': { import: { types: string; default: string }; require: { types: string; default: string } } };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, shell: WINDOWS && command === 'npm' },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

function assertSucceeded(result: Result, what: string): void {
  assert.equal(result.code, 0, `${what} failed\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

/** Every file under `dir`, as `/`-separated paths relative to `base`. */
function walk(dir: string, base: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(base, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

const repoPkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as PackageJson;

describe('packaging', { concurrency: true }, () => {
  let tmp: string;
  let tarball: string;
  let packedFiles: string[];
  /** The temporary consumer project. */
  let project: string;
  /** The installed package inside it. */
  let installed: string;

  before(async () => {
    // realpath: Node and tsc report real paths, and the temporary directory may sit behind a symlink (macOS).
    tmp = realpathSync(mkdtempSync(join(tmpdir(), 'posthog-otel-pack-')));
    ensureBuilt(REPO);
    const pack = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], REPO);
    assertSucceeded(pack, 'npm pack');
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    assert.ok(info);
    tarball = join(tmp, info.filename);
    packedFiles = info.files.map((f) => f.path).sort();

    project = join(tmp, 'consumer');
    installed = join(project, 'node_modules', NAME);
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    const extract = join(tmp, 'extract');
    mkdirSync(extract);
    assertSucceeded(await run('tar', ['-xzf', tarball, '-C', extract], tmp), 'tar');
    renameSync(join(extract, 'package'), installed);

    // The package's dependencies and peers, plus Node's types for the TypeScript checks, as an
    // application would have them installed.
    const installedPkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as PackageJson;
    const needed = [...Object.keys(installedPkg.dependencies ?? {}), ...Object.keys(installedPkg.peerDependencies ?? {}), '@types/node'];
    for (const name of needed) {
      const target = join(REPO, 'node_modules', name);
      assert.ok(existsSync(target), `${name} is installed in this repository`);
      const link = join(project, 'node_modules', name);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(target, link, WINDOWS ? 'junction' : 'dir');
    }
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('npm pack ships exactly the build, README.md, LICENSE, CHANGELOG.md and package.json', () => {
    const expected = [...walk(join(REPO, 'dist'), REPO), 'README.md', 'LICENSE', 'CHANGELOG.md', 'package.json'].sort();
    assert.deepEqual(packedFiles, expected);
    for (const target of Object.values(repoPkg.exports['.']).flatMap((c) => [c.types, c.default])) {
      assert.ok(packedFiles.includes(target.replace(/^\.\//, '')), `${target} (exports) is in the tarball`);
    }
    assert.ok(Array.isArray(repoPkg.sideEffects), 'sideEffects lists the modules a bundler must keep');
    for (const file of repoPkg.sideEffects)
      assert.ok(packedFiles.includes(file.replace(/^\.\//, '')), `${file} (sideEffects) is in the tarball`);
    assert.match(readFileSync(join(installed, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/);
    assert.match(readFileSync(join(installed, 'CHANGELOG.md'), 'utf8'), new RegExp(`^## ${repoPkg.version.replace(/\./g, '\\.')} `, 'm'));
  });

  test('package.json names the repository, its home page and where to report bugs', () => {
    const repo = repoPkg.repository?.url.replace(/^git\+/, '').replace(/\.git$/, '');
    assert.match(repo ?? '', /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
    assert.equal(repoPkg.repository?.type, 'git');
    assert.equal(repoPkg.homepage, `${repo}#readme`);
    assert.equal(repoPkg.bugs?.url, `${repo}/issues`);
  });

  test("the README's links work on npm: anchors of its own headings, files in the tarball, or absolute links", () => {
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    const repo = repoPkg.repository!.url.replace(/^git\+/, '').replace(/\.git$/, '');
    // GitHub's heading anchors: lower case, punctuation removed, spaces to hyphens.
    const anchors = new Set(
      [...readme.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, '')
          .replace(/ /g, '-'),
      ),
    );
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    assert.ok(links.length > 10, `found ${links.length} links`);
    for (const link of links) {
      if (link.startsWith('#')) assert.ok(anchors.has(link.slice(1)), `${link} is a heading of the README`);
      else if (link.startsWith(`${repo}/`)) {
        // A file of the repository that npm does not ship: it must exist on the default branch.
        const path = /^\/(?:blob|tree)\/main\/(.+)$/.exec(link.slice(repo.length));
        assert.ok(path, `${link} points into the repository's main branch`);
        assert.ok(existsSync(join(REPO, path[1]!)), `${link}: ${path[1]} exists in the repository`);
      } else if (/^https?:\/\//.test(link)) continue;
      else
        assert.ok(
          packedFiles.includes(link),
          `${link}: a relative link must name a file in the tarball (npm shows the README without the repository)`,
        );
    }
  });

  test('require() loads the CommonJS build with every named export', async () => {
    const script = `
      const m = require('${NAME}');
      const { LoggerProvider } = require('@opentelemetry/sdk-logs');
      const provider = new LoggerProvider({ processors: [new m.PostHogLogRecordProcessor({ apiKey: 'phc_packaging', host: 'http://127.0.0.1:9' })] });
      provider.shutdown().then(() => console.log(JSON.stringify({ resolved: require.resolve('${NAME}'), keys: Object.keys(m).sort(), version: m.VERSION })));
    `;
    const result = await run(process.execPath, ['-e', script], project);
    assertSucceeded(result, 'require');
    assert.equal(result.stderr, '');
    assert.deepEqual(JSON.parse(result.stdout), {
      resolved: join(installed, repoPkg.exports['.'].require.default),
      keys: RUNTIME_EXPORTS,
      version: repoPkg.version,
    });
  });

  test('import loads the ES module build with every named export', async () => {
    writeFileSync(
      join(project, 'check.mjs'),
      `import * as m from '${NAME}';
import { PostHogLogRecordProcessor, VERSION } from '${NAME}';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
const provider = new LoggerProvider({ processors: [new PostHogLogRecordProcessor({ apiKey: 'phc_packaging', host: 'http://127.0.0.1:9' })] });
await provider.shutdown();
console.log(JSON.stringify({ resolved: import.meta.resolve('${NAME}'), keys: Object.keys(m).sort(), version: VERSION }));
`,
    );
    const result = await run(process.execPath, ['check.mjs'], project);
    assertSucceeded(result, 'import');
    assert.equal(result.stderr, '');
    assert.deepEqual(JSON.parse(result.stdout), {
      resolved: pathToFileURL(join(installed, repoPkg.exports['.'].import.default)).href,
      keys: RUNTIME_EXPORTS,
      version: repoPkg.version,
    });
  });

  /** A consumer using the public types; the same text as .mts, .cts and bundler .ts. */
  const consumerSource = `import { context } from '@opentelemetry/api';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import {
  PostHogExportError,
  PostHogLogRecordExporter,
  PostHogLogRecordProcessor,
  PostHogSpanEventProcessor,
  VERSION,
  getPostHogIdentity,
  identityFromHeaders,
  setPostHogIdentity,
  withFlush,
  withPostHogIdentity,
  type Compression,
  type DropReason,
  type Flushable,
  type PostHogEvent,
  type PostHogExporterOptions,
  type PostHogIdentity,
  type PostHogLogRecordProcessorOptions,
  type PostHogStats,
} from '${NAME}';

const options: PostHogLogRecordProcessorOptions = {
  compression: 'gzip',
  logRecords: 'events',
  resourceAttributes: ['service.version'],
  beforeSend: (event: PostHogEvent) => ({ ...event, properties: { ...event.properties, checked: true } }),
  onDrop: (events: readonly PostHogEvent[], reason: DropReason) => console.log(events.length, reason),
};
const p: PostHogLogRecordProcessor = new PostHogLogRecordProcessor(options);
const provider = new LoggerProvider({ processors: [p] });
const spans = new PostHogSpanEventProcessor({ processor: p, compression: 'none' });
const exporterOptions: PostHogExporterOptions = { apiKey: 'phc_x', host: 'https://eu.i.posthog.com' };
const exporter: PostHogLogRecordExporter = new PostHogLogRecordExporter(exporterOptions);
const stats: PostHogStats = p.getStats();
const delivered: number = stats.delivered + stats.pending;
const identity: PostHogIdentity = identityFromHeaders({ 'x-posthog-distinct-id': 'u1' });
const fromContext: PostHogIdentity | undefined = getPostHogIdentity(setPostHogIdentity(context.active(), identity));
const n: number = withPostHogIdentity(identity, () => 1);
const flushables: Flushable[] = [p, spans, provider];
const handler: (event: { id: string }) => Promise<number> = withFlush(async (event: { id: string }) => event.id.length, ...flushables);
const isExportError = (error: unknown): boolean => error instanceof PostHogExportError && error instanceof Error;
const compression: Compression = 'zstd';
const version: string = VERSION;
console.log(exporter, delivered, fromContext, n, handler, isExportError, compression, version);

// @ts-expect-error compression is 'zstd', 'gzip', 'deflate' or 'none'
new PostHogLogRecordProcessor({ compression: 'lz4' });
// @ts-expect-error maxAttempts is a number
new PostHogLogRecordProcessor({ maxAttempts: '4' });
// @ts-expect-error logRecords is 'events' or 'all'
new PostHogLogRecordProcessor({ logRecords: 'some' });
`;

  /** Type-checks `files` with `compilerOptions` (this repository's tsc); returns the files the program loaded. */
  async function typecheck(config: string, compilerOptions: Record<string, unknown>, files: string[]): Promise<string[]> {
    const tsconfig = {
      compilerOptions: {
        target: 'es2022',
        lib: ['es2023'],
        types: ['node'],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        ...compilerOptions,
      },
      files,
    };
    writeFileSync(join(project, config), JSON.stringify(tsconfig, null, 2));
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    // --listFiles prints the program's files after type-checking it; errors fail the run.
    const result = await run(process.execPath, [tsc, '-p', config, '--listFiles', '--pretty', 'false'], project);
    assertSucceeded(result, `tsc -p ${config}`);
    return result.stdout
      .trim()
      .split(/\r?\n/)
      .map((file) => file.split(sep).join('/'));
  }

  const declarationOf = (condition: 'import' | 'require') => join(installed, repoPkg.exports['.'][condition].types).split(sep).join('/');

  test('types: module nodenext, from an ES module (.mts) and from CommonJS (.cts)', async () => {
    writeFileSync(join(project, 'consumer.mts'), consumerSource);
    writeFileSync(join(project, 'consumer.cts'), consumerSource);
    const loaded = await typecheck('tsconfig.nodenext.json', { module: 'nodenext', moduleResolution: 'nodenext' }, [
      'consumer.mts',
      'consumer.cts',
    ]);
    assert.ok(loaded.includes(declarationOf('import')), 'the .mts file uses the ES module declarations');
    assert.ok(loaded.includes(declarationOf('require')), 'the .cts file uses the CommonJS declarations');
  });

  test('types: moduleResolution bundler', async () => {
    mkdirSync(join(project, 'bundler'), { recursive: true });
    writeFileSync(join(project, 'bundler', 'consumer.ts'), consumerSource);
    const loaded = await typecheck('tsconfig.bundler.json', { module: 'preserve', moduleResolution: 'bundler' }, ['bundler/consumer.ts']);
    assert.ok(loaded.includes(declarationOf('import')), 'bundler resolution uses the import condition');
    assert.ok(!loaded.includes(declarationOf('require')));
  });

  test('publint finds nothing in the tarball, suggestions included', async () => {
    const data = readFileSync(tarball);
    const tarballBytes = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    const { messages, pkg } = await publint({ pack: { tarball: tarballBytes }, level: 'suggestion', strict: true });
    assert.deepEqual(
      messages.map((message) => `${message.type}: ${formatMessage(message, pkg, { color: false }) ?? message.code}`),
      [],
    );
  });

  test('Are the types wrong? finds no problem in any resolution mode (node10, node16 CJS and ESM, bundler)', async () => {
    const attw = join(REPO, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    const result = await run(process.execPath, [attw, tarball, '--format', 'json', '--no-definitely-typed', '--profile', 'strict'], tmp);
    const report = JSON.parse(result.stdout) as {
      analysis: { types: { kind: string }; problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, unknown> }> };
    };
    assert.deepEqual(report.analysis.problems, [], result.stdout);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(report.analysis.types, { kind: 'included' });
    assert.deepEqual(Object.keys(report.analysis.entrypoints).sort(), ['.', './package.json']);
    assert.deepEqual(Object.keys(report.analysis.entrypoints['.']!.resolutions).sort(), ['bundler', 'node10', 'node16-cjs', 'node16-esm']);
  });
});

// Reads what a user copies from the README, so that compat/run.sh checks the very text they copy:
//
//   node compat/readme.mjs install otel3|otel2|nextjs   the packages of that `npm install` line, one per line
//   node compat/readme.mjs quick-start otel3|otel2      the quick start of that line, as an ES module
//
// Install lines are the `npm install` lines of ```sh blocks, named by the comment line above them
// (`# OpenTelemetry JS 3.x`, `# OpenTelemetry JS 2.x …`, `# Next.js …`). The 3.x quick start is the
// first ```js block under "## Quick start"; the 2.x one is the ```js block of its <details>.
import { readFileSync } from 'node:fs';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const COMMENTS = { otel3: /^# OpenTelemetry JS 3\.x\b/, otel2: /^# OpenTelemetry JS 2\.x\b/, nextjs: /^# Next\.js\b/ };

function fail(message) {
  process.stderr.write(`compat/readme.mjs: ${message}\n`);
  process.exit(1);
}

/** The fenced blocks of `language`, in order, each with the text before it in its section. */
function blocks(language) {
  const found = [];
  const fence = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm');
  for (const match of README.matchAll(fence)) found.push({ code: match[1], index: match.index });
  return found;
}

function installLine(name) {
  const comment = COMMENTS[name] ?? fail(`no install line named ${name}`);
  for (const { code } of blocks('sh')) {
    const lines = code.split('\n');
    const at = lines.findIndex((line) => comment.test(line));
    if (at === -1) continue;
    const command = lines[at + 1] ?? '';
    if (!command.startsWith('npm install ')) fail(`the line after "${lines[at]}" is not an npm install line`);
    return command.slice('npm install '.length).trim().split(/\s+/);
  }
  return fail(`no install line under a "${comment.source}" comment`);
}

function quickStart(name) {
  const start = README.indexOf('\n## Quick start\n');
  const end = README.indexOf('\n## ', start + 1);
  if (start === -1) fail('no "## Quick start" section');
  const inSection = blocks('js').filter((b) => b.index > start && b.index < end);
  const details = README.indexOf('<details>', start);
  const pick =
    name === 'otel3'
      ? inSection.find((b) => details === -1 || b.index < details)
      : name === 'otel2'
        ? inSection.find((b) => details !== -1 && b.index > details)
        : undefined;
  return pick?.code ?? fail(`no quick start for ${name}`);
}

const [what, name] = process.argv.slice(2);
if (what === 'install') process.stdout.write(`${installLine(name).join('\n')}\n`);
else if (what === 'quick-start') process.stdout.write(quickStart(name));
else fail('usage: node compat/readme.mjs install|quick-start <line>');

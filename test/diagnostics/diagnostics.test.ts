// DropWarnings: the first drop of a kind warns at once; later ones at most once a minute, with how
// many went unreported since and the total. Time comes from the `now` it is given.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropWarnings } from '../../src/diagnostics/diagnostics.ts';

function warningsAt(): { warnings: string[]; drops: DropWarnings; advance(ms: number): void } {
  let now = 1_000_000;
  const warnings: string[] = [];
  const drops = new DropWarnings(
    () => now,
    (message) => warnings.push(message),
  );
  return { warnings, drops, advance: (ms) => (now += ms) };
}

test('the first drop of a kind warns at once, with its count, reason and details', () => {
  const { warnings, drops } = warningsAt();
  drops.record('status_400', 3, 'HTTP 400: bad batch');
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /^dropped 3 event\(s\): PostHog answered HTTP 400 \(HTTP 400: bad batch\)\. Later drops of this kind are reported at most once a minute/,
  );
});

test('later drops within a minute are silent; the next one after it reports what went unreported and the total', () => {
  const { warnings, drops, advance } = warningsAt();
  drops.record('queue_full', 1, undefined);
  advance(10_000);
  drops.record('queue_full', 4, undefined);
  advance(49_999);
  drops.record('queue_full', 2, undefined);
  assert.equal(warnings.length, 1, 'nothing more within 60 s of the first warning');
  advance(1);
  drops.record('queue_full', 5, undefined);
  assert.equal(warnings.length, 2);
  assert.match(warnings[1]!, /^dropped 11 more event\(s\) in the last 60 s: the batch queue was full .*; 12 in all\.$/);
  // The minute starts again from that warning.
  advance(30_000);
  drops.record('queue_full', 1, undefined);
  assert.equal(warnings.length, 2);
  advance(30_000);
  drops.record('queue_full', 1, undefined);
  assert.equal(warnings.length, 3);
  assert.match(warnings[2]!, /^dropped 2 more event\(s\) in the last 60 s: .*; 14 in all\.$/);
});

test('each kind keeps its own minute; a count of zero is no drop', () => {
  const { warnings, drops, advance } = warningsAt();
  drops.record('deadline', 0, undefined);
  assert.equal(warnings.length, 0);
  drops.record('deadline', 1, undefined);
  advance(5_000);
  drops.record('server_drop', 2, 'event_too_big');
  drops.record('deadline', 1, undefined);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /^dropped 1 event\(s\): the export ran out of time\./);
  assert.match(warnings[1]!, /^dropped 2 event\(s\): PostHog rejected them \(event_too_big\)\./);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayHoldLoneSurrogate, repairJsonText, wellFormed, withWellFormedFields } from '../../src/mapping/well-formed.ts';
import type { CaptureEvent } from '../../src/capture/types.ts';

const toWellFormed = (s: string): string => (s as unknown as { toWellFormed(): string }).toWellFormed();

test('repairJsonText does to JSON.stringify output what toWellFormed does to each string, on random UTF-16', () => {
  // Code units drawn mostly from the surrogate range, with backslashes, quotes and ASCII around them.
  const alphabet = [0xd800, 0xdbff, 0xdc00, 0xdfff, 0xd83d, 0xde00, 0x5c, 0x22, 0x75, 0x64, 0x38, 0x61, 0x20, 0x41];
  let seed = 11;
  const next = (n: number): number => {
    seed = (seed * 48271) % 2147483647;
    return seed % n;
  };
  for (let i = 0; i < 5000; i++) {
    const units = Array.from({ length: next(12) }, () => alphabet[next(alphabet.length)]!);
    const text = String.fromCharCode(...units);
    const json = JSON.stringify({ [text]: [text, { text }] });
    const repaired = repairJsonText(json);
    const fixed = toWellFormed(text);
    assert.deepEqual(JSON.parse(repaired), { [fixed]: [fixed, { text: fixed }] }, JSON.stringify(units));
    // Nothing to repair is detected as such (the check may say yes needlessly, never no wrongly).
    if (!mayHoldLoneSurrogate(json)) assert.equal(fixed, text);
  }
});

test('wellFormed replaces lone surrogates with U+FFFD and keeps pairs', () => {
  assert.equal(wellFormed('a\ud83db'), 'a\ufffdb');
  assert.equal(wellFormed('\ude00'), '\ufffd');
  assert.equal(wellFormed('🎉'), '🎉');
  const same = 'plain';
  assert.equal(wellFormed(same), same);
});

test('withWellFormedFields repairs the typed fields of an event a hook returned, and leaves a sound one as it is', () => {
  const sound: CaptureEvent = {
    event: 'e',
    uuid: '0190f3c4-aaaa-7bbb-8ccc-0123456789ab',
    distinct_id: 'u',
    timestamp: '2026-01-01T00:00:00.000Z',
    options: {},
    properties: { p: '\ud83d' },
  };
  assert.equal(withWellFormedFields(sound), sound);
  const broken: CaptureEvent = {
    ...sound,
    event: 'e\ud83d',
    distinct_id: 'u\udc00',
    session_id: 's\ud83d',
    window_id: 'w\ud83d',
    options: { product_tour_id: 't\ud83d' },
  };
  const fixed = withWellFormedFields(broken);
  assert.deepEqual(
    [fixed.event, fixed.distinct_id, fixed.session_id, fixed.window_id, fixed.options.product_tour_id],
    ['e\ufffd', 'u\ufffd', 's\ufffd', 'w\ufffd', 't\ufffd'],
  );
  // Properties are raw JSON to capture: left to the hook.
  assert.equal(fixed.properties.p, '\ud83d');
  assert.equal(broken.event, 'e\ud83d', "the hook's object is not changed");
});

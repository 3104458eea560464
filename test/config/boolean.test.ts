import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBoolean } from '../../src/config/boolean.ts';

describe('parseBoolean', () => {
  const cases: [string, boolean][] = [
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['no', false],
    ['on', true],
    ['off', false],
  ];

  for (const [word, expected] of cases) {
    test(`${word} → ${expected}, in any case and with spaces around it`, () => {
      const variants = [word, word.toUpperCase(), word.charAt(0).toUpperCase() + word.slice(1), ` ${word}\t`, `\n${word.toUpperCase()} `];
      if (word.length > 2)
        variants.push(
          word
            .split('')
            .map((c, i) => (i % 2 ? c.toUpperCase() : c))
            .join(''),
        );
      for (const variant of variants) assert.equal(parseBoolean(variant), expected, JSON.stringify(variant));
    });
  }

  test('anything else is unreadable, never a guess', () => {
    for (const text of [
      '',
      ' ',
      't',
      'f',
      'y',
      'n',
      'truee',
      'tru',
      'yess',
      'onn',
      '2',
      '-1',
      '01',
      '1.0',
      '00',
      'enable',
      'enabled',
      'disabled',
      'null',
      'undefined',
      'true false',
      'o n',
      '"true"',
      'ｔｒｕｅ',
      '１',
    ]) {
      assert.equal(parseBoolean(text), undefined, JSON.stringify(text));
    }
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSigmaRegex, searchEquivalent } from '../../../shared/detect/sigma-regex.ts';

const NO_FLAGS = { ignoreCase: false, multiline: false, dotAll: false };

describe('Function: searchEquivalent', () => {
  it.each([
    ['.+:assumed-role/aws:.+', '.:assumed-role/aws:.'],
    ['.*abc.*', 'abc'],
    ['.+?x', '.x'],
    ['a\\.+', 'a\\.+'],
    ['a\\\\.+', 'a\\\\.'],
    ['.+a|b', '.+a|b'],
    ['^.+a', '^.+a'],
  ])('rewrites %j as %j', (pattern, expected) => {
    // Act and Assess
    expect(searchEquivalent(pattern)).toBe(expected);
  });

  it('keeps the search result of every pattern on every value (property)', () => {
    // Prepare
    const token = fc.constantFrom(
      'a',
      'b',
      ':',
      '.',
      '.+',
      '.*',
      '.+?',
      '\\.',
      '\\\\',
      '\\b',
      '^',
      '$',
      '(a|b)',
      '[ab]',
    );
    const pattern = fc.array(token, { minLength: 1, maxLength: 6 }).map((t) => t.join(''));
    const value = fc.stringMatching(/^[ab:.\n\\]{0,8}$/);
    const flags = fc.constantFrom('', 'm', 's', 'ms', 'i');

    fc.assert(
      fc.property(pattern, value, flags, (p, v, f) => {
        // Act
        const original = new RegExp(p, f).test(v);
        const rewritten = new RegExp(searchEquivalent(p), f).test(v);

        // Assess
        expect(rewritten).toBe(original);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('Function: compileSigmaRegex', () => {
  it('searches in linear time where the written pattern backtracks quadratically', () => {
    // Prepare
    const regex = compileSigmaRegex('.+:assumed-role/aws:.+', NO_FLAGS, 'p');
    const value = `arn:aws:sts::1:${'x'.repeat(30_000)}`;

    // Act
    const start = performance.now();
    const hit = regex.test(value);
    const ms = performance.now() - start;

    // Assess: the written form takes seconds on this value.
    expect(hit).toBe(false);
    expect(ms).toBeLessThan(100);
  });
});

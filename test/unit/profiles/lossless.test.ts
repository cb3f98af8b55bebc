import { parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { holdsInexactNumber, withExactNumbers } from '../../../shared/profiles/lossless.ts';

describe('Function: withExactNumbers', () => {
  it('turns exactly representable numbers into numbers and keeps the others lossless', () => {
    // Prepare
    const value = parse('{"a":1,"b":[1.50,-0,2.5e-5],"c":{"big":12345678901234567890,"huge":1e400}}');

    // Act
    const exact = withExactNumbers(value) as { a: number; b: number[]; c: { big: unknown; huge: unknown } };

    // Assess
    expect(exact.a).toBe(1);
    expect(exact.b).toEqual([1.5, -0, 0.000025]);
    expect(String(exact.c.big)).toBe('12345678901234567890');
    expect(String(exact.c.huge)).toBe('1e400');
    expect(holdsInexactNumber(exact)).toBe(true);
    expect(holdsInexactNumber(exact.b)).toBe(false);
  });

  it('keeps a member named __proto__ as an own member', () => {
    // Prepare
    const value = parse('{"__proto__":{"polluted":1}}');

    // Act
    const copy = withExactNumbers(value) as Record<string, unknown>;

    // Assess
    expect(Object.keys(copy)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

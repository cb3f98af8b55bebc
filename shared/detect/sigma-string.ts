/**
 * Sigma string values: wildcards, escapes and case-insensitive matching, as the Sigma specification
 * (sigma-rules-specification.md, "String Wildcard" and "Escape Character") and pySigma's `SigmaString`
 * define them.
 *
 * - `*` matches any run of characters (the empty one too), `?` exactly one character.
 * - `\` escapes `*`, `?` and `\`; before any other character it is a plain backslash, and so is a
 *   trailing one. So `\*` is a literal star, `\\*` a backslash then a wildcard, `\\\*` a backslash then a
 *   star, and `C:\Windows` is itself.
 * - Matching is case-insensitive unless the `cased` modifier is used: both sides are compared after
 *   `String.prototype.toLowerCase()`.
 */

/** A wildcard in a parsed Sigma string. */
export const ANY_RUN = Symbol('*');
export const ANY_CHAR = Symbol('?');
export type StringPart = string | typeof ANY_RUN | typeof ANY_CHAR;

/** Parses a Sigma string value into literal runs and wildcards, following pySigma's escaping rules. */
export function parseSigmaString(value: string): StringPart[] {
  const parts: StringPart[] = [];
  let literal = '';
  let escaped = false;
  for (const c of value) {
    if (escaped) {
      literal += c === '*' || c === '?' || c === '\\' ? c : `\\${c}`;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === '*' || c === '?') {
      if (literal.length > 0) parts.push(literal);
      literal = '';
      parts.push(c === '*' ? ANY_RUN : ANY_CHAR);
    } else {
      literal += c;
    }
  }
  if (escaped) literal += '\\';
  if (literal.length > 0) parts.push(literal);
  return parts;
}

/** The parts of a plain string with no wildcard (a number's or boolean's text, a fieldref). */
export function literalParts(text: string): StringPart[] {
  return text.length === 0 ? [] : [text];
}

export function hasWildcard(parts: readonly StringPart[]): boolean {
  return parts.some((p) => typeof p !== 'string');
}

/** The text of parts that hold no wildcard. */
export function plainText(parts: readonly StringPart[]): string {
  return parts.join('');
}

/** `contains`: a `*` before and after, unless already there (pySigma `SigmaContainsModifier`). */
export function containing(parts: readonly StringPart[]): StringPart[] {
  return endingWithAny(startingWithAny(parts));
}

/** `endswith`: a `*` before, unless already there. */
export function startingWithAny(parts: readonly StringPart[]): StringPart[] {
  return parts[0] === ANY_RUN ? [...parts] : [ANY_RUN, ...parts];
}

/** `startswith`: a `*` after, unless already there. */
export function endingWithAny(parts: readonly StringPart[]): StringPart[] {
  return parts[parts.length - 1] === ANY_RUN ? [...parts] : [...parts, ANY_RUN];
}

/**
 * A compiled string pattern. `cased` patterns test the candidate's own text; the others test its
 * lower-cased text (the caller passes whichever `cased` asks for, so a candidate is lower-cased once
 * per event, not once per pattern).
 */
export interface TextPattern {
  readonly cased: boolean;
  test(text: string): boolean;
}

/** Compiles parts into the cheapest test: equality, prefix, suffix, substring, "anything", or a RegExp. */
export function compilePattern(parts: readonly StringPart[], cased: boolean): TextPattern {
  const norm = (s: string) => (cased ? s : s.toLowerCase());
  const shape = parts.map((p) => (p === ANY_RUN ? '*' : p === ANY_CHAR ? '?' : 'L')).join('');
  const lit = (i: number) => norm(parts[i] as string);
  switch (shape) {
    case '':
      return { cased, test: (t) => t.length === 0 };
    case 'L': {
      const s = lit(0);
      return { cased, test: (t) => t === s };
    }
    case '*':
      return { cased, test: () => true };
    case 'L*': {
      const s = lit(0);
      return { cased, test: (t) => t.startsWith(s) };
    }
    case '*L': {
      const s = lit(1);
      return { cased, test: (t) => t.endsWith(s) };
    }
    case '*L*': {
      const s = lit(1);
      return { cased, test: (t) => t.includes(s) };
    }
    default: {
      const source = parts
        .map((p) => (p === ANY_RUN ? '[^]*' : p === ANY_CHAR ? '[^]' : escapeRegExp(norm(p))))
        .join('');
      // `u`: `?` is one code point, as in Python; `[^]` spans line breaks, as `*` does in Sigma.
      const re = new RegExp(`^(?:${source})$`, 'u');
      return { cased, test: (t) => re.test(t) };
    }
  }
}

// Only syntax characters: with the `u` flag, escaping anything else (`\-`) is a syntax error.
const REGEXP_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

function escapeRegExp(text: string): string {
  return text.replace(REGEXP_SPECIAL, '\\$&');
}

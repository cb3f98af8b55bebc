/**
 * The `re` modifier. The Sigma specification (sigma-appendix-modifiers.md, "Regular Expression") allows
 * a PCRE subset: `.`, `^`, `$`, `*`, `+`, `?`, `{n,m}`, `[a-z]`, `[^a-z]`, `|` and `()`. This module
 * accepts that subset plus the constructs that mean the same in PCRE and in JavaScript (escaped
 * metacharacters, `\d \w \s \b` and their negations, `\t \n \r \f \v`, `\xhh`, `(?:…)`, lazy quantifiers),
 * and refuses everything else by name, so that a rule never runs with a meaning its author did not write.
 *
 * Matching is a search (unanchored, like PCRE and Splunk's `regex`): anchor with `^…$` to match a whole
 * value. Case-sensitive unless the `i` sub-modifier is given; `m` and `s` are PCRE's multiline and dotall.
 */
import { SigmaRuleError, UnsupportedSigmaFeatureError } from './errors.ts';

/** Regular-expression flags, from the `i`, `m` and `s` sub-modifiers. */
export interface RegexFlags {
  readonly ignoreCase: boolean;
  readonly multiline: boolean;
  readonly dotAll: boolean;
}

/** Longest `re` value accepted. */
export const MAX_REGEX_LENGTH = 1_024;

const SIMPLE_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S', 'b', 'B', 't', 'n', 'r', 'f', 'v']);
const CLASS_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S', 't', 'n', 'r', 'f', 'v']);
const QUANTIFIER_BRACES = /^\{(\d{1,4})(,(\d{1,4})?)?\}/;

/** Checks `pattern` against the supported subset and compiles it. Throws `SigmaRuleError`. */
export function compileSigmaRegex(pattern: string, flags: RegexFlags, path: string): RegExp {
  if (pattern.length > MAX_REGEX_LENGTH) {
    throw new SigmaRuleError('INVALID_RULE', path, `regular expression longer than ${MAX_REGEX_LENGTH}`);
  }
  checkSubset(pattern, path);
  const jsFlags = `${flags.ignoreCase ? 'i' : ''}${flags.multiline ? 'm' : ''}${flags.dotAll ? 's' : ''}`;
  try {
    new RegExp(pattern, jsFlags);
    return new RegExp(searchEquivalent(pattern), jsFlags);
  } catch (error) {
    throw new SigmaRuleError(
      'INVALID_RULE',
      path,
      `invalid regular expression /${pattern}/: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * A pattern with the same search result (match or not) and less backtracking: a leading `.*` is
 * dropped and a leading `.+` becomes `.` (if `.+R` matches from i, `.R` matches from the last character
 * `.+` took), and the same at the end. `.+:assumed-role/aws:.+`, a shipped rule's, is otherwise quadratic
 * in the value's length. Only done when the pattern has no `|`, so that the dots apply to all of it.
 * `test/unit/detect/sigma-regex.test.ts` checks the equivalence with fast-check.
 */
export function searchEquivalent(pattern: string): string {
  if (pattern.includes('|')) return pattern;
  let p = pattern;
  const head = /^\.([*+])\??/.exec(p);
  if (head !== null) p = (head[1] === '+' ? '.' : '') + p.slice(head[0].length);
  const tail = /(\\*)\.([*+])\??$/.exec(p);
  // The dot is a wildcard only when an even number of backslashes precedes it.
  if (tail !== null && tail[1]!.length % 2 === 0) {
    p = p.slice(0, tail.index) + tail[1] + (tail[2] === '+' ? '.' : '');
  }
  return p;
}

function unsupported(feature: string, path: string, pattern: string): never {
  throw new UnsupportedSigmaFeatureError(
    `regex ${feature}`,
    path,
    `regular expression /${pattern}/ uses ${feature}, outside the PCRE subset Sigma defines`,
  );
}

/** Walks the pattern once, refusing every construct outside the subset. */
function checkSubset(pattern: string, path: string): void {
  let i = 0;
  let afterAtom = false;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      i = checkEscape(pattern, i, SIMPLE_ESCAPES, path);
      afterAtom = true;
    } else if (c === '[') {
      i = checkClass(pattern, i, path);
      afterAtom = true;
    } else if (c === '(') {
      if (pattern[i + 1] === '?') {
        if (pattern[i + 2] !== ':') unsupported(groupFeature(pattern.slice(i, i + 4)), path, pattern);
        i += 3;
      } else {
        i += 1;
      }
      afterAtom = false;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      if (!afterAtom) {
        if (c === '{') unsupported('an unescaped "{"', path, pattern);
        throw new SigmaRuleError('INVALID_RULE', path, `regular expression /${pattern}/: nothing to repeat`);
      }
      if (c === '{') {
        const m = QUANTIFIER_BRACES.exec(pattern.slice(i));
        if (m === null) unsupported('an unescaped "{"', path, pattern);
        i += m[0].length;
      } else {
        i += 1;
      }
      if (pattern[i] === '+') unsupported('possessive quantifiers', path, pattern);
      if (pattern[i] === '?') i += 1;
      afterAtom = false;
    } else if (c === '}') {
      unsupported('an unescaped "}"', path, pattern);
    } else {
      // `.`, `^`, `$`, `|`, `)` and literal characters.
      afterAtom = c !== '|' && c !== '^' && c !== '(';
      i += 1;
    }
  }
}

function groupFeature(start: string): string {
  if (start.startsWith('(?=') || start.startsWith('(?!')) return 'lookahead';
  if (start.startsWith('(?<=') || start.startsWith('(?<!')) return 'lookbehind';
  if (start.startsWith('(?P') || start.startsWith('(?<') || start.startsWith("(?'")) return 'named groups';
  if (start.startsWith('(?>')) return 'atomic groups';
  if (start.startsWith('(?#')) return 'comments';
  return 'inline flags or other "(?" groups';
}

/** Checks the escape at `i` and returns the index after it. */
function checkEscape(pattern: string, i: number, allowed: ReadonlySet<string>, path: string): number {
  const next = pattern[i + 1];
  if (next === undefined) {
    throw new SigmaRuleError('INVALID_RULE', path, `regular expression /${pattern}/ ends with "\\"`);
  }
  if (allowed.has(next)) return i + 2;
  if (next === 'x') {
    if (!/^[0-9A-Fa-f]{2}$/.test(pattern.slice(i + 2, i + 4)))
      unsupported('"\\x" without two hex digits', path, pattern);
    return i + 4;
  }
  // A non-alphanumeric character escaped is that character in PCRE and in JavaScript alike.
  if (!/[A-Za-z0-9]/.test(next)) return i + 2;
  const feature = /[1-9]/.test(next)
    ? 'back-references'
    : next === 'p' || next === 'P'
      ? 'Unicode properties'
      : `the escape "\\${next}"`;
  return unsupported(feature, path, pattern);
}

/** Checks the character class at `i` (`[`) and returns the index after its `]`. */
function checkClass(pattern: string, i: number, path: string): number {
  let j = i + 1;
  if (pattern[j] === '^') j += 1;
  // A `]` right after `[` or `[^` is a literal in PCRE but closes an empty class in JavaScript.
  if (pattern[j] === ']') unsupported('a "]" first in a character class', path, pattern);
  while (j < pattern.length && pattern[j] !== ']') {
    const c = pattern[j]!;
    if (c === '\\') {
      j = checkEscape(pattern, j, CLASS_ESCAPES, path);
    } else if (c === '[') {
      if (pattern[j + 1] === ':' || pattern[j + 1] === '=' || pattern[j + 1] === '.')
        unsupported('POSIX classes', path, pattern);
      unsupported('an unescaped "[" inside a character class', path, pattern);
    } else {
      j += 1;
    }
  }
  if (j >= pattern.length) {
    throw new SigmaRuleError('INVALID_RULE', path, `regular expression /${pattern}/: unterminated "["`);
  }
  return j + 1;
}

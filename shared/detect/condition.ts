/**
 * Sigma conditions (sigma-rules-specification.md, "Condition"), with pySigma's grammar
 * (`sigma/conditions.py`):
 *
 *     condition := or
 *     or        := and ("or" and)*
 *     and       := not ("and" not)*
 *     not       := "not" not | atom
 *     atom      := "(" condition ")" | ("1" | "any" | "all") "of" (pattern | "them") | identifier
 *
 * Keywords are lower case. Identifiers use `A-Z a-z 0-9 _ -`; patterns use `A-Z a-z 0-9 _ *`, where `*`
 * matches any run of characters and the whole identifier must match. `them`, and patterns that do not
 * start with `_`, leave out identifiers that start with `_`. A selector that matches no identifier, or an
 * identifier that is not defined, is an error. The pipe (`| count() …`, aggregation) is refused: Sigma
 * replaced it with correlation rules, which auditseal does not run.
 */
import { SigmaRuleError, UnsupportedSigmaFeatureError } from './errors.ts';

/** A condition, with selectors expanded into the identifiers they match. */
export type Condition =
  | { readonly type: 'ref'; readonly id: string }
  | { readonly type: 'not'; readonly arg: Condition }
  | { readonly type: 'and' | 'or'; readonly args: readonly Condition[] };

/** Longest condition text, and deepest nesting, accepted. */
export const MAX_CONDITION_LENGTH = 4_096;
export const MAX_CONDITION_DEPTH = 64;

const TOKEN = /\s*(?:([()])|([A-Za-z0-9_*-]+)|(\S))/y;
const IDENTIFIER = /^[A-Za-z0-9_-]+$/;
const PATTERN = /^[A-Za-z0-9_*]+$/;
const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them']);

/** Parses `text` against the rule's search identifiers. Throws `SigmaRuleError`. */
export function parseCondition(text: string, identifiers: readonly string[], path: string): Condition {
  if (text.length > MAX_CONDITION_LENGTH) {
    throw new SigmaRuleError(
      'INVALID_RULE',
      path,
      `condition longer than ${MAX_CONDITION_LENGTH} characters`,
    );
  }
  if (text.includes('|')) {
    throw new UnsupportedSigmaFeatureError(
      'aggregation',
      path,
      'the pipe in conditions (aggregations such as "| count() by …") is deprecated Sigma; use correlation rules',
    );
  }
  return new Parser(tokenize(text, path), identifiers, text, path).parse();
}

function tokenize(text: string, path: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (m === null) break; // only white space is left
    if (m[3] !== undefined) {
      throw new SigmaRuleError('INVALID_RULE', path, `unexpected "${m[3]}" at offset ${at} of the condition`);
    }
    tokens.push(m[1] ?? m[2]!);
  }
  return tokens;
}

class Parser {
  #at = 0;
  #depth = 0;

  constructor(
    private readonly tokens: readonly string[],
    private readonly identifiers: readonly string[],
    private readonly text: string,
    private readonly path: string,
  ) {}

  parse(): Condition {
    if (this.tokens.length === 0) this.#fail('the condition is empty');
    const condition = this.#or();
    if (this.#at < this.tokens.length) this.#fail(`unexpected "${this.tokens[this.#at]}"`);
    return condition;
  }

  #or(): Condition {
    const args = [this.#and()];
    while (this.#peek() === 'or') {
      this.#at += 1;
      args.push(this.#and());
    }
    return args.length === 1 ? args[0]! : { type: 'or', args };
  }

  #and(): Condition {
    const args = [this.#not()];
    while (this.#peek() === 'and') {
      this.#at += 1;
      args.push(this.#not());
    }
    return args.length === 1 ? args[0]! : { type: 'and', args };
  }

  #not(): Condition {
    if (this.#peek() !== 'not') return this.#atom();
    this.#at += 1;
    return this.#nested(() => ({ type: 'not', arg: this.#not() }));
  }

  #atom(): Condition {
    const token = this.#next();
    if (token === '(') {
      const inner = this.#nested(() => this.#or());
      if (this.#next() !== ')') this.#fail('missing ")"');
      return inner;
    }
    if ((token === '1' || token === 'any' || token === 'all') && this.#peek() === 'of') {
      this.#at += 1;
      return this.#selector(token === 'all' ? 'and' : 'or', this.#next());
    }
    if (token === undefined) this.#fail('the condition ends too early');
    if (KEYWORDS.has(token) || !IDENTIFIER.test(token)) this.#fail(`unexpected "${token}"`);
    if (!this.identifiers.includes(token)) this.#fail(`"${token}" is not a search identifier of the rule`);
    return { type: 'ref', id: token };
  }

  #selector(type: 'and' | 'or', pattern: string | undefined): Condition {
    if (pattern === undefined || (pattern !== 'them' && (KEYWORDS.has(pattern) || !PATTERN.test(pattern)))) {
      this.#fail(`"of" must be followed by "them" or an identifier pattern`);
    }
    const matches = this.identifiers.filter((id) => selects(pattern, id));
    if (matches.length === 0) this.#fail(`"of ${pattern}" matches no search identifier of the rule`);
    const args = matches.map((id): Condition => ({ type: 'ref', id }));
    return args.length === 1 ? args[0]! : { type, args };
  }

  #nested(parse: () => Condition): Condition {
    this.#depth += 1;
    if (this.#depth > MAX_CONDITION_DEPTH) this.#fail(`nested deeper than ${MAX_CONDITION_DEPTH}`);
    const result = parse();
    this.#depth -= 1;
    return result;
  }

  #peek(): string | undefined {
    return this.tokens[this.#at];
  }

  #next(): string | undefined {
    const token = this.tokens[this.#at];
    this.#at += 1;
    return token;
  }

  #fail(why: string): never {
    throw new SigmaRuleError('INVALID_RULE', this.path, `condition "${this.text}": ${why}`);
  }
}

/** pySigma's selector rule: `*` is any run, the match is whole, `_` identifiers only for `_` patterns. */
function selects(pattern: string, id: string): boolean {
  if (pattern === 'them') return !id.startsWith('_');
  if (id.startsWith('_') && !pattern.startsWith('_')) return false;
  const parts = pattern.split('*');
  if (parts.length === 1) return id === pattern;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (id.length < first.length + last.length || !id.startsWith(first) || !id.endsWith(last)) return false;
  let from = first.length;
  const end = id.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = id.indexOf(middle, from);
    if (found === -1 || found + middle.length > end) return false;
    from = found + middle.length;
  }
  return true;
}

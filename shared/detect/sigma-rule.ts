/**
 * Sigma rule files to validated rules. The YAML is parsed with the `yaml` package (YAML 1.2 core schema,
 * unique keys, no aliases, no custom tags), then checked member by member. Everything a rule uses is
 * either implemented exactly (docs/DETECTIONS.md, "Supported Sigma") or refused here with a typed error
 * naming it; no rule loads in a form that silently matches nothing.
 *
 * Detection semantics follow pySigma (`sigma/rule/detection.py`, `sigma/modifiers.py`):
 * - a map is the AND of its items; a list of maps is the OR of the maps;
 * - an item's value list is OR-linked, AND-linked with `|all`;
 * - modifiers apply left to right, with pySigma's type rules: `re`, `cidr` and `exists` only on unmodified
 *   values, `fieldref` only on values without wildcards, `contains`/`startswith`/`endswith` on strings
 *   and field references, `i`/`m`/`s` only after `re`, `cased` on strings;
 * - `null` matches a field that is absent or null; it cannot be part of a list.
 */
import { parseAllDocuments } from 'yaml';
import { FORBIDDEN_KEYS } from '../events/limits.ts';
import { type CidrNetwork, parseCidr } from './cidr.ts';
import { type Condition, parseCondition } from './condition.ts';
import { SigmaRuleError, type SigmaRuleErrorCode, UnsupportedSigmaFeatureError } from './errors.ts';
import { FieldPath } from './field-path.ts';
import { type RuleLogSource, type RuleScope, scopeOf } from './log-sources.ts';
import { type FieldType, fieldTypeOf } from './record-fields.ts';
import { compileSigmaRegex } from './sigma-regex.ts';
import {
  containing,
  endingWithAny,
  hasWildcard,
  literalParts,
  parseSigmaString,
  plainText,
  type StringPart,
  startingWithAny,
} from './sigma-string.ts';

/** Largest rule file accepted, in bytes (SigmaHQ's largest rules are about 20 KB). */
export const MAX_RULE_FILE_BYTES = 131_072;
const MAX_YAML_DEPTH = 16;
export const RULE_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type RuleLevel = (typeof RULE_LEVELS)[number];
const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const IDENTIFIER = /^[A-Za-z0-9_-]{1,128}$/;

/** One value test of a detection item, after its modifiers. */
export type ValueTest =
  /** A string, number or boolean, matched as text: wildcards, case-insensitive unless `cased`. */
  | { readonly type: 'pattern'; readonly parts: readonly StringPart[]; readonly cased: boolean }
  | { readonly type: 're'; readonly regex: RegExp }
  | { readonly type: 'cidr'; readonly network: CidrNetwork }
  /** `fieldref`: the field equals (starts with, ends with, contains) another field's value. */
  | {
      readonly type: 'fieldref';
      readonly field: string;
      readonly startsWith: boolean;
      readonly endsWith: boolean;
    };

/** What a detection item checks on its field. */
export type ItemTest =
  | { readonly type: 'null' }
  | { readonly type: 'exists'; readonly exists: boolean }
  | { readonly type: 'values'; readonly linking: 'and' | 'or'; readonly values: readonly ValueTest[] };

/** One `field|modifiers: value(s)` of a selection. */
export interface DetectionItem {
  readonly kind: 'item';
  readonly field: string;
  /** Where it is in the rule, for messages: `detection.selection.eventName|contains`. */
  readonly path: string;
  readonly test: ItemTest;
}

/** A search identifier's definition: a map (AND of items) or a list of maps (OR). */
export type Detection =
  | { readonly kind: 'all'; readonly items: readonly DetectionItem[] }
  | { readonly kind: 'any'; readonly items: readonly Detection[] };

/** A loaded, validated rule. Immutable data; `compileRule` turns it into a predicate. */
export interface SigmaRule {
  readonly id: string;
  readonly title: string;
  readonly level: RuleLevel;
  readonly status?: string;
  readonly description?: string;
  /** Kept because the Detection Rule License asks that matches name the rule's authors. */
  readonly author?: string;
  readonly tags: readonly string[];
  readonly references: readonly string[];
  readonly logsource: RuleLogSource;
  readonly scope: RuleScope;
  readonly detections: ReadonlyMap<string, Detection>;
  /** Several conditions are OR-linked (Sigma allows a list). */
  readonly condition: Condition;
  /** The file or object the rule came from. */
  readonly source: string;
}

/** A rule file: its name (for messages and the refusal table) and its text. */
export interface RuleFile {
  readonly name: string;
  readonly text: string;
}

const UNSUPPORTED_MODIFIERS = new Set([
  'base64',
  'base64offset',
  'wide',
  'utf16',
  'utf16le',
  'utf16be',
  'windash',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'expand',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'year',
]);
const REGEX_FLAGS: Readonly<Record<string, 'ignoreCase' | 'multiline' | 'dotAll'>> = {
  i: 'ignoreCase',
  ignorecase: 'ignoreCase',
  m: 'multiline',
  multiline: 'multiline',
  s: 'dotAll',
  dotall: 'dotAll',
};

/** Parses and validates one rule file. Throws `SigmaRuleError` (with `source` set). */
export function parseSigmaRule(file: RuleFile): SigmaRule {
  try {
    return parseRuleObject(parseYaml(file.text), file.name);
  } catch (error) {
    if (error instanceof SigmaRuleError) error.source = file.name;
    throw error;
  }
}

function parseYaml(text: string): unknown {
  if (Buffer.byteLength(text, 'utf8') > MAX_RULE_FILE_BYTES) {
    throw new SigmaRuleError('RULE_TOO_LARGE', '$', `rule file is larger than ${MAX_RULE_FILE_BYTES} bytes`);
  }
  const docs = parseAllDocuments(text, { schema: 'core', uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs) || docs.length === 0)
    throw new SigmaRuleError('NOT_A_RULE', '$', 'the file is empty');
  if (docs.length > 1) {
    throw new UnsupportedSigmaFeatureError(
      'rule collection',
      '$',
      'the file holds several YAML documents (a Sigma rule collection); put one rule per file',
    );
  }
  const doc = docs[0]!;
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    throw new SigmaRuleError('YAML_SYNTAX', '$', `YAML: ${problem.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (error) {
    throw new SigmaRuleError('YAML_SYNTAX', '$', `YAML: ${(error as Error).message}`, { cause: error });
  }
  checkPlainData(value);
  return value;
}

/** Refuses forbidden member names and excessive nesting anywhere in the parsed YAML. */
function checkPlainData(root: unknown): void {
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 1 }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { value, depth } = frame;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_YAML_DEPTH)
      throw new SigmaRuleError('NOT_A_RULE', '$', `nested deeper than ${MAX_YAML_DEPTH}`);
    const children = Array.isArray(value) ? value : Object.values(value);
    if (!Array.isArray(value)) {
      const bad = Object.keys(value).find((k) => FORBIDDEN_KEYS.has(k));
      if (bad !== undefined) throw new SigmaRuleError('NOT_A_RULE', '$', `member name "${bad}" is forbidden`);
    }
    for (const child of children) stack.push({ value: child, depth: depth + 1 });
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(code: SigmaRuleErrorCode, path: string, message: string): never {
  throw new SigmaRuleError(code, path, message);
}

function parseRuleObject(value: unknown, source: string): SigmaRule {
  if (!isMap(value)) fail('NOT_A_RULE', '$', 'a rule must be a YAML map');
  if (Object.hasOwn(value, 'correlation')) {
    throw new UnsupportedSigmaFeatureError(
      'correlation rule',
      'correlation',
      'correlation rules are not supported',
    );
  }
  if (Object.hasOwn(value, 'filter')) {
    throw new UnsupportedSigmaFeatureError(
      'filter rule',
      'filter',
      'Sigma filter documents are not supported',
    );
  }
  if (Object.hasOwn(value, 'action')) {
    throw new UnsupportedSigmaFeatureError(
      'rule collection',
      'action',
      'rule collections (action:) are not supported',
    );
  }
  const title = requiredString(value, 'title', 256);
  const id = requiredString(value, 'id', 128);
  if (!RULE_ID.test(id)) fail('NOT_A_RULE', 'id', 'id must be 1 to 128 characters of A-Z a-z 0-9 . _ : -');
  const level = requiredString(value, 'level', 32);
  if (!(RULE_LEVELS as readonly string[]).includes(level)) {
    fail('NOT_A_RULE', 'level', `level must be one of ${RULE_LEVELS.join(', ')}`);
  }
  const status = optionalString(value, 'status', 32);
  if (status === 'deprecated' || status === 'unsupported') {
    throw new UnsupportedSigmaFeatureError(
      `status: ${status}`,
      'status',
      `the rule's status is "${status}": SigmaHQ marks such rules as not to be used`,
    );
  }
  const logsource = parseLogSource(value['logsource']);
  const scope = scopeOf(logsource);
  const { detections, condition } = parseDetection(value['detection'], scope);
  const rule: SigmaRule = {
    id,
    title,
    level: level as RuleLevel,
    tags: stringList(value, 'tags'),
    references: stringList(value, 'references'),
    logsource,
    scope,
    detections,
    condition,
    source,
  };
  const extras: Record<string, string> = {};
  for (const key of ['status', 'description', 'author'] as const) {
    const text = optionalString(value, key, 8_192);
    if (text !== undefined) extras[key] = text;
  }
  return { ...rule, ...extras };
}

function requiredString(map: Record<string, unknown>, key: string, max: number): string {
  const text = optionalString(map, key, max);
  if (text === undefined) fail('NOT_A_RULE', key, `the rule has no ${key}`);
  return text;
}

function optionalString(map: Record<string, unknown>, key: string, max: number): string | undefined {
  if (!Object.hasOwn(map, key) || map[key] === null) return undefined;
  const v = map[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    fail('NOT_A_RULE', key, `${key} must be a string of 1 to ${max} characters`);
  }
  return v;
}

function stringList(map: Record<string, unknown>, key: string): string[] {
  if (!Object.hasOwn(map, key) || map[key] === null) return [];
  const v = map[key];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    fail('NOT_A_RULE', key, `${key} must be a list of strings`);
  return v as string[];
}

function parseLogSource(value: unknown): RuleLogSource {
  if (!isMap(value)) fail('NOT_A_RULE', 'logsource', 'the rule has no logsource map');
  const out: { category?: string; product?: string; service?: string } = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'definition') continue;
    if (key !== 'category' && key !== 'product' && key !== 'service') {
      throw new UnsupportedSigmaFeatureError(
        `logsource.${key}`,
        `logsource.${key}`,
        `logsource member "${key}" is not one of category, product, service, definition`,
      );
    }
    if (typeof v !== 'string' || v.length === 0 || v.length > 128) {
      fail('NOT_A_RULE', `logsource.${key}`, `logsource.${key} must be a string of 1 to 128 characters`);
    }
    out[key] = v.toLowerCase();
  }
  return out;
}

function parseDetection(
  value: unknown,
  scope: RuleScope,
): { detections: Map<string, Detection>; condition: Condition } {
  if (!isMap(value)) fail('NOT_A_RULE', 'detection', 'the rule has no detection map');
  if (Object.hasOwn(value, 'timeframe')) {
    throw new UnsupportedSigmaFeatureError(
      'timeframe',
      'detection.timeframe',
      'timeframe belongs to aggregations and correlations, which auditseal does not run',
    );
  }
  const detections = new Map<string, Detection>();
  for (const [id, definition] of Object.entries(value)) {
    if (id === 'condition') continue;
    const path = `detection.${id}`;
    if (!IDENTIFIER.test(id)) fail('INVALID_RULE', path, `"${id}" is not a valid search identifier`);
    detections.set(id, parseDefinition(definition, path, scope));
  }
  if (detections.size === 0) fail('NOT_A_RULE', 'detection', 'the detection has no search identifier');
  const raw = value['condition'];
  const texts = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
    fail('NOT_A_RULE', 'detection.condition', 'condition must be a string or a list of strings');
  }
  const ids = [...detections.keys()];
  const conditions = (texts as string[]).map((t) => parseCondition(t, ids, 'detection.condition'));
  const condition: Condition = conditions.length === 1 ? conditions[0]! : { type: 'or', args: conditions };
  return { detections, condition };
}

function parseDefinition(value: unknown, path: string, scope: RuleScope): Detection {
  if (isMap(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) fail('INVALID_RULE', path, 'a selection map must not be empty');
    return { kind: 'all', items: entries.map(([key, v]) => parseItem(key, v, `${path}.${key}`, scope)) };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) fail('INVALID_RULE', path, 'a selection list must not be empty');
    if (value.every((v) => !isMap(v) && !Array.isArray(v))) throw keywordSearch(path);
    return {
      kind: 'any',
      items: value.map((v, i) => {
        if (!isMap(v)) fail('INVALID_RULE', `${path}[${i}]`, 'a selection list must hold only maps');
        return parseDefinition(v, `${path}[${i}]`, scope);
      }),
    };
  }
  throw keywordSearch(path);
}

function keywordSearch(path: string): UnsupportedSigmaFeatureError {
  return new UnsupportedSigmaFeatureError(
    'keyword search',
    path,
    'values without a field (keyword search over the whole event) are not supported; name the field',
  );
}

/** A value as pySigma types it, while modifiers are applied. */
type Working =
  | {
      readonly t: 'string';
      readonly parts: readonly StringPart[];
      readonly raw: string;
      readonly cased: boolean;
    }
  | { readonly t: 'number'; readonly value: number }
  | { readonly t: 'boolean'; readonly value: boolean }
  | { readonly t: 'null' }
  | {
      readonly t: 're';
      readonly pattern: string;
      readonly flags: Record<'ignoreCase' | 'multiline' | 'dotAll', boolean>;
    }
  | { readonly t: 'cidr'; readonly network: CidrNetwork }
  | {
      readonly t: 'fieldref';
      readonly field: string;
      readonly startsWith: boolean;
      readonly endsWith: boolean;
    }
  | { readonly t: 'exists'; readonly exists: boolean };

function parseItem(key: string, value: unknown, path: string, scope: RuleScope): DetectionItem {
  const [field = '', ...modifiers] = key.split('|');
  if (field.length === 0) throw keywordSearch(path);
  new FieldPath(field, path);
  const fieldType = fieldTypeOf(scope.kind, field, path);
  const rawValues = Array.isArray(value) ? value : [value];
  if (rawValues.length === 0) fail('INVALID_RULE', path, 'the value list is empty');
  const regexMode = modifiers.includes('re');
  let values: Working[] = rawValues.map((v, i) => initialValue(v, regexMode, `${path}[${i}]`));
  let linking: 'and' | 'or' = 'or';
  const applied: string[] = [];
  for (const modifier of modifiers) {
    values = values.map((v) => applyModifier(modifier, v, applied, path));
    if (modifier === 'all') linking = 'and';
    applied.push(modifier);
  }
  if (values.some((v) => v.t === 'null') && values.length > 1) {
    fail('INVALID_RULE', path, 'null cannot be part of a value list; use its own selection');
  }
  if (linking === 'and' && rawValues.length === 1) {
    fail('INVALID_RULE', path, '"all" needs a list of at least two values');
  }
  const first = values[0]!;
  if (first.t === 'null') return { kind: 'item', field, path, test: { type: 'null' } };
  if (first.t === 'exists') {
    if (values.length > 1) fail('INVALID_RULE', path, 'exists takes one boolean');
    return { kind: 'item', field, path, test: { type: 'exists', exists: first.exists } };
  }
  const tests = values.map((v) => toValueTest(v, path, scope));
  checkCanMatch(tests, linking, fieldType, field, path);
  return { kind: 'item', field, path, test: { type: 'values', linking, values: tests } };
}

function initialValue(v: unknown, regexMode: boolean, path: string): Working {
  if (regexMode) {
    if (typeof v !== 'string') fail('INVALID_RULE', path, 're needs string values');
    return { t: 'string', parts: [v], raw: v, cased: false };
  }
  if (typeof v === 'string') return { t: 'string', parts: parseSigmaString(v), raw: v, cased: false };
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) {
      fail('INVALID_RULE', path, 'numbers must be finite and within ±(2^53−1)');
    }
    return { t: 'number', value: v };
  }
  if (typeof v === 'boolean') return { t: 'boolean', value: v };
  if (v === null) return { t: 'null' };
  return fail('INVALID_RULE', path, 'values must be strings, numbers, booleans or null');
}

function applyModifier(modifier: string, v: Working, applied: readonly string[], path: string): Working {
  const typeError = (what: string): never =>
    fail('INVALID_RULE', path, `modifier "${modifier}" does not apply to ${what} values`);
  const onlyFirst = (): void => {
    if (applied.length > 0)
      fail('INVALID_RULE', path, `modifier "${modifier}" applies only to unmodified values`);
  };
  switch (modifier) {
    case 'all':
      return v;
    case 'contains':
    case 'startswith':
    case 'endswith': {
      const widen =
        modifier === 'contains' ? containing : modifier === 'startswith' ? endingWithAny : startingWithAny;
      if (v.t === 'string') return { ...v, parts: widen(v.parts) };
      if (v.t === 'fieldref') {
        return {
          ...v,
          startsWith: v.startsWith || modifier !== 'endswith',
          endsWith: v.endsWith || modifier !== 'startswith',
        };
      }
      if (v.t === 're') {
        throw new UnsupportedSigmaFeatureError(
          `|re|${modifier}`,
          path,
          `"${modifier}" after "re" is not supported: anchor the regular expression instead`,
        );
      }
      return typeError(v.t);
    }
    case 'cased':
      return v.t === 'string' ? { ...v, cased: true } : typeError(v.t);
    case 're':
      onlyFirst();
      return v.t === 'string'
        ? { t: 're', pattern: v.raw, flags: { ignoreCase: false, multiline: false, dotAll: false } }
        : typeError(v.t);
    case 'cidr':
      onlyFirst();
      return v.t === 'string' ? { t: 'cidr', network: parseCidr(v.raw, path) } : typeError(v.t);
    case 'exists':
      onlyFirst();
      return v.t === 'boolean' ? { t: 'exists', exists: v.value } : typeError(v.t);
    case 'fieldref':
      if (v.t !== 'string') return typeError(v.t);
      if (hasWildcard(v.parts)) fail('INVALID_RULE', path, 'a field reference must not contain wildcards');
      new FieldPath(plainText(v.parts), path);
      return { t: 'fieldref', field: plainText(v.parts), startsWith: false, endsWith: false };
    default: {
      const flag = REGEX_FLAGS[modifier];
      if (flag !== undefined) {
        return v.t === 're' ? { ...v, flags: { ...v.flags, [flag]: true } } : typeError(v.t);
      }
      if (UNSUPPORTED_MODIFIERS.has(modifier)) {
        throw new UnsupportedSigmaFeatureError(
          `|${modifier}`,
          path,
          `modifier "${modifier}" is not supported`,
        );
      }
      return fail('INVALID_RULE', path, `unknown modifier "${modifier}"`);
    }
  }
}

function toValueTest(v: Working, path: string, scope: RuleScope): ValueTest {
  switch (v.t) {
    case 'string':
      return { type: 'pattern', parts: v.parts, cased: v.cased };
    case 'number':
      return { type: 'pattern', parts: literalParts(String(v.value)), cased: false };
    case 'boolean':
      return { type: 'pattern', parts: literalParts(v.value ? 'true' : 'false'), cased: false };
    case 're':
      return { type: 're', regex: compileSigmaRegex(v.pattern, v.flags, path) };
    case 'cidr':
      return { type: 'cidr', network: v.network };
    case 'fieldref':
      fieldTypeOf(scope.kind, v.field, path);
      return { type: 'fieldref', field: v.field, startsWith: v.startsWith, endsWith: v.endsWith };
    default:
      return fail('INVALID_RULE', path, 'null and exists cannot be mixed with other values');
  }
}

/**
 * Refuses an item that can never match because of its field's type: a plain text that is not an integer
 * against an integer field (`responseStatus.code: 'ALLOW'`), or not `true`/`false` against a boolean one.
 */
function checkCanMatch(
  tests: readonly ValueTest[],
  linking: 'and' | 'or',
  type: FieldType,
  field: string,
  path: string,
): void {
  if (type !== 'integer' && type !== 'boolean') return;
  const dead = tests.map((t) => {
    if (t.type !== 'pattern' || hasWildcard(t.parts)) return false;
    const text = plainText(t.parts);
    return type === 'integer' ? !/^-?\d+$/.test(text) : !/^(true|false)$/i.test(text);
  });
  const never = linking === 'and' ? dead.some(Boolean) : dead.every(Boolean);
  if (never) {
    const deadTest = tests[dead.indexOf(true)];
    const value = deadTest?.type === 'pattern' ? plainText(deadTest.parts) : '';
    fail(
      'NEVER_MATCHES',
      path,
      `"${value}" can never match ${field}, which holds ${type === 'integer' ? 'an integer' : 'a boolean'}`,
    );
  }
}

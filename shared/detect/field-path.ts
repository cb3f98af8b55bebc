/**
 * Sigma field names resolved against a JSON record (the verbatim CloudTrail record, the verbatim
 * Kubernetes audit event, or an app's stored event).
 *
 * - A dotted name walks nested objects: `userIdentity.sessionContext.sessionIssuer.type`. Member names
 *   that themselves contain dots (`annotations.authorization.k8s.io/decision`) are found too: at each
 *   object, every way of grouping the remaining segments is tried.
 * - An array on the way is walked element by element, so `requestParameters.containerDefinitions.command`
 *   reaches the commands of every container. A field is then multi-valued, and a value matches when one
 *   of the field's values matches it (the rule for array fields in every SIEM Sigma targets).
 * - Only own members are read; `__proto__`, `constructor` and `prototype` are refused at load.
 *
 * `EventFields` resolves each field of a rule set at most once per event and caches the scalar texts the
 * matchers compare, lower-cased or not.
 */
import { isLosslessNumber } from '../events/json-text.ts';
import { FORBIDDEN_KEYS } from '../events/limits.ts';
import { SigmaRuleError } from './errors.ts';

/** Longest field name accepted, and most dotted segments. */
export const MAX_FIELD_NAME_LENGTH = 256;
export const MAX_FIELD_SEGMENTS = 16;

const hasOwn = Object.hasOwn;

/** A parsed field name. */
export class FieldPath {
  readonly segments: readonly string[];
  /** `joined[i][j]` = segments i..j joined by `.`, for member names that contain dots. */
  readonly #joined: readonly (readonly string[])[];

  constructor(
    readonly name: string,
    path: string,
  ) {
    if (name.length === 0 || name.length > MAX_FIELD_NAME_LENGTH) {
      throw new SigmaRuleError(
        'INVALID_RULE',
        path,
        `field name must have 1 to ${MAX_FIELD_NAME_LENGTH} characters`,
      );
    }
    const segments = name.split('.');
    if (segments.length > MAX_FIELD_SEGMENTS || segments.some((s) => s.length === 0)) {
      throw new SigmaRuleError('INVALID_RULE', path, `field name "${name}" is not a dotted path`);
    }
    const forbidden = segments.find((s) => FORBIDDEN_KEYS.has(s));
    if (forbidden !== undefined) {
      throw new SigmaRuleError(
        'INVALID_RULE',
        path,
        `field name "${name}" uses the forbidden member "${forbidden}"`,
      );
    }
    this.segments = segments;
    this.#joined = segments.map((_, i) =>
      segments.map((__, j) => (j < i ? '' : segments.slice(i, j + 1).join('.'))),
    );
  }

  /**
   * The values at this path, as stored: scalars, `null`, arrays and objects. An array is walked on the
   * way; an array at the end is one value. Empty when the path is absent.
   */
  lookup(root: unknown): unknown[] {
    const out: unknown[] = [];
    this.#walk(root, 0, out);
    return out;
  }

  #walk(value: unknown, from: number, out: unknown[]): void {
    if (from === this.segments.length) {
      out.push(value);
      return;
    }
    if (Array.isArray(value)) {
      for (const element of value) this.#walk(element, from, out);
      return;
    }
    if (typeof value !== 'object' || value === null || isLosslessNumber(value)) return;
    const object = value as Record<string, unknown>;
    const row = this.#joined[from]!;
    for (let to = from; to < this.segments.length; to++) {
      const key = row[to]!;
      if (hasOwn(object, key)) this.#walk(object[key], to + 1, out);
    }
  }
}

/**
 * The scalar texts of looked-up values: strings as they are, numbers and booleans as JSON writes them;
 * a CloudTrail record's numbers (`LosslessNumber`s) as the record wrote them.
 */
export function scalarTexts(values: readonly unknown[]): string[] {
  const out: string[] = [];
  const stack: unknown[] = [...values].reverse();
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') out.push(value);
    else if (typeof value === 'number') out.push(String(value));
    else if (isLosslessNumber(value)) out.push(value.value);
    else if (typeof value === 'boolean') out.push(value ? 'true' : 'false');
    else if (Array.isArray(value)) for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
    else if (typeof value === 'object' && value !== null) {
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object);
      for (let i = keys.length - 1; i >= 0; i--) stack.push(object[keys[i]!]);
    }
  }
  return out;
}

/** Interns field names to slots, so that a field used by many rules is resolved once per event. */
export class FieldTable {
  readonly #slots = new Map<string, number>();
  readonly paths: FieldPath[] = [];

  /** The slot of `name`, adding it on first use. */
  slot(name: string, path: string): number {
    const known = this.#slots.get(name);
    if (known !== undefined) return known;
    const slot = this.paths.length;
    this.paths.push(new FieldPath(name, path));
    this.#slots.set(name, slot);
    return slot;
  }
}

const EMPTY: readonly never[] = [];

/**
 * The fields of one record, resolved lazily. `reset` starts a new record and reuses the arrays, so
 * evaluating an event allocates only what its fields hold. Not re-entrant: one per detector.
 */
export class EventFields {
  #root: unknown = undefined;
  #epoch = 0;
  readonly #seen: number[] = [];
  readonly #raw: (readonly unknown[])[] = [];
  readonly #texts: (readonly string[] | undefined)[] = [];
  readonly #lower: (readonly string[] | undefined)[] = [];

  constructor(readonly table: FieldTable) {}

  reset(root: unknown): void {
    this.#root = root;
    this.#epoch += 1;
  }

  /** The values at the slot's path, as stored. */
  raw(slot: number): readonly unknown[] {
    if (this.#seen[slot] !== this.#epoch) {
      this.#seen[slot] = this.#epoch;
      const values = this.table.paths[slot]!.lookup(this.#root);
      this.#raw[slot] = values.length === 0 ? EMPTY : values;
      this.#texts[slot] = undefined;
      this.#lower[slot] = undefined;
    }
    return this.#raw[slot]!;
  }

  /** The scalar texts under the slot's path (objects and arrays are searched through). */
  texts(slot: number): readonly string[] {
    const raw = this.raw(slot);
    let texts = this.#texts[slot];
    if (texts === undefined) {
      texts = raw.length === 0 ? EMPTY : scalarTexts(raw);
      this.#texts[slot] = texts;
    }
    return texts;
  }

  /** `texts(slot)`, lower-cased, for case-insensitive matching. */
  lowerTexts(slot: number): readonly string[] {
    const texts = this.texts(slot);
    let lower = this.#lower[slot];
    if (lower === undefined) {
      lower = texts.length === 0 ? EMPTY : texts.map((t) => t.toLowerCase());
      this.#lower[slot] = lower;
    }
    return lower;
  }
}

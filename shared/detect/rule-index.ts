/**
 * The rule index: which rules can match an event at all, found by one or two map look-ups instead of
 * trying every rule on every event.
 *
 * Each source has up to two index fields (CloudTrail: `eventSource` and `eventName`; Kubernetes:
 * `objectRef.resource` and `verb`; apps: `action`). A rule *pins* a field when every event it matches must
 * have, among that field's values, one of a finite set of texts: the rule's condition requires an item
 * `field: value(s)` with plain values (no wildcard, no modifier but `cased`), through `and`, selections,
 * and `or`s whose every branch pins it. Under `not` nothing is pinned. The index files a rule under every
 * pinned text (lower-cased, so it over-approximates `cased`), or in the fallback list when it pins
 * nothing. A look-up returns a superset of the rules that match, in load order; the full rule then runs.
 * `test/unit/detect/rule-index.test.ts` checks with fast-check that indexed and brute-force detection
 * agree.
 */
import type { Condition } from './condition.ts';
import type { EventFields } from './field-path.ts';
import type { Detection, SigmaRule } from './sigma-rule.ts';
import { hasWildcard, plainText } from './sigma-string.ts';

/** Texts a field must take, or `undefined` when the rule does not pin the field. */
type Pins = ReadonlySet<string> | undefined;

/** The texts `rule` pins `field` to, lower-cased, or undefined. */
export function pinnedTexts(rule: SigmaRule, field: string): Pins {
  return pinsOfCondition(rule.condition, rule, field);
}

function pinsOfCondition(condition: Condition, rule: SigmaRule, field: string): Pins {
  switch (condition.type) {
    case 'ref':
      return pinsOfDetection(rule.detections.get(condition.id)!, field);
    case 'not':
      return undefined;
    case 'and':
      return narrowest(condition.args.map((c) => pinsOfCondition(c, rule, field)));
    case 'or':
      return union(condition.args.map((c) => pinsOfCondition(c, rule, field)));
  }
}

function pinsOfDetection(detection: Detection, field: string): Pins {
  if (detection.kind === 'any') return union(detection.items.map((d) => pinsOfDetection(d, field)));
  return narrowest(
    detection.items.map((item): Pins => {
      if (item.field !== field || item.test.type !== 'values') return undefined;
      const texts = new Set<string>();
      for (const value of item.test.values) {
        if (value.type !== 'pattern' || hasWildcard(value.parts)) return undefined;
        texts.add(plainText(value.parts).toLowerCase());
      }
      return texts;
    }),
  );
}

/**
 * Each pinning branch of an AND is a necessary condition on its own. They are not intersected: a
 * multi-valued field may meet each with a different value.
 */
function narrowest(all: readonly Pins[]): Pins {
  let best: Pins;
  for (const pins of all)
    if (pins !== undefined && (best === undefined || pins.size < best.size)) best = pins;
  return best;
}

function union(all: readonly Pins[]): Pins {
  if (all.some((p) => p === undefined)) return undefined;
  const out = new Set<string>();
  for (const pins of all) for (const text of pins!) out.add(text);
  return out;
}

const SEP = '\u0000';
/** Bound of the memo of merged candidate lists, per index. */
const MEMO_LIMIT = 4_096;
/** Longest memo key: hostile field values must not make the memo large. */
const MEMO_KEY_MAX = 512;

/** Rules of one source, indexed by up to two fields; entries are rule ordinals (load order). */
export class RuleIndex {
  readonly #both = new Map<string, number[]>();
  readonly #first = new Map<string, number[]>();
  readonly #second = new Map<string, number[]>();
  readonly #fallback: number[] = [];
  readonly #memo = new Map<string, readonly number[]>();

  /**
   * @param slots the field slots of the index fields in the detector's field table (one or two)
   */
  constructor(
    readonly fields: readonly string[],
    private readonly slots: readonly number[],
  ) {}

  /** Files rule number `ordinal` (ordinals must be added in increasing order). */
  add(ordinal: number, rule: SigmaRule): void {
    const [a, b] = this.fields.map((f) => pinnedTexts(rule, f));
    if (a !== undefined && b !== undefined) {
      for (const x of a) for (const y of b) push(this.#both, `${x}${SEP}${y}`, ordinal);
    } else if (a !== undefined) {
      for (const x of a) push(this.#first, x, ordinal);
    } else if (b !== undefined) {
      for (const y of b) push(this.#second, y, ordinal);
    } else {
      this.#fallback.push(ordinal);
    }
  }

  /** Number of rules that are tried on every event of this source. */
  get fallbackCount(): number {
    return this.#fallback.length;
  }

  /** The ordinals of the rules that can match the record in `fields`, ascending. */
  candidates(fields: EventFields): readonly number[] {
    const as = this.slots[0] === undefined ? [] : fields.lowerTexts(this.slots[0]);
    const bs = this.slots[1] === undefined ? [] : fields.lowerTexts(this.slots[1]);
    // Almost every record has one value in each index field: memoize the merged list for that pair.
    let key: string | undefined =
      as.length <= 1 && bs.length <= 1
        ? `${as[0] ?? ''}${SEP}${bs[0] ?? ''}${SEP}${as.length}${bs.length}`
        : undefined;
    if (key !== undefined && key.length > MEMO_KEY_MAX) key = undefined;
    if (key !== undefined) {
      const known = this.#memo.get(key);
      if (known !== undefined) return known;
    }
    const lists: (readonly number[])[] = [this.#fallback];
    for (const x of as) {
      const l = this.#first.get(x);
      if (l) lists.push(l);
      for (const y of bs) {
        const both = this.#both.get(`${x}${SEP}${y}`);
        if (both) lists.push(both);
      }
    }
    for (const y of bs) {
      const l = this.#second.get(y);
      if (l) lists.push(l);
    }
    const merged = mergeSorted(lists);
    if (key !== undefined) {
      if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
      this.#memo.set(key, merged);
    }
    return merged;
  }
}

function push(map: Map<string, number[]>, key: string, ordinal: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [ordinal]);
  else if (list[list.length - 1] !== ordinal) list.push(ordinal);
}

/** Merges ascending lists into one ascending list without duplicates. */
function mergeSorted(lists: readonly (readonly number[])[]): readonly number[] {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length === 0) return [];
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  const all = nonEmpty.flat().sort((x, y) => x - y);
  return all.filter((v, i) => i === 0 || v !== all[i - 1]);
}

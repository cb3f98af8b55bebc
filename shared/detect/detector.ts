/**
 * The detector: a validated rule set, compiled and indexed once (at cold start), then evaluated on each
 * event. An evaluation looks the event's source up, resolves its index fields, runs only the candidate
 * rules the index returns, and reports the matching rules in load order.
 *
 * Example:
 *   const { rules } = loadRuleFiles(readRuleFolder(DEFAULT_RULES_DIR));
 *   const detector = new Detector(rules);
 *   for (const rule of detector.detect(storedEvent)) console.log(rule.id, rule.title, rule.level);
 */
import { compileRule, type Predicate } from './compile-rule.ts';
import { type DetectionSubject, subjectOf } from './event-records.ts';
import { EventFields, FieldTable } from './field-path.ts';
import type { RuleScope, SourceKind } from './log-sources.ts';
import { RuleIndex } from './rule-index.ts';
import type { SigmaRule } from './sigma-rule.ts';

/** The fields each source's index uses, most selective pair first. */
export const INDEX_FIELDS: Readonly<Record<SourceKind, readonly string[]>> = {
  cloudtrail: ['eventSource', 'eventName'],
  kubernetes: ['objectRef.resource', 'verb'],
  app: ['action'],
};

interface CompiledRule {
  readonly rule: SigmaRule;
  readonly scope: RuleScope;
  readonly matches: Predicate;
}

/** How a rule set was indexed, for docs and benchmarks. */
export interface IndexStats {
  readonly rules: number;
  /** Per source: rules filed under index values, and rules tried on every event of that source. */
  readonly sources: Readonly<Record<string, { indexed: number; fallback: number }>>;
}

export class Detector {
  readonly #rules: CompiledRule[] = [];
  readonly #table = new FieldTable();
  readonly #fields = new EventFields(this.#table);
  readonly #cloudtrail: RuleIndex;
  readonly #kubernetes: RuleIndex;
  readonly #apps = new Map<string, RuleIndex>();

  /** Compiles and indexes `rules`. Rule ids must be unique (`loadRuleFiles` ensures it). */
  constructor(rules: readonly SigmaRule[]) {
    const ids = new Set<string>();
    for (const rule of rules) {
      if (ids.has(rule.id)) throw new RangeError(`duplicate rule id ${rule.id}`);
      ids.add(rule.id);
    }
    this.#cloudtrail = this.#newIndex('cloudtrail');
    this.#kubernetes = this.#newIndex('kubernetes');
    rules.forEach((rule, ordinal) => {
      this.#rules.push({ rule, scope: rule.scope, matches: compileRule(rule, this.#table) });
      this.#indexFor(rule.scope, true)!.add(ordinal, rule);
    });
  }

  /** The loaded rules, in load order. */
  get rules(): readonly SigmaRule[] {
    return this.#rules.map((r) => r.rule);
  }

  /** The rules that match a stored event (its `cloudtrail` or `kubernetes` record, or the event itself). */
  detect(event: Readonly<Record<string, unknown>>): SigmaRule[] {
    return this.detectSubject(subjectOf(event));
  }

  /** The rules that match a record of a given source. */
  detectSubject(subject: DetectionSubject): SigmaRule[] {
    const index = this.#indexFor(subject.source, false);
    if (index === undefined) return [];
    this.#fields.reset(subject.record);
    const matched: SigmaRule[] = [];
    for (const ordinal of index.candidates(this.#fields)) {
      const compiled = this.#rules[ordinal]!;
      if (inScope(compiled.scope, subject) && compiled.matches(this.#fields)) matched.push(compiled.rule);
    }
    return matched;
  }

  /** Every rule tried on the record, without the index: the reference the index is tested against. */
  detectWithoutIndex(subject: DetectionSubject): SigmaRule[] {
    this.#fields.reset(subject.record);
    return this.#rules
      .filter(
        (c) => c.scope.kind === subject.source.kind && inScope(c.scope, subject) && c.matches(this.#fields),
      )
      .map((c) => c.rule);
  }

  /** How the rules were indexed. */
  stats(): IndexStats {
    const sources: Record<string, { indexed: number; fallback: number }> = {};
    const count = (name: string, index: RuleIndex, scopeTest: (s: RuleScope) => boolean) => {
      const total = this.#rules.filter((r) => scopeTest(r.scope)).length;
      if (total > 0) sources[name] = { indexed: total - index.fallbackCount, fallback: index.fallbackCount };
    };
    count('cloudtrail', this.#cloudtrail, (s) => s.kind === 'cloudtrail');
    count('kubernetes', this.#kubernetes, (s) => s.kind === 'kubernetes');
    for (const [product, index] of this.#apps) {
      count(`app:${product}`, index, (s) => s.kind === 'app' && s.product === product);
    }
    return { rules: this.#rules.length, sources };
  }

  #newIndex(kind: SourceKind): RuleIndex {
    const fields = INDEX_FIELDS[kind];
    return new RuleIndex(
      fields,
      fields.map((f) => this.#table.slot(f, `index.${kind}`)),
    );
  }

  #indexFor(scope: { kind: SourceKind; product?: string }, create: boolean): RuleIndex | undefined {
    if (scope.kind === 'cloudtrail') return this.#cloudtrail;
    if (scope.kind === 'kubernetes') return this.#kubernetes;
    const product = scope.product!;
    let index = this.#apps.get(product);
    if (index === undefined && create) {
      index = this.#newIndex('app');
      this.#apps.set(product, index);
    }
    return index;
  }
}

function inScope(scope: RuleScope, subject: DetectionSubject): boolean {
  if (scope.kind !== 'app') return true;
  return (
    scope.product === subject.source.product &&
    (scope.service === undefined || scope.service === subject.source.service)
  );
}

/**
 * Validated rules to predicates over a record's fields. Compiled once, when a detector is built; an
 * evaluation is then closures over cached field values, with no parsing and no allocation beyond the
 * field values themselves.
 *
 * Value semantics (docs/DETECTIONS.md, "Matching"):
 * - a field matches when one of its values matches (an array field, or an array on its path, has several);
 *   a field that holds an object is searched through: its scalar leaves are its values;
 * - strings, numbers and booleans are compared as text (JSON's text for numbers and booleans), so the
 *   rule value `'false'` matches the boolean `false` and `403` matches `"403"`; case-insensitive unless `cased`;
 * - `null` matches an absent field and a field whose values are all null; `exists: true` matches a
 *   present field, even a null one (Sigma: "only verifies the presence of a field, not its value").
 */

import { inNetwork } from './cidr.ts';
import type { Condition } from './condition.ts';
import type { EventFields, FieldTable } from './field-path.ts';
import type { Detection, DetectionItem, ItemTest, SigmaRule, ValueTest } from './sigma-rule.ts';
import { compilePattern } from './sigma-string.ts';

/** A compiled predicate over one record's fields. */
export type Predicate = (fields: EventFields) => boolean;

/** Compiles a rule's condition over its detections; fields are interned in `table`. */
export function compileRule(rule: SigmaRule, table: FieldTable): Predicate {
  const compiled = new Map<string, Predicate>();
  for (const [id, detection] of rule.detections) compiled.set(id, compileDetection(detection, table));
  return compileCondition(rule.condition, compiled);
}

function compileCondition(condition: Condition, detections: ReadonlyMap<string, Predicate>): Predicate {
  switch (condition.type) {
    case 'ref':
      return detections.get(condition.id)!;
    case 'not': {
      const arg = compileCondition(condition.arg, detections);
      return (f) => !arg(f);
    }
    case 'and':
      return every(condition.args.map((c) => compileCondition(c, detections)));
    case 'or':
      return some(condition.args.map((c) => compileCondition(c, detections)));
  }
}

function compileDetection(detection: Detection, table: FieldTable): Predicate {
  return detection.kind === 'all'
    ? every(detection.items.map((item) => compileItem(item, table)))
    : some(detection.items.map((d) => compileDetection(d, table)));
}

function every(predicates: readonly Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0]!;
  return (f) => {
    for (const p of predicates) if (!p(f)) return false;
    return true;
  };
}

function some(predicates: readonly Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0]!;
  return (f) => {
    for (const p of predicates) if (p(f)) return true;
    return false;
  };
}

function compileItem(item: DetectionItem, table: FieldTable): Predicate {
  const slot = table.slot(item.field, item.path);
  return compileTest(item.test, slot, table, item.path);
}

function compileTest(test: ItemTest, slot: number, table: FieldTable, path: string): Predicate {
  switch (test.type) {
    case 'null':
      return (f) => f.raw(slot).every((v) => v === null);
    case 'exists': {
      const wanted = test.exists;
      return (f) => f.raw(slot).length > 0 === wanted;
    }
    case 'values': {
      const values = test.values.map((v) => compileValue(v, slot, table, path));
      return test.linking === 'and' ? every(values) : some(values);
    }
  }
}

function compileValue(test: ValueTest, slot: number, table: FieldTable, path: string): Predicate {
  switch (test.type) {
    case 'pattern': {
      const pattern = compilePattern(test.parts, test.cased);
      return pattern.cased
        ? (f) => f.texts(slot).some(pattern.test)
        : (f) => f.lowerTexts(slot).some(pattern.test);
    }
    case 're': {
      const { regex } = test;
      return (f) => f.texts(slot).some((t) => regex.test(t));
    }
    case 'cidr': {
      const { network } = test;
      return (f) => f.texts(slot).some((t) => inNetwork(t, network));
    }
    case 'fieldref': {
      const other = table.slot(test.field, path);
      const { startsWith, endsWith } = test;
      const related = (a: string, b: string): boolean =>
        startsWith && endsWith
          ? a.includes(b)
          : startsWith
            ? a.startsWith(b)
            : endsWith
              ? a.endsWith(b)
              : a === b;
      return (f) => {
        const refs = f.lowerTexts(other);
        return refs.length > 0 && f.lowerTexts(slot).some((a) => refs.some((b) => related(a, b)));
      };
    }
  }
}

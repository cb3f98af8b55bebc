/**
 * Rule sets: rule files read from folders, parsed, validated and de-duplicated once. A refused rule is
 * reported with its file and reason; what the caller does with refusals is its policy (the detection
 * function takes the shipped set's documented refusals and fails its cold start on any other, so an
 * operator's rule is never dropped silently).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SigmaRuleError } from './errors.ts';
import { MAX_RULE_FILE_BYTES, parseSigmaRule, type RuleFile, type SigmaRule } from './sigma-rule.ts';

/** The shipped rules: SigmaHQ's AWS CloudTrail and Kubernetes audit rules, unmodified (DRL 1.1). */
export const DEFAULT_RULES_DIR = fileURLToPath(new URL('./rules/sigma/', import.meta.url));
/** Most rule files read from one folder tree. */
export const MAX_RULE_FILES = 10_000;

/** A rule that was not loaded, and why. */
export interface RefusedRule {
  readonly file: string;
  readonly error: SigmaRuleError;
}

export interface RuleSet {
  /** Loaded rules, in file-name order. */
  readonly rules: readonly SigmaRule[];
  readonly refused: readonly RefusedRule[];
}

/**
 * Parses every file; a rule whose id an earlier file already has is refused (`DUPLICATE_RULE_ID`).
 * Errors other than `SigmaRuleError` are bugs and propagate.
 */
export function loadRuleFiles(files: readonly RuleFile[]): RuleSet {
  const rules: SigmaRule[] = [];
  const refused: RefusedRule[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    try {
      const rule = parseSigmaRule(file);
      const earlier = seen.get(rule.id);
      if (earlier !== undefined) {
        const error = new SigmaRuleError(
          'DUPLICATE_RULE_ID',
          'id',
          `rule id ${rule.id} is already used by ${earlier}`,
        );
        error.source = file.name;
        throw error;
      }
      seen.set(rule.id, file.name);
      rules.push(rule);
    } catch (error) {
      if (!(error instanceof SigmaRuleError)) throw error;
      refused.push({ file: file.name, error });
    }
  }
  return { rules, refused };
}

/**
 * Every `.yml`/`.yaml` file under `dir`, in sorted path order, named by its path relative to `dir` with
 * `/` separators (prefixed by `prefix`). Oversized files are read as empty text marked too large, so they
 * are refused like any other bad rule. Throws on I/O errors and beyond `MAX_RULE_FILES` files.
 */
export function readRuleFolder(dir: string, prefix = ''): RuleFile[] {
  const paths: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) {
        paths.push(full);
        if (paths.length > MAX_RULE_FILES)
          throw new RangeError(`more than ${MAX_RULE_FILES} rule files under ${dir}`);
      }
    }
  };
  walk(dir);
  const name = (full: string) => prefix + relative(dir, full).split(sep).join('/');
  return paths
    .map((full) => ({ full, name: name(full) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ full, name }) => ({
      name,
      // Reading past the limit is pointless: one byte more is enough for the parser to refuse it.
      text:
        statSync(full).size > MAX_RULE_FILE_BYTES
          ? 'x'.repeat(MAX_RULE_FILE_BYTES + 1)
          : readFileSync(full, 'utf8'),
    }));
}

/** The shipped rule set. */
export function loadDefaultRules(): RuleSet {
  return loadRuleFiles(readRuleFolder(DEFAULT_RULES_DIR));
}

/** The rule set was not what the operator configured: names every problem. */
export class RuleSetError extends Error {
  override readonly name = 'RuleSetError';
  constructor(readonly problems: readonly string[]) {
    super(`the detection rules cannot be loaded: ${problems.join('; ')}`);
  }
}

/** What the detection function runs, and what it left out on purpose. */
export interface OperatorRuleSet {
  readonly rules: readonly SigmaRule[];
  /** Shipped rules the evaluator refuses: documented in docs/DETECTIONS.md §8, expected. */
  readonly refusedShipped: readonly RefusedRule[];
  /** Rules loaded but not run, by the operator's choice. */
  readonly disabled: readonly SigmaRule[];
}

/**
 * The detection function's policy: the shipped rules (whose refusals are documented and expected), then
 * the operator's own files (from a folder or a bucket prefix), minus the disabled rule ids. Any refusal
 * of an operator's file, and any disabled id that names no rule, throws `RuleSetError` with the whole
 * list: an operator's rule is never dropped silently, and a typo never leaves a noisy rule running.
 */
export function buildRuleSet(options: {
  readonly shipped: readonly RuleFile[];
  readonly operator?: readonly RuleFile[];
  readonly disabled?: readonly string[];
}): OperatorRuleSet {
  const shippedNames = new Set(options.shipped.map((f) => f.name));
  const operatorNames = new Set<string>();
  for (const file of options.operator ?? []) {
    if (shippedNames.has(file.name) || operatorNames.has(file.name)) {
      throw new RuleSetError([`two rule files are named ${file.name}`]);
    }
    operatorNames.add(file.name);
  }
  const set = loadRuleFiles([...options.shipped, ...(options.operator ?? [])]);
  const problems = set.refused
    .filter((r) => !shippedNames.has(r.file))
    .map((r) => `${r.file}: ${r.error.code} at ${r.error.path}: ${r.error.message}`);
  const disabledIds = new Set(options.disabled ?? []);
  for (const id of disabledIds) {
    if (!set.rules.some((r) => r.id === id)) problems.push(`disabled rule id ${id} names no loaded rule`);
  }
  if (problems.length > 0) throw new RuleSetError(problems);
  return {
    rules: set.rules.filter((r) => !disabledIds.has(r.id)),
    refusedShipped: set.refused,
    disabled: set.rules.filter((r) => disabledIds.has(r.id)),
  };
}

/**
 * Rule sets for the detection benchmark: `count` realistic Sigma rules made by varying the shipped ones.
 *
 * Rule i is shipped rule `i mod n` (in file order, refused ones left out), with a new id and title, and
 * with its pinned values moved elsewhere in the real vocabulary: every plain `eventSource` value becomes
 * one source seen in the shared CloudTrail data, every plain `eventName` list becomes as many names of
 * that source; a Kubernetes rule's `objectRef.resource` becomes another real resource. Modifiers,
 * filters, conditions and rules that pin nothing are kept as they are, so the generated set has the
 * shipped set's shape: the same share of fallback rules, regular expressions, `contains`, `not` filters.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { DEFAULT_RULES_DIR, loadRuleFiles, readRuleFolder } from '../shared/detect/load-rules.ts';
import type { RuleFile } from '../shared/detect/sigma-rule.ts';
import { sharedDataPath } from '../test/support/shared-data.ts';
import { prng } from './synthetic-events.ts';

const K8S_RESOURCES = [
  'pods',
  'deployments',
  'secrets',
  'configmaps',
  'services',
  'serviceaccounts',
  'roles',
  'rolebindings',
  'clusterroles',
  'clusterrolebindings',
  'namespaces',
  'daemonsets',
  'statefulsets',
  'jobs',
  'cronjobs',
  'ingresses',
  'networkpolicies',
  'persistentvolumeclaims',
];

/** eventSource → the eventNames seen with it in all_permissive.jsonl. */
export function cloudTrailVocabulary(): Map<string, string[]> {
  const vocabulary = new Map<string, Set<string>>();
  for (const line of readFileSync(sharedDataPath('cloudtrail', 'all_permissive.jsonl'), 'utf8').split('\n')) {
    if (line.length === 0) continue;
    const { eventSource, eventName } = JSON.parse(line) as { eventSource?: unknown; eventName?: unknown };
    if (typeof eventSource !== 'string' || typeof eventName !== 'string') continue;
    const names = vocabulary.get(eventSource) ?? new Set<string>();
    names.add(eventName);
    vocabulary.set(eventSource, names);
  }
  return new Map([...vocabulary].map(([source, names]) => [source, [...names].sort()]));
}

/** The shipped rule files that load. */
export function supportedShippedRules(): RuleFile[] {
  const files = readRuleFolder(DEFAULT_RULES_DIR);
  const refused = new Set(loadRuleFiles(files).refused.map((r) => r.file));
  return files.filter((f) => !refused.has(f.name));
}

/** `count` rule files varied from the shipped ones; throws if any of them would be refused. */
export function generateRules(count: number, seed = 42): RuleFile[] {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const vocabulary = cloudTrailVocabulary();
  const sources = [...vocabulary.keys()];
  const shipped = supportedShippedRules();
  const files: RuleFile[] = [];
  for (let i = 0; i < count; i++) {
    const base = shipped[i % shipped.length]!;
    const rule = parse(base.text) as Record<string, unknown>;
    rule['id'] = `bench-rule-${i}`;
    rule['title'] = `${String(rule['title'])} (variant ${i})`;
    const source = pick(sources);
    const names = vocabulary.get(source)!;
    const detection = rule['detection'] as Record<string, unknown>;
    for (const [id, definition] of Object.entries(detection)) {
      if (id === 'condition') continue;
      const maps = Array.isArray(definition) ? definition : [definition];
      for (const map of maps as Record<string, unknown>[]) {
        for (const key of Object.keys(map)) {
          const count = Array.isArray(map[key]) ? (map[key] as unknown[]).length : 1;
          const several = (values: readonly string[]) => {
            const chosen = Array.from({ length: count }, () => pick(values));
            return count === 1 ? chosen[0] : [...new Set(chosen)];
          };
          if (key === 'eventSource') map[key] = source;
          else if (key === 'eventName') map[key] = several(names);
          else if (key === 'objectRef.resource') map[key] = several(K8S_RESOURCES);
        }
      }
    }
    files.push({ name: `bench/${i}-${base.name}`, text: stringify(rule) });
  }
  const { refused } = loadRuleFiles(files);
  if (refused.length > 0)
    throw new Error(`generated rule ${refused[0]!.file} refused: ${refused[0]!.error.message}`);
  return files;
}
